/**
 * Commit and diff work collection by collection through git trees: a collection whose tree is
 * the same as in the other snapshot is neither listed nor read, so memory follows what changed,
 * not the size of the database. Asserted by the objects each operation reads.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { commit, diff } from '../../src/index.js';
import { isEncryptedValue } from '../../src/crypto/index.js';
import { diffSnapshots } from '../../src/diff/index.js';
import { snapshotPairSides, snapshotSides } from '../../src/core/sides.js';
import { commitChanges } from '../../src/core/commit-changes.js';
import { openSnapshot, partBlobs, readCollectionEntry, withParts } from '../../src/core/snapshot.js';
import { SnapshotRepository } from '../../src/store/index.js';
import { CorruptSnapshotError } from '../../src/errors/index.js';
import { FIXED, useRepositoryAndDatabase } from '../support/temp-repo.js';
import type { TestDatabase } from '../support/test-db.js';
import { loadShop } from '../support/shop.js';

let repo = '';
/** The first snapshot (its parent is the `dbsnap init` commit). */
let firstCommit = '';
let t: TestDatabase;
useRepositoryAndDatabase('collection_trees', (r) => ({ repo, t } = r));

/** Object ids under `collections/<name>/parts` at `ref`: the parts tree and every part blob. */
async function partObjects(ref: string, name: string): Promise<Set<string>> {
  const r = await SnapshotRepository.open(repo);
  const commitOid = await r.resolveCommit(ref);
  const out = new Set<string>([(await r.treeOid(commitOid, `collections/${name}/parts`))!]);
  for (const oid of (await r.listFiles(commitOid, `collections/${name}/parts/`)).values()) out.add(oid);
  await r.close();
  return out;
}

/** Every object id read through SnapshotRepository while `run` runs. */
async function objectsReadBy<T>(run: () => Promise<T>): Promise<{ result: T; read: Set<string> }> {
  const read = new Set<string>();
  const original = SnapshotRepository.prototype.readObject;
  const spy = vi.spyOn(SnapshotRepository.prototype, 'readObject').mockImplementation(function (this: SnapshotRepository, oid, expected) {
    read.add(oid);
    return original.call(this, oid, expected);
  });
  try {
    return { result: await run(), read };
  } finally {
    spy.mockRestore();
  }
}

/** HEAD~1..HEAD diffed from every part of both snapshots (full listings, no tree shortcuts). */
async function fullDiff(limit: number) {
  const s = await SnapshotRepository.open(repo);
  try {
    const [a, b] = await Promise.all([openSnapshot(s, 'HEAD~1'), openSnapshot(s, 'HEAD')]);
    return await diffSnapshots(await snapshotSides(a), await snapshotSides(b), { limit, encryptedMarker: isEncryptedValue, fromLabel: 'HEAD~1', toLabel: 'HEAD' });
  } finally {
    await s.close();
  }
}

beforeAll(async () => {
  await loadShop(t.db, { totalDocs: 3000, seed: 11 });
  const first = await commit({ repo, uri: t.dbUri, message: 'first', useServerHashes: true, ...FIXED });
  expect(first.committed).toBe(true);
  firstCommit = first.commit!;
  await t.db.collection('users').updateOne({}, { $set: { note: 'changed by collection-trees.test' } });
});
afterEach(() => vi.restoreAllMocks());

describe('collections compared by their trees', () => {
  it('a commit takes an unchanged collection from HEAD by its parts tree without reading a part of it', async () => {
    const orders = await partObjects('HEAD', 'orders');
    expect(orders.size).toBeGreaterThan(10);
    const { result: r, read } = await objectsReadBy(() =>
      commit({ repo, uri: t.dbUri, message: 'second', useServerHashes: true, changes: true, ...FIXED }),
    );
    expect(r.committed).toBe(true);
    expect([...read].filter((oid) => orders.has(oid))).toEqual([]);
    const byName = Object.fromEntries(r.collections.map((c) => [c.name, c]));
    expect(byName.orders).toMatchObject({ source: 'server-hash', changed: false });
    expect(byName.users).toMatchObject({ source: 'read', changed: true });
    expect(r.changes!.totals).toEqual({ collections: { added: 0, removed: 0, changed: 1, unchanged: 3 }, documents: { added: 0, removed: 0, changed: 1 } });
    // The new tree holds HEAD~1's orders directory as it was.
    const s = await SnapshotRepository.open(repo);
    expect(await s.treeOid(r.commit!, 'collections/orders')).toBe(await s.treeOid(r.parent!, 'collections/orders'));
    // The hash cache remembers each collection's parts by its parts tree.
    const cache = JSON.parse(await readFile(join(repo, 'dbsnap', 'server-hashes.json'), 'utf8')) as Record<string, { parts: string }>;
    for (const name of ['orders', 'users']) expect(cache[name]!.parts).toBe(await s.treeOid(r.commit!, `collections/${name}/parts`));
    await s.close();
  });

  it('diff of two commits reads nothing of a collection whose tree is the same, and reports what a full diff reports', async () => {
    const orders = await partObjects('HEAD', 'orders');
    const { result: d, read } = await objectsReadBy(() => diff({ repo, from: 'HEAD~1', to: 'HEAD', limit: 5 }));
    expect([...read].filter((oid) => orders.has(oid))).toEqual([]);
    expect(d.totals.documents).toEqual({ added: 0, removed: 0, changed: 1 });
    expect(d.collections.map((c) => [c.name, c.status])).toEqual([
      ['orders', 'unchanged'],
      ['producers', 'unchanged'],
      ['products', 'unchanged'],
      ['users', 'changed'],
    ]);
    // The same answer as diffing every part of both snapshots.
    expect(d).toEqual(await fullDiff(5));
  });

  it("a first commit's summary reads no parts tree and no part, and counts what a full diff counts", async () => {
    const r = await SnapshotRepository.open(repo);
    const first = firstCommit;
    const init = (await r.readCommit(first)).parents[0]!;
    const names = ['orders', 'producers', 'products', 'users'];
    const partsOf = new Set<string>();
    for (const name of names) for (const oid of await partObjects(first, name)) partsOf.add(oid);
    const { result: summary, read } = await objectsReadBy(() => commitChanges(r, init, first));
    expect([...read].filter((oid) => partsOf.has(oid))).toEqual([]);
    const full = await diff({ repo, from: init, to: first, limit: 1 });
    expect(summary.totals).toEqual(full.totals);
    expect(summary.totals.documents.added).toBe(3000);
    expect(summary.collections.map((c) => [c.name, c.status, c.counts.added, c.indexes.added.length])).toEqual(
      full.collections.map((c) => [c.name, c.status, c.counts.added, c.indexes.added.length]),
    );
    await r.close();
  });

  it('a snapshot opened without its part files lists none and refuses to hand out part blobs', async () => {
    const s = await SnapshotRepository.open(repo);
    const shallow = await openSnapshot(s, 'HEAD', { parts: false });
    const full = await openSnapshot(s, 'HEAD');
    expect([...shallow.files.keys()].filter((p) => p.includes('/parts/'))).toEqual([]);
    expect([...full.files.keys()].filter((p) => !p.includes('/parts/')).sort()).toEqual([...shallow.files.keys()].sort());
    const entry = await readCollectionEntry(shallow, 'orders');
    expect(() => partBlobs(shallow, entry)).toThrow(/without the part files of orders/);
    expect(partBlobs(full, entry)).toHaveLength(entry.parts.length);
    // withParts lists one collection's part files, exactly those of the full listing.
    const orders = await withParts(shallow, 'orders');
    expect(partBlobs(orders, entry)).toEqual(partBlobs(full, entry));
    expect([...orders.files.keys()].filter((p) => p.includes('/parts/')).every((p) => p.startsWith('collections/orders/parts/'))).toBe(true);
    const users = await readCollectionEntry(shallow, 'users');
    expect(() => partBlobs(orders, users)).toThrow(/without the part files of users/);
    expect(partBlobs(await withParts(orders, 'users'), users)).toEqual(partBlobs(full, users));
    await s.close();
  });

  it("a changed collection's two sides hold only the parts that differ, and diff as a full listing does", async () => {
    const s = await SnapshotRepository.open(repo);
    const [a, b] = await Promise.all([openSnapshot(s, 'HEAD~1', { parts: false }), openSnapshot(s, 'HEAD', { parts: false })]);
    const entry = await readCollectionEntry(b, 'users');
    expect(entry.parts.length).toBeGreaterThan(10);
    const [from, to] = await (await snapshotPairSides(a, b)).sidesOf('users');
    // One document changed: one part differs, under the same name on both sides.
    expect(from!.parts.map((p) => p.name)).toEqual(to!.parts.map((p) => p.name));
    expect(from!.parts).toHaveLength(1);
    expect(from!.parts[0]!.blobId).not.toBe(to!.parts[0]!.blobId);
    const full = await withParts(b, 'users');
    const listed = partBlobs(full, entry).find((p) => p.file === `parts/${to!.parts[0]!.name}`)!;
    expect([to!.parts[0]!.blobId, to!.parts[0]!.count]).toEqual([listed.oid, listed.documents]);
    expect(to!.meta.indexes.length).toBeGreaterThan(0);
    await s.close();
  });

  it('documents added, removed and changed across many parts (boundaries moving) diff exactly as a full listing does', async () => {
    const orders = t.db.collection('orders');
    const all = await orders.find({}, { projection: { _id: 1 } }).sort({ _id: 1 }).toArray();
    const removed = all.filter((_, i) => i % 37 === 5).map((d) => d._id);
    await orders.deleteMany({ _id: { $in: removed } });
    const changed = all.filter((_, i) => i % 53 === 7).map((d) => d._id);
    await orders.updateMany({ _id: { $in: changed } }, { $set: { note: 'moved boundaries' } });
    await orders.insertMany(Array.from({ length: 200 }, (_, i) => ({ _id: `added-${String(i).padStart(4, '0')}` as unknown as never, n: i })));
    const c = await commit({ repo, uri: t.dbUri, message: 'boundaries', useServerHashes: true, changes: true, ...FIXED });
    expect(c.committed).toBe(true);
    const d = await diff({ repo, from: 'HEAD~1', to: 'HEAD', limit: 10000 });
    expect(d.totals.documents).toEqual({ added: 200, removed: removed.length, changed: changed.filter((id) => !removed.some((r) => r.equals(id))).length });
    const full = await fullDiff(10000);
    expect(d).toEqual(full);
    expect(c.changes!.totals).toEqual(full.totals);
  });

  it('a part collection.json lists and the tree lacks fails the diff as a damaged snapshot, naming the file', async () => {
    const s = await SnapshotRepository.open(repo);
    const head = await s.resolveCommit('HEAD');
    const files = await s.listFiles(head);
    const gone = [...files.keys()].find((p) => p.startsWith('collections/orders/parts/'))!;
    const tree = await s.writeTree([...files].filter(([p]) => p !== gone).map(([path, oid]) => ({ path, oid })));
    const damaged = await s.writeCommit({ tree, parents: [head], message: 'damaged\n', author: { name: 'Test', email: 'test@example.com', timestamp: 1735787045, timezoneOffset: 0 } });
    const [a, b] = await Promise.all([openSnapshot(s, 'HEAD~1', { parts: false }), openSnapshot(s, damaged, { parts: false })]);
    const err = await (await snapshotPairSides(a, b)).sidesOf('orders').then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(CorruptSnapshotError);
    expect((err as CorruptSnapshotError).message).toContain(`${gone} is listed in collection.json but missing from the tree`);
    await s.close();
  });
});

