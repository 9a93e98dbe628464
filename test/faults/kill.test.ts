/**
 * kill -9 of the real binary at spread-out points of commit, restore, tag, config and rekey.
 * After each kill: HEAD is where it was or at a complete new commit (native `git fsck --full`
 * finds every object it reaches), each target collection is as before or as the snapshot; after
 * the next run, no temp file, lock or temporary collection is left and fsck warns of nothing.
 *
 * Kill points are fractions of an uninterrupted run's duration measured first, so they land in
 * different phases on a fast or a loaded machine; their number is bounded to keep the suite short.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/index.js';
import { TEMP_PREFIX } from '../../src/mongo/writer.js';
import { loadShop } from '../support/shop.js';
import { FIXED } from '../support/temp-repo.js';
import { useTestDatabase, type TestDatabase } from '../support/test-db.js';
import { fsckProblems, git, NATIVE_GIT, revParse, runDbsnap, tempFiles } from './support.js';

const KEY = 'ab'.repeat(32);
const NEW_KEY = 'cd'.repeat(32);
const FRACTIONS = [0.3, 0.6, 0.9];

let dir = '';
let repo = '';
let t: TestDatabase;
const env = () => ({ DBSNAP_KEY: KEY });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dbsnap-kill-'));
  repo = join(dir, 'backup-repo');
  await init({ repo, ...FIXED });
  t = await useTestDatabase('kill');
  await loadShop(t.db, { totalDocs: 3000, seed: 11 });
});
afterAll(async () => {
  await t?.drop();
  await rm(dir, { recursive: true, force: true });
});

/** Each collection of the target as a hash of its raw documents in `_id` order. */
async function targetState(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const c of await t.db.listCollections({}, { nameOnly: true }).toArray()) {
    const h = createHash('sha256');
    const docs = (await t.db.collection(c.name).find({}, { raw: true, sort: { _id: 1 } }).toArray()) as unknown as Uint8Array[];
    for (const d of docs) h.update(d);
    out[c.name] = h.digest('hex');
  }
  return out;
}

/** HEAD after a kill is `before`, or a new commit whose first parent is `before`, and complete. */
function expectHeadSound(before: string, what: string): string {
  const head = revParse(repo, 'HEAD');
  if (head !== before) expect(revParse(repo, 'HEAD~1'), `${what}: HEAD moved to a commit not on top of the old HEAD`).toBe(before);
  // Connectivity and object integrity of everything reachable (garbage temp files aside: the
  // next run removes them, checked below).
  const fsck = git(repo, ['fsck', '--full', '--strict', '--no-dangling']);
  expect(fsck.ok, `${what}: git fsck after the kill: ${fsck.out}`).toBe(true);
  expect(fsck.out).not.toMatch(/missing|broken|error/i);
  return head;
}

/** After the next complete run: nothing left behind. */
function expectClean(what: string): void {
  expect(tempFiles(repo), what).toEqual([]);
  expect(existsSync(join(repo, 'dbsnap.lock')), `${what}: lock left`).toBe(false);
  expect(fsckProblems(repo), what).toBe('');
}

async function timed(argv: string[], e: NodeJS.ProcessEnv = env()): Promise<number> {
  const started = Date.now();
  const r = await runDbsnap(argv, { env: e });
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return Date.now() - started;
}

describe.runIf(NATIVE_GIT)('kill -9 at many points', { timeout: 300_000 }, () => {
  it('commit: HEAD unmoved or at a complete commit; the next commit cleans up', async () => {
    const argv = ['commit', '--repo', repo, '--uri', t.dbUri, '--no-server-hashes'];
    const full = await timed([...argv, '-m', 'baseline']);
    for (const [i, f] of FRACTIONS.entries()) {
      await t.db.collection('orders').updateMany({}, { $set: { round: i } });
      const before = revParse(repo, 'HEAD');
      const r = await runDbsnap([...argv, '-m', `doomed ${i}`], { env: env(), killAfterMs: Math.round(full * f) });
      expectHeadSound(before, `commit killed at ${f}`);
      if (!r.killed) expect(r.code).toBe(0);
      const next = await runDbsnap([...argv, '-m', `after ${i}`, '--allow-empty'], { env: env() });
      expect(next.stderr).toBe('');
      expectClean(`commit after a kill at ${f}`);
    }
  });

  it('restore: each collection as before or as the snapshot; the next restore completes and leaves nothing', async () => {
    const snapshot = await targetState();
    const argv = ['restore', 'HEAD', '--repo', repo, '--uri', t.dbUri, '--yes', '--read-back'];
    await t.db.collection('orders').deleteMany({ round: { $exists: true } });
    await t.db.collection('users').updateMany({}, { $set: { changed: true } });
    const full = await timed(argv);
    expect(await targetState()).toEqual(snapshot);
    for (const f of FRACTIONS) {
      await t.db.collection('orders').deleteMany({});
      await t.db.collection('users').updateMany({}, { $set: { changed: f } });
      const before = await targetState();
      const head = revParse(repo, 'HEAD');
      await runDbsnap(argv, { env: env(), killAfterMs: Math.round(full * f) });
      expect(revParse(repo, 'HEAD')).toBe(head);
      expectHeadSound(head, `restore killed at ${f}`);
      const after = await targetState();
      for (const name of Object.keys(snapshot)) {
        expect([before[name], snapshot[name]], `${name} after a restore killed at ${f}`).toContain(after[name]);
      }
      const next = await runDbsnap(argv, { env: env() });
      expect(next.code, next.stderr).toBe(0);
      expect(await targetState()).toEqual(snapshot);
      const names = (await t.db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
      expect(names.filter((n) => n.startsWith(TEMP_PREFIX))).toEqual([]);
      expectClean(`restore after a kill at ${f}`);
    }
  });

  it('tag, config and rekey: HEAD and tags unmoved or complete; the next run cleans up', async () => {
    await timed(['config', 'sensitive.users', '["email"]', '--repo', repo]);
    await timed(['commit', '--repo', repo, '--uri', t.dbUri, '--allow-empty', '-m', 'with a key']);
    // rekey alternates between two keys; `current` is the key HEAD is encrypted under.
    let current = KEY;
    const other = () => (current === KEY ? NEW_KEY : KEY);
    const jobs: [string, () => string[], () => NodeJS.ProcessEnv][] = [
      ['tag', () => ['tag', 'kill-tag', '-m', 'annotated', '--force', '--repo', repo], env],
      ['config', () => ['config', 'protectedHosts', '["prod.example.net"]', '--repo', repo], env],
      ['rekey', () => ['rekey', '--repo', repo], () => ({ DBSNAP_OLD_KEY: current, DBSNAP_KEY: other() })],
    ];
    for (const [name, argv, e] of jobs) {
      const started = Date.now();
      const first = await runDbsnap(argv(), { env: e() });
      expect(first.code, first.stderr).toBe(0);
      const full = Date.now() - started;
      if (name === 'rekey') current = other();
      for (const f of [0.7]) {
        const before = revParse(repo, 'HEAD');
        await runDbsnap(argv(), { env: e(), killAfterMs: Math.round(full * f) });
        const head = expectHeadSound(before, `${name} killed at ${f}`);
        if (name === 'tag') expect(revParse(repo, 'refs/tags/kill-tag')).not.toBe('');
        if (name === 'rekey' && head !== before) current = other();
        const next = await runDbsnap(argv(), { env: e() });
        expect(next.code, next.stderr).toBe(0);
        if (name === 'rekey') current = other();
        expectClean(`${name} after a kill at ${f}`);
      }
    }
  });
});
