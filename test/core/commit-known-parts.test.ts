/**
 * A commit that reads a collection takes the parts whose documents arrive as the last read left
 * them from the object store (dbsnap/prints-*.bin, part-prints.ts). Its tree must be the one a
 * fresh repository gets from the same data, whatever the record says.
 */
import { execFileSync } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Int32 } from 'bson';
import { expect, it } from 'vitest';
import { commit, init, type CommitResult } from '../../src/index.js';
import { FIXED, useRepositoryAndDatabase } from '../support/temp-repo.js';
import type { TestDatabase } from '../support/test-db.js';
import { loadShop, mutateShop } from '../support/shop.js';

let repo = '';
let dir = '';
let t: TestDatabase;
useRepositoryAndDatabase('commit_known_parts', (r) => ({ repo, dir, t } = r));

const read = { useServerHashes: false, useChangeStreams: false, ...FIXED };
const byName = (r: CommitResult) => Object.fromEntries(r.collections.map((c) => [c.name, c]));

/** The tree a repository that never saw this database gets from it now. */
async function freshTree(name: string): Promise<string> {
  const other = join(dir, name);
  await init({ repo: other, ...FIXED });
  return (await commit({ repo: other, uri: t.dbUri, message: 'fresh', ...read })).tree;
}

it('takes unchanged parts from the object store, and writes the tree a fresh read writes', async () => {
  await loadShop(t.db, { totalDocs: 3000, seed: 11 });
  const first = await commit({ repo, uri: t.dbUri, message: 'first', ...read });
  expect(first.committed).toBe(true);
  // A first read has nothing to take.
  for (const c of first.collections) expect(c.reusedParts, c.name).toBe(0);
  const prints = (await readdir(join(repo, 'dbsnap'))).filter((f) => /^prints-[0-9a-f]{40}\.bin$/.test(f));
  expect(prints).toHaveLength(4);

  // Read again with nothing changed: every part is taken as stored, and there is nothing to commit.
  const again = await commit({ repo, uri: t.dbUri, message: 'again', ...read });
  expect(again.committed).toBe(false);
  expect(again.tree).toBe(first.tree);
  for (const c of again.collections) {
    expect(c.source, c.name).toBe('read');
    expect(c.reusedParts, c.name).toBe(c.parts);
  }

  // A few documents changed, deleted and inserted: only the parts around them are encoded.
  await mutateShop(t.db, { fraction: 0.01, seed: 3 });
  const orders = t.db.collection('orders');
  const some = await orders.find({}, { sort: { _id: 1 }, skip: 100, limit: 3 }).toArray();
  await orders.deleteOne({ _id: some[0]!._id });
  await orders.updateOne({ _id: some[2]!._id }, { $set: { note: 'ü'.repeat(5000), n: new Int32(7) } });
  const changed = await commit({ repo, uri: t.dbUri, message: 'changed', ...read });
  expect(changed.committed).toBe(true);
  expect(changed.tree).toBe(await freshTree('fresh-1'));
  const o = byName(changed).orders!;
  expect(o.reusedParts).toBeGreaterThan(o.parts / 2);
  expect(o.reusedParts).toBeLessThan(o.parts);

  // Native git finds the repository whole.
  execFileSync('git', ['fsck', '--full', '--strict'], { cwd: repo, stdio: 'pipe' });
});

it('writes the tree a fresh read writes when the record is damaged or describes other parts', async () => {
  await mutateShop(t.db, { fraction: 0.01, seed: 4 });
  const files = (await readdir(join(repo, 'dbsnap'))).filter((f) => f.startsWith('prints-')).map((f) => join(repo, 'dbsnap', f));
  const originals = await Promise.all(files.map((f) => readFile(f)));
  // Every record's SHA-256s of the stored files flipped; the body cut short; the header of another collection.
  const damaged = originals.map((b, i) => {
    const c = Buffer.from(b);
    if (i === 0) c[c.length - 30] ^= 0xff;
    if (i === 1) return c.subarray(0, c.length - 7);
    if (i === 2) return Buffer.from(originals[3]!);
    for (let at = c.indexOf('\n', c.indexOf('\n') + 1) + 1 + 40 + 4 + 24 + 32; at < c.length; at += 152) c[at] ^= 1;
    return c;
  });
  await Promise.all(files.map((f, i) => writeFile(f, damaged[i]!)));
  const r = await commit({ repo, uri: t.dbUri, message: 'after damage', ...read });
  expect(r.committed).toBe(true);
  expect(r.tree).toBe(await freshTree('fresh-2'));
  // The two records of no use (another collection's, every file's SHA-256 wrong) gave nothing.
  expect(r.collections.filter((c) => c.reusedParts === 0 && c.parts > 0).length).toBeGreaterThanOrEqual(2);
  // The record is written anew: the next read takes every part again.
  const again = await commit({ repo, uri: t.dbUri, message: 'again', ...read });
  expect(again.committed).toBe(false);
  for (const c of again.collections) expect(c.reusedParts, c.name).toBe(c.parts);
});
