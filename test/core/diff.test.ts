import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Decimal128, Int32 } from 'bson';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { commit, deleteTag, diff, init, listTags, renderJson, status, tag } from '../../src/index.js';
import { SnapshotRepository } from '../../src/store/index.js';
import { useTestDatabase } from '../support/test-db.js';
import { cli } from '../cli/support.js';

const FIXED = { author: { name: 'Test', email: 'test@example.com' }, now: new Date('2025-01-02T03:04:05Z') };

let dir: string;
let repo: string;
let t: Awaited<ReturnType<typeof useTestDatabase>>;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dbsnap-diff-'));
  repo = join(dir, 'backup-repo');
  await init({ repo, ...FIXED });
  t = await useTestDatabase('diff');
  const docs = Array.from({ length: 10_000 }, (_, i) => ({ _id: new Int32(i), sku: `SKU-${i}`, price: Decimal128.fromString(`${i}.50`), qty: new Int32(i % 9) }));
  for (let i = 0; i < docs.length; i += 2000) await t.db.collection('products').insertMany(docs.slice(i, i + 2000));
  await t.db.collection('users').insertMany([{ _id: 1, name: 'Ann', address: { city: 'Bern' } }, { _id: 2, name: 'Bob' }]);
  await commit({ repo, uri: t.dbUri, message: 'one', ...FIXED });
  await tag({ repo, name: 'v1', message: 'first', ...FIXED });
});
afterAll(async () => {
  await t.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('diff, status, tag', () => {
  it('status is clean right after a commit, and reports changes with counts afterwards', async () => {
    expect((await status({ repo, uri: t.dbUri })).clean).toBe(true);
    const clean = await cli(['status', '--repo', repo, '--uri', t.dbUri]);
    expect(clean.code).toBe(0);
    // The last line says how unchanged collections were known (which depends on the server).
    expect(clean.stdout).toMatch(/^nothing changed since HEAD\n {2}change detection: (change stream|server hashes|full read) \(.+\)\n$/);

    await t.db.collection('users').updateOne({ _id: 1 }, { $set: { 'address.city': 'Zürich' } });
    await t.db.collection('users').insertOne({ _id: 3, name: 'Cy' });
    await t.db.collection('users').deleteOne({ _id: 2 });
    await t.db.collection('users').createIndex({ name: 1 }, { unique: true });
    await t.db.collection('products').updateOne({ _id: 4321 }, { $set: { price: '4321.50' } });
    const s = await status({ repo, uri: t.dbUri });
    expect(s.clean).toBe(false);
    expect(s.collections).toEqual([
      { name: 'products', status: 'changed', added: 0, removed: 0, changed: 1, indexes: 0, options: 0 },
      { name: 'users', status: 'changed', added: 1, removed: 1, changed: 1, indexes: 1, options: 0 },
    ]);
    const dirty = await cli(['status', '--repo', repo, '--uri', t.dbUri]);
    expect(dirty.code).toBe(1);
    expect(dirty.stdout).toMatch(/^changes since HEAD:\n {2}products: 1 changed\n {2}users: 1 added, 1 removed, 1 changed, 1 index change\n {2}change detection: .+\n$/);
  });

  it('the live diff names fields, old and new values and type changes', async () => {
    const d = await diff({ repo, uri: t.dbUri });
    const users = d.collections.find((c) => c.name === 'users')!;
    const changed = users.documents.find((x) => x.kind === 'changed')!;
    expect(Number(changed.id)).toBe(1);
    expect(changed).toMatchObject({ fields: [{ path: 'address.city', kind: 'changed', old: 'Bern', new: 'Zürich' }] });
    expect(users.indexes.added.map((i) => i.name)).toEqual(['name_1']);
    const price = d.collections.find((c) => c.name === 'products')!.documents[0]!;
    expect(price).toMatchObject({ kind: 'changed', fields: [{ path: 'price', kind: 'typeChanged', oldType: 'Decimal128', newType: 'String' }] });
    const text = await cli(['diff', '--repo', repo, '--uri', t.dbUri, '--collections', 'products']);
    expect(text.stdout).toContain('price: Decimal128 4321.50 -> String "4321.50"');
    const md = await cli(['diff', '--repo', repo, '--uri', t.dbUri, '--format', 'markdown']);
    expect(md.stdout).toContain('| `users` | 1 | 1 | 1 |');
    const json = JSON.parse((await cli(['diff', '--repo', repo, '--uri', t.dbUri, '--json'])).stdout);
    expect(json.collections.find((c: { name: string }) => c.name === 'users').counts).toEqual({ added: 1, removed: 1, changed: 1 });
  });

  it('between snapshots reads only the parts that changed (counted blob reads)', async () => {
    await commit({ repo, uri: t.dbUri, message: 'two', ...FIXED });
    const store = await SnapshotRepository.open(repo);
    const files = await store.listFiles(await store.resolveCommit('HEAD'));
    const partOids = new Set([...files].filter(([p]) => p.includes('/parts/')).map(([, oid]) => oid));
    const old = await store.listFiles(await store.resolveCommit('v1'));
    for (const [p, oid] of old) if (p.includes('/parts/')) partOids.add(oid);
    expect([...files.keys()].filter((p) => p.startsWith('collections/products/parts/')).length).toBeGreaterThan(200);

    const spy = vi.spyOn(SnapshotRepository.prototype, 'readBlob');
    try {
      const d = await diff({ repo, from: 'v1', to: 'HEAD' });
      const partReads = spy.mock.calls.filter(([oid]) => partOids.has(oid as string)).length;
      // products: one part per side; users: one part per side.
      expect(partReads).toBe(4);
      expect(d.totals.documents).toEqual({ added: 1, removed: 1, changed: 2 });
      // The same diff, named as a range and by tag.
      const range = await diff({ repo, from: 'v1..HEAD' });
      expect(renderJson(range)).toBe(renderJson({ ...d, from: 'v1', to: 'HEAD' }));
    } finally {
      spy.mockRestore();
    }
  });

  it('tags: create (annotated), list, use as refs, delete', async () => {
    await tag({ repo, name: 'v2', ref: 'HEAD', ...FIXED });
    const tags = await listTags({ repo });
    expect(tags.map((x) => [x.name, x.annotated])).toEqual([['v1', true], ['v2', false]]);
    const store = await SnapshotRepository.open(repo);
    expect(tags.find((x) => x.name === 'v2')!.commit).toBe(await store.resolveCommit('HEAD'));
    await expect(tag({ repo, name: 'v2', ...FIXED })).rejects.toMatchObject({ code: 'ETAGEXISTS' });
    // git keeps tags as paths: v2/x cannot sit beside v2, nor v1 beside v1/x; refused with what to do, nothing created.
    await expect(tag({ repo, name: 'v2/x', ...FIXED })).rejects.toMatchObject({ code: 'ETAGEXISTS', data: { tag: 'v2/x', conflictsWith: 'v2' } });
    const clash = await cli(['tag', 'v1/before', '--repo', repo]);
    expect(clash.code).toBe(2);
    expect(clash.stderr).toContain('cannot create tag "v1/before": tag "v1" exists');
    expect(clash.stderr).toContain('dbsnap tag -d v1');
    expect((await listTags({ repo })).map((x) => x.name)).toEqual(['v1', 'v2']);
    const d = await diff({ repo, from: 'v1', to: 'v2' });
    expect(d.totals.documents.changed).toBe(2);
    const log = await cli(['log', '--repo', repo]);
    expect(log.stdout).toMatch(/\(tag: v2\) two/);
    expect(log.stdout).toMatch(/\(tag: v1\) one/);
    await deleteTag({ repo, name: 'v2' });
    expect((await listTags({ repo })).map((x) => x.name)).toEqual(['v1']);
    await expect(deleteTag({ repo, name: 'v2' })).rejects.toMatchObject({ code: 'EREFNOTFOUND' });
  });
});
