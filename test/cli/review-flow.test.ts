/**
 * The reviewers' workflow through the built binary, with native git doing the clone, push and
 * status side: a non-bare clone stays clean after every dbsnap command, and a pushed data branch
 * diffs against origin/main.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decimal128 } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase, type TestDatabase } from '../support/test-db.js';
import { loadShop } from '../support/shop.js';

const BIN = new URL('../../bin/dbsnap.js', import.meta.url).pathname;
const GIT_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: tmpdir(), GIT_AUTHOR_NAME: 'x', GIT_AUTHOR_EMAIL: 'x@x', GIT_COMMITTER_NAME: 'x', GIT_COMMITTER_EMAIL: 'x@x' };
const KEY = 'ab'.repeat(32);

let tmp = '';
let t: TestDatabase;

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: GIT_ENV, stdio: ['pipe', 'pipe', 'pipe'] });
}

function dbsnap(cwd: string, args: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', MONGODB_URI: t.dbUri, DBSNAP_REPO: '.', ...env },
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function ok(cwd: string, args: string[], env: Record<string, string> = {}): string {
  const r = dbsnap(cwd, args, env);
  if (r.code !== 0) throw new Error(`dbsnap ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'dbsnap-review-'));
  t = await useTestDatabase('review');
  await loadShop(t.db, { totalDocs: 300, seed: 7 });
  // The shared "origin": a bare repository dbsnap made, with one snapshot on main.
  ok(tmp, ['init', '--repo', 'origin.git']);
  ok(tmp, ['commit', '--repo', 'origin.git', '-m', 'shop as it is']);
});

afterAll(async () => {
  await t?.drop();
  await rm(tmp, { recursive: true, force: true });
});

describe('reviewing data changes with native git', () => {
  it('clone -> switch --create -> commit -> push; diff origin/main..origin/branch shows the change', async () => {
    const work = join(tmp, 'work');
    git(tmp, 'clone', '--quiet', 'origin.git', 'work');
    expect(git(work, 'status', '--porcelain')).toBe('');

    expect(ok(work, ['switch', '--create', 'data/price-fix'])).toMatch(/^Switched to a new branch 'data\/price-fix' \([0-9a-f]{7}\)\n$/);
    expect(git(work, 'branch', '--show-current').trim()).toBe('data/price-fix');

    const product = await t.db.collection('products').findOne({}, { sort: { _id: 1 } });
    await t.db.collection('products').updateOne({ _id: product!._id }, { $set: { price: Decimal128.fromString('12.34') } });
    expect(ok(work, ['commit', '-m', 'fix a price'])).toMatch(/^\[[0-9a-f]{7}\] fix a price\n[^]* M products: 54 documents/);
    expect(git(work, 'status', '--porcelain')).toBe('');
    expect(git(work, 'log', '-1', '--format=%s')).toBe('fix a price\n');
    // Exactly the part holding that product changed (and the metadata beside it).
    const changed = git(work, 'diff', '--name-only', 'origin/main', 'HEAD').trim().split('\n');
    expect(changed.filter((f) => f.includes('/parts/'))).toHaveLength(1);
    expect(changed.every((f) => f.startsWith('collections/products/') || f === 'manifest.json')).toBe(true);
    const part = changed.find((f) => f.includes('/parts/'))!;
    expect(await readFile(join(work, part), 'utf8')).toContain('"price": {"$numberDecimal": "12.34"}');

    // GitHub collapses what is marked generated: dbsnap's metadata, not the part.
    expect(git(work, 'check-attr', 'linguist-generated', '--', part, 'manifest.json', 'collections/products/collection.json')).toBe(
      `${part}: linguist-generated: false\nmanifest.json: linguist-generated: true\ncollections/products/collection.json: linguist-generated: true\n`,
    );

    git(work, 'push', '--quiet', '-u', 'origin', 'data/price-fix');

    // The main side: another clone fetches the branch and reviews it.
    const review = join(tmp, 'review');
    git(tmp, 'clone', '--quiet', 'origin.git', 'review');
    const md = ok(review, ['diff', 'origin/main..origin/data/price-fix', '--format', 'markdown']);
    expect(md).toContain('### dbsnap diff origin/main..origin/data/price-fix');
    expect(md).toContain('| `products` | 0 | 0 | 1 |');
    expect(md).toContain(`\`ObjectId ${product!._id.toHexString()}\``);
    expect(md).toMatch(/^ {2}- `price`: `[^`]+` → `[^`]*12\.34`$/m);
    expect(ok(review, ['log', 'origin/data/price-fix', '-n', '1'])).toContain('fix a price');
    expect(git(review, 'status', '--porcelain')).toBe('');

    // branch lists both, * on the checked-out one; switching back restores main's files.
    expect(ok(work, ['branch'])).toMatch(/^\* data\/price-fix\t[0-9a-f]{7}\n {2}main\t[0-9a-f]{7}\n$/);
    ok(work, ['switch', 'main']);
    expect(await readFile(join(work, part), 'utf8')).not.toContain('"price": {"$numberDecimal": "12.34"}');
    expect(git(work, 'status', '--porcelain')).toBe('');
    // Merged into nothing yet: deleting needs --force.
    expect(dbsnap(work, ['branch', '--delete', 'data/price-fix'])).toMatchObject({ code: 2, stderr: expect.stringContaining('HEAD does not contain') });
  }, 180_000);

  it('git status stays clean after commit, commit --branch, tag, config, relations --accept, rekey and restore', async () => {
    const work = join(tmp, 'clean');
    git(tmp, 'clone', '--quiet', 'origin.git', 'clean');
    const clean = (what: string) => expect(git(work, 'status', '--porcelain'), what).toBe('');
    const head = () => git(work, 'rev-parse', 'HEAD').trim();

    await t.db.collection('users').updateOne({}, { $set: { note: 'changed for the test' } });
    let before = head();
    ok(work, ['commit', '-m', 'users changed']);
    expect(head()).not.toBe(before);
    clean('commit');

    await t.db.collection('users').updateOne({}, { $set: { note: 'changed again' } });
    before = head();
    expect(ok(work, ['commit', '--branch', 'side', '-m', 'on the side'])).toContain('on the side');
    expect(head()).toBe(before); // the checked-out branch did not move
    expect(git(work, 'rev-parse', 'side^').trim()).toBe(before); // the new branch grew from HEAD
    clean('commit --branch');

    ok(work, ['tag', 'v1', '-m', 'tagged']);
    clean('tag');

    before = head();
    ok(work, ['config', 'protectedHosts', '["prod.example.com"]']);
    expect(head()).not.toBe(before);
    expect(JSON.parse(await readFile(join(work, 'dbsnap.json'), 'utf8')).protectedHosts).toEqual(['prod.example.com']);
    clean('config');

    before = head();
    ok(work, ['relations', '--infer', '--accept']);
    expect(head()).not.toBe(before);
    expect(JSON.parse(await readFile(join(work, 'dbsnap.json'), 'utf8')).relations).toContainEqual({ from: 'orders.userId', to: 'users._id' });
    clean('relations --accept');

    ok(work, ['config', 'sensitive.users', '["email"]']);
    ok(work, ['commit', '-m', 'emails encrypted'], { DBSNAP_KEY: KEY });
    before = head();
    ok(work, ['rekey'], { DBSNAP_OLD_KEY: KEY, DBSNAP_KEY: 'cd'.repeat(32) });
    expect(head()).not.toBe(before);
    clean('rekey');

    // restore's safety snapshot is a commit on refs/dbsnap/safety/...; HEAD and the files stay.
    before = head();
    await t.db.collection('users').deleteMany({});
    const r = JSON.parse(ok(work, ['restore', 'HEAD', '--yes', '--collections', 'users', '--json'], { DBSNAP_KEY: 'cd'.repeat(32) }));
    expect(r.safetySnapshot.ref).toMatch(/^refs\/dbsnap\/safety\//);
    expect(head()).toBe(before);
    clean('restore');

    // A hand edit to a snapshot file: commit refuses, naming it, and changes nothing.
    const manifest = join(work, 'manifest.json');
    await writeFile(manifest, (await readFile(manifest, 'utf8')) + ' ');
    await t.db.collection('users').updateOne({}, { $set: { note: 'third change' } });
    const refused = dbsnap(work, ['commit', '-m', 'refused'], { DBSNAP_KEY: 'cd'.repeat(32) });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^error: dbsnap commit: the work tree of .* has uncommitted changes: manifest\.json \(modified\)\. Nothing was changed\./);
    expect(head()).toBe(before);
    git(work, 'checkout', '--', 'manifest.json');
    ok(work, ['commit', '-m', 'accepted'], { DBSNAP_KEY: 'cd'.repeat(32) });
    clean('commit after the refusal');
    git(work, 'fsck', '--strict', '--no-dangling');
  }, 300_000);
});
