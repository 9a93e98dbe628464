/**
 * A full disk (ENOSPC, at the first write and part-way through) and a read-only repository
 * (EROFS), injected into the real binary, and two of every writing command at once. Each
 * failure is one line naming the cause and what is true now; the repository stays sound.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadShop } from '../support/shop.js';
import { useRepositoryAndDatabase } from '../support/temp-repo.js';
import type { TestDatabase } from '../support/test-db.js';
import { fsckProblems, NATIVE_GIT, revParse, runDbsnap, tempFiles } from './support.js';

let repo = '';
let t: TestDatabase;

useRepositoryAndDatabase('envfault', async (s) => {
  ({ repo, t } = s);
  await loadShop(t.db, { totalDocs: 600, seed: 5 });
  const first = await runDbsnap(['commit', '--repo', repo, '--uri', t.dbUri, '-m', 'first']);
  expect(first.code, first.stderr).toBe(0);
});

function expectSound(head: string, what: string): void {
  if (NATIVE_GIT) expect(revParse(repo, 'HEAD'), what).toBe(head);
  expect(existsSync(join(repo, 'dbsnap.lock')), `${what}: lock left`).toBe(false);
  expect(tempFiles(repo), what).toEqual([]);
  expect(fsckProblems(repo), what).toBe('');
}

describe('a full disk and a read-only repository', () => {
  const writes: [string, string[]][] = [
    ['commit', ['commit', '-m', 'x', '--allow-empty']],
    ['tag', ['tag', 'v-fault', '-m', 'annotated']],
    ['config', ['config', 'exclude', '["nothing"]']],
  ];
  it.each([
    ['ENOSPC', 0, /^error: cannot write \S+: the disk is full \(ENOSPC\); (nothing was committed and HEAD did not move|no tag was created, moved or deleted|the config was not changed and HEAD did not move)\. Free some space and run the command again\.\n$/],
    ['ENOSPC', 20_000, /^error: cannot write \S+: the disk is full \(ENOSPC\); /],
    ['EROFS', 0, /^error: cannot write \S+: the file system is read-only \(EROFS\); .*Use a writable --repo, or remount it read-write\.\n$/],
  ] as const)('%s after %d bytes: one line, exit 2, nothing moved or left behind', async (errno, afterBytes, message) => {
    await t.db.collection('orders').updateMany({}, { $inc: { n: 1 } });
    // Part-way through only a commit writes enough to reach the budget.
    for (const [name, argv] of afterBytes > 0 ? writes.slice(0, 1) : writes) {
      const head = revParse(repo, 'HEAD');
      const r = await runDbsnap([...argv, '--repo', repo, '--uri', t.dbUri], { fault: { path: repo, errno, afterBytes } });
      expect(r.code, `${name}: ${r.stderr}`).toBe(2);
      expect(r.stderr, name).toMatch(message);
      expect(revParse(repo, 'refs/tags/v-fault')).toBe('');
      expectSound(head, `${name} on ${errno}`);
    }
    // Once space is back, the same commands work.
    const ok = await runDbsnap(['commit', '-m', 'space again', '--repo', repo, '--uri', t.dbUri]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(fsckProblems(repo)).toBe('');
  });

  it('reading a read-only repository still works', async () => {
    for (const argv of [['log'], ['show', 'HEAD'], ['verify']]) {
      const r = await runDbsnap([...argv, '--repo', repo], { fault: { path: repo, errno: 'EROFS' } });
      expect(r.code, `${argv[0]}: ${r.stderr}`).toBe(0);
    }
  });
});

describe('two of every writing command at once', () => {
  it.each([
    ['commit + commit', ['commit', '-m', 'a', '--allow-empty'], ['commit', '-m', 'b', '--allow-empty']],
    ['tag + tag', ['tag', 'same', '-m', 'one'], ['tag', 'same', '-m', 'two']],
    ['config + config', ['config', 'exclude', '["a"]'], ['config', 'exclude', '["b"]']],
    ['commit + config', ['commit', '-m', 'c', '--allow-empty'], ['config', 'exclude', '[]']],
    ['rekey + commit', ['rekey'], ['commit', '-m', 'd', '--allow-empty']],
  ])('%s: each finishes or refuses in one line; the repository stays sound', async (_what, a, b) => {
    const common = ['--repo', repo, '--uri', t.dbUri];
    const e = { DBSNAP_KEY: 'ab'.repeat(32), DBSNAP_OLD_KEY: 'ab'.repeat(32) };
    const before = revParse(repo, 'HEAD');
    const [ra, rb] = await Promise.all([runDbsnap([...a, ...common], { env: e }), runDbsnap([...b, ...common], { env: e })]);
    for (const r of [ra, rb]) {
      expect([0, 2]).toContain(r.code);
      if (r.code === 2) expect(r.stderr).toMatch(/^error: [^\n]*(locked by process \d+|was changed by another process|already exists)[^\n]*\n$/);
      else expect(r.stderr).not.toMatch(/error/);
    }
    expect(ra.code === 0 || rb.code === 0).toBe(true);
    if (NATIVE_GIT) {
      // HEAD is a descendant of the old HEAD and every object it reaches is there.
      const head = revParse(repo, 'HEAD');
      expect(head === before || revParse(repo, 'HEAD~1') === before || revParse(repo, 'HEAD~2') === before).toBe(true);
    }
    expect(existsSync(join(repo, 'dbsnap.lock'))).toBe(false);
    expect(fsckProblems(repo)).toBe('');
  });
});
