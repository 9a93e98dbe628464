/** git's habits through the real binary: log --oneline/--format/ranges/--all, diff names, A...B, show --stat, commit's A/M/D. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../src/index.js';
import { SnapshotRepository } from '../../src/store/index.js';
import { useTestDatabase, type TestDatabase } from '../support/test-db.js';
import { dbsnapBinary } from './binary.js';

const FIXED = { author: { name: 'Test', email: 'test@example.com' }, now: new Date('2025-01-02T03:04:05Z') };
let dir = '';
let repo = '';
let t: TestDatabase;
const out: Record<string, string> = {};
const hash: Record<string, string> = {};

const run = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const r = await dbsnapBinary([...args, '--repo', repo], { env });
  expect(r.stderr, args.join(' ')).toBe('');
  expect(r.code, args.join(' ')).toBe(0);
  return r.stdout;
};
const lines = (s: string) => s.split('\n').filter(Boolean);

beforeAll(async () => {
  t = await useTestDatabase('git_dialect');
  dir = await mkdtemp(join(tmpdir(), 'dbsnap-git-dialect-'));
  repo = join(dir, 'backup-repo');
  await init({ repo, ...FIXED });
  await t.db.collection('users').insertMany([{ _id: 1, name: 'a' }, { _id: 2, name: 'b' }, { _id: 3, name: 'c' }]);
  await t.db.collection('orders').insertMany([{ _id: 1, qty: 1 }, { _id: 2, qty: 2 }]);
  out.one = await run(['commit', '--uri', t.dbUri, '-m', 'one']);
  await run(['tag', 'v1']);
  await t.db.collection('users').insertOne({ _id: 4, name: 'd' });
  await t.db.collection('orders').updateOne({ _id: 2 }, { $set: { qty: 3 } });
  await t.db.collection('reviews').insertOne({ _id: 1, stars: 5 });
  out.two = await run(['commit', '--uri', t.dbUri, '-m', 'two']);
  await t.db.collection('orders').drop();
  out.three = await run(['commit', '--uri', t.dbUri, '-m', 'three']);
  const r = await SnapshotRepository.open(repo);
  for (const [name, n] of [['three', 0], ['two', 1], ['one', 2]] as const) hash[name] = await r.resolveCommit(`HEAD~${n}`);
  // A branch that left main at v1: its own commit holding the "two" tree.
  const two = await r.readCommit(hash.two!);
  hash.feature = await r.writeCommit({ tree: two.tree, parents: [hash.one!], message: 'feature\n', author: { ...FIXED.author, timestamp: 1735787046, timezoneOffset: 0 } });
  await r.updateRef('refs/heads/feature', hash.feature, null);
}, 300_000);

afterAll(async () => {
  await t?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('commit output', () => {
  it('marks new collections A, changed M, dropped D, with the changed documents', () => {
    expect(out.one).toMatch(/^ A orders: 2 documents in 1 part, 2 added\n/m);
    expect(out.one).toMatch(/^ A users: 3 documents in 1 part, 3 added\n/m);
    expect(out.two).toMatch(/^ M orders: 2 documents in 1 part, 1 changed\n/m);
    expect(out.two).toMatch(/^ A reviews: 1 documents in 1 part, 1 added\n/m);
    expect(out.two).toMatch(/^ M users: 4 documents in 1 part, 1 added\n/m);
    expect(out.three).toMatch(/^ D orders: dropped, 2 documents removed\n/m);
    expect(out.three).toMatch(/^ {3}users: 4 documents in 1 part/m);
    expect(out.three).not.toMatch(/^ [AM] /m);
  }, 300_000);
});

describe('log', () => {
  it('--oneline: short hash, tags, subject', async () => {
    const l = lines(await run(['log', '--oneline', '-n', '3']));
    expect(l).toEqual([`${hash.three!.slice(0, 7)} three`, `${hash.two!.slice(0, 7)} two`, `${hash.one!.slice(0, 7)} (tag: v1) one`]);
  }, 300_000);

  it('--format with git placeholders and the snapshot counts', async () => {
    const s = await run(['log', '--format', '%H|%h|%s|%an <%ae>|%(documents)|%(collections)|%d', '-n', '2']);
    expect(lines(s)).toHaveLength(2);
    const [first, second] = lines(s).map((l) => l.split('|'));
    expect(first).toEqual([hash.three, hash.three!.slice(0, 7), 'three', expect.stringMatching(/<.*>$/), '5', '2', ' (main)']);
    expect(second!.slice(0, 3)).toEqual([hash.two, hash.two!.slice(0, 7), 'two']);
    expect(second![6]).toBe('');
  }, 300_000);

  it('A..B lists what B has and A has not; A...B what either has and not both', async () => {
    expect(lines(await run(['log', '--oneline', 'v1..HEAD']))).toEqual([`${hash.three!.slice(0, 7)} three`, `${hash.two!.slice(0, 7)} two`]);
    expect(lines(await run(['log', '--format', '%s', 'v1..']))).toEqual(['three', 'two']);
    // Newest first: feature's commit is dated 2025, the others now.
    expect(lines(await run(['log', '--format', '%s', 'main...feature']))).toEqual(['three', 'two', 'feature']);
    expect(lines(await run(['log', '--format', '%s', 'HEAD..v1']))).toEqual([]);
  }, 300_000);

  it('--all includes other branches and the safety snapshots restore takes', async () => {
    const plain = lines(await run(['log', '--format', '%s']));
    expect(plain).not.toContain('feature');
    const restored = await dbsnapBinary(['restore', 'v1', '--repo', repo, '--uri', t.dbUri, '--yes', '--quiet']);
    expect(restored.code).toBe(0);
    const all = lines(await run(['log', '--all', '--oneline']));
    expect(all).toContain(`${hash.feature!.slice(0, 7)} (feature) feature`);
    expect(all.some((l) => /^[0-9a-f]{7} \(dbsnap\/safety\/[^)]+\) /.test(l))).toBe(true);
    expect(all.length).toBe(plain.length + 2);
  }, 300_000);
});

describe('diff', () => {
  it('--name-only and --name-status list changed collections', async () => {
    expect(await run(['diff', 'v1', 'HEAD', '--name-only'])).toBe('orders\nreviews\nusers\n');
    expect(await run(['diff', 'v1..HEAD', '--name-status'])).toBe('D\torders\nA\treviews\nM\tusers\n');
    expect(await run(['diff', 'HEAD~1', 'HEAD', '--name-status'])).toBe('D\torders\n');
    expect(await run(['diff', 'HEAD', 'HEAD', '--name-only'])).toBe('');
  }, 300_000);

  it('A...B is from the merge base to B, not A..B', async () => {
    // feature left main at v1; main then changed users and reviews and dropped orders.
    expect(await run(['diff', 'feature...main', '--name-status'])).toBe('D\torders\nA\treviews\nM\tusers\n');
    expect(await run(['diff', 'feature..main', '--name-status'])).toBe('D\torders\n');
    expect(await run(['diff', 'main...feature', '--name-status'])).toBe('M\torders\nA\treviews\nM\tusers\n');
  }, 300_000);
});

describe('show --stat', () => {
  it('adds what the commit changed against its parent', async () => {
    const s = await run(['show', 'HEAD~1', '--stat']);
    expect(s).toContain(`commit ${hash.two}`);
    expect(s).toMatch(/^ orders {2}\| 0 added, 0 removed, 1 changed$/m);
    expect(s).toMatch(/^ reviews \| 1 added, 0 removed, 0 changed; new collection, \+1 index$/m);
    expect(s).toMatch(/^ 3 collections changed \(1 new, 0 dropped\), 2 added, 0 removed, 1 changed documents$/m);
    const j = JSON.parse(await run(['show', 'HEAD', '--stat', '--json'])) as { commit: string; stat: { totals: { collections: { removed: number } } } };
    expect(j.commit).toBe(hash.three);
    expect(j.stat.totals.collections.removed).toBe(1);
  }, 300_000);
});
