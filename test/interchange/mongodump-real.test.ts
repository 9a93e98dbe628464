/**
 * Importing dumps laid out exactly as mongodump lays them out, with the metadata.json files
 * mongodump itself wrote (test/fixtures/mongo-tools-dumps, from the Database Tools' test data).
 */
import { cp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { BSON, Int32, ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { exportSnapshot, importBackup, init } from '../../src/index.js';
import { openSnapshot, readCollectionEntry, readManifest } from '../../src/core/snapshot.js';
import { SnapshotRepository } from '../../src/store/index.js';
import { FIXED, useTempRepository } from '../support/temp-repo.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/mongo-tools-dumps/', import.meta.url));
let dir = '';
let repo = '';

useTempRepository('dumps', (r) => ({ dir, repo } = r));

/** A copy of one fixture dump with .bson files written next to its metadata. */
async function dump(name: string, bson: Record<string, Record<string, unknown>[]>): Promise<string> {
  const to = join(dir, name);
  await cp(join(FIXTURES, name), to, { recursive: true });
  for (const [file, docs] of Object.entries(bson)) await writeFile(join(to, file), Buffer.concat(docs.map((d) => Buffer.from(BSON.serialize(d)))));
  return to;
}

async function entry(name: string) {
  return readCollectionEntry(await openSnapshot(await SnapshotRepository.open(repo), 'HEAD'), name);
}

/** The .bson a mongodump export of HEAD writes for a collection: the snapshot's bytes, `_id` order. */
async function exportedBson(collection: string, file: string): Promise<Buffer> {
  const out = join(dir, `export-${Math.random().toString(36).slice(2)}`);
  const r = await exportSnapshot({ repo, ref: 'HEAD', dir: out, format: 'mongodump', db: 'x', collections: [collection] });
  return readFile(join(out, 'x', r.collections[0]!.files.find((f) => f.endsWith('.bson'))!.slice(2)));
}

const ids = [3, 1, 2].map((i) => new ObjectId(`5fee6600b07c3264c300000${i}`));

describe('import of mongodump directories written by mongodump', () => {
  it('collation and text indexes, collection options, ns in index specs (index_collation)', async () => {
    const docs = ids.map((_id, i) => ({ _id, name: `n${i}`, n: new Int32(i) }));
    const root = await dump('index_collation', { 'test/foo.bson': docs });
    const r = await importBackup({ repo, paths: [root], ...FIXED });
    expect(r.snapshots[0]!.database).toBe('test');
    expect(r.snapshots[0]!.collections.map((c) => [c.name, c.documents])).toEqual([['foo', 3]]);
    const e = await entry('foo');
    expect(e.options).toMatchObject({ collation: { locale: 'en_US', strength: { $numberInt: '2' }, version: '57.1' } });
    expect(Object.keys((e.options as { collation: object }).collation)[0]).toBe('maxVariable');
    expect(e.indexes.map((i) => i.name)).toEqual(['_id_', 'example_text']);
    expect(e.indexes[1]).toMatchObject({ ns: 'test.foo', key: { _fts: 'text', _ftsx: { $numberInt: '1' } }, weights: { name: { $numberInt: '1' } }, default_language: 'english' });
    // Exact bytes, in _id order.
    const sorted = [...docs].sort((a, b) => a._id.toHexString().localeCompare(b._id.toHexString()));
    expect((await exportedBson('foo', 'foo.bson')).equals(Buffer.concat(sorted.map((d) => Buffer.from(BSON.serialize(d)))))).toBe(true);
  });

  it('an escaped name (caf%C3%A9s), also with --gzip', async () => {
    const root = await dump('specialcharacter', { 'db1/caf%C3%A9s.bson': [{ _id: 1, café: 'crème' }] });
    await importBackup({ repo, paths: [root], ...FIXED });
    expect((await entry('cafés')).documents).toBe(1);

    const gz = join(dir, 'gz');
    await cp(root, gz, { recursive: true });
    for (const f of await readdir(join(gz, 'db1'))) {
      await writeFile(join(gz, 'db1', `${f}.gz`), gzipSync(await readFile(join(gz, 'db1', f))));
      await rm(join(gz, 'db1', f));
    }
    const repo2 = join(dir, 'r2');
    await init({ repo: repo2, ...FIXED });
    const r2 = await importBackup({ repo: repo2, paths: [join(gz, 'db1')], ...FIXED });
    expect(r2.snapshots[0]!.database).toBe('db1');
    const s1 = await SnapshotRepository.open(repo);
    const s2 = await SnapshotRepository.open(repo2);
    expect((await s2.readCommit(await s2.resolveCommit('HEAD'))).tree).toBe((await s1.readCommit(await s1.resolveCommit('HEAD'))).tree);
  });

  it('a long name cut with a hash suffix: the real name comes from collectionName', async () => {
    const files = await readdir(join(FIXTURES, 'longcollectionname/db1'));
    const base = files[0]!.replace(/\.metadata\.json$/, '');
    const root = await dump('longcollectionname', { [`db1/${base}.bson`]: [{ _id: 'x' }, { _id: 'a' }] });
    const r = await importBackup({ repo, paths: [root], ...FIXED });
    const name = r.snapshots[0]!.collections[0]!.name;
    expect(name).toHaveLength(247);
    expect(name.endsWith('ConsistingOfExactlyTwoHundredAndFortySevenCharacters')).toBe(true);
    expect(r.snapshots[0]!.collections[0]!.documents).toBe(2);
  });

  it('a view written the old way (metadata only, definition in system.views)', async () => {
    const root = await dump('viewdump', {
      'test/system.views.bson': [{ _id: 'test.fooView', viewOn: 'foo', pipeline: [{ $match: { a: 1 } }] }],
      'test/foo.bson': [{ _id: 1, a: 1 }],
    });
    const r = await importBackup({ repo, paths: [root], ...FIXED });
    expect(r.snapshots[0]!.collections.map((c) => [c.name, c.type])).toEqual([['foo', 'collection'], ['fooView', 'view']]);
    expect((await entry('fooView')).options).toEqual({ viewOn: 'foo', pipeline: [{ $match: { a: { $numberInt: '1' } } }] });
  });

  it('TTL, hashed and 2d indexes, capped options in the legacy v1 layout', async () => {
    const ttl = await dump('coll_with_ttl_index', { 'test/foo.bson': [{ _id: 1, f: new Date(0) }] });
    await importBackup({ repo, paths: [ttl], ...FIXED });
    expect((await entry('foo')).indexes[1]).toEqual({ v: { $numberInt: '2' }, key: { f: { $numberInt: '1' } }, name: 'f_1', expireAfterSeconds: { $numberInt: '1000' } });

    const hashed = await dump('hashed', { 'test/hashedIndexes.bson': [{ _id: 1, a: { a: 1, b: 2 }, b: 3 }] });
    await importBackup({ repo, paths: [hashed], ...FIXED });
    expect((await entry('hashedIndexes')).indexes.map((i) => i.key)).toEqual([
      { _id: { $numberInt: '1' } }, { 'a.a': { $numberInt: '1' } }, { 'a.b': 'hashed' }, { b: 'hashed' },
    ]);

    const capped = await dump('dump_extended_json_options', { 'test/changelog.bson': [{ _id: 'c1', what: 'split' }] });
    const r = await importBackup({ repo, paths: [capped], ...FIXED });
    expect(r.snapshots[0]!.collections.map((c) => c.name)).toEqual(['changelog']);
    const e = await entry('changelog');
    expect(e.options).toEqual({ size: { $numberInt: '10000000' }, capped: true });
    expect(e.indexes[1]).toMatchObject({ name: 'position_2d', key: { pos: '2d' }, min: { $numberInt: '0' }, max: { $numberInt: '1000' }, bits: { $numberInt: '32' } });
  });

  it('time-series collections (dumped as system.buckets.*) are refused with a message, nothing committed; --exclude leaves them out', async () => {
    const root = await dump('ts_dump', {
      'timeseries_test/system.buckets.foo_ts.bson': [{ _id: new ObjectId(), control: { version: 1 } }],
      'timeseries_test/plain.bson': [{ _id: 1 }],
    });
    const before = await (await SnapshotRepository.open(repo)).resolveCommit('HEAD');
    const err = await importBackup({ repo, paths: [root], ...FIXED }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'EUNSUPPORTED' });
    expect((err as Error).message).toMatch(/"foo_ts" is a time-series collection.*--exclude foo_ts/);
    expect(await (await SnapshotRepository.open(repo)).resolveCommit('HEAD')).toBe(before);

    const r = await importBackup({ repo, paths: [root], exclude: ['foo_ts'], ...FIXED });
    expect(r.snapshots[0]!.collections.map((c) => c.name)).toEqual(['plain']);
    const testdirs = await dump('testdirs', { 'db1/system.buckets.c5timeseries.bson': [{ _id: 1 }] });
    await expect(importBackup({ repo, paths: [testdirs], ...FIXED })).rejects.toMatchObject({ code: 'EUNSUPPORTED' });
  });

  it('a dump root with admin/config/local and an oplog: the application database is taken, the rest noted; --db admin is refused', async () => {
    const root = await dump('index_collation', { 'test/foo.bson': [{ _id: 1 }] });
    await cp(join(root, 'test'), join(root, 'admin'), { recursive: true });
    await writeFile(join(root, 'oplog.bson'), Buffer.from(BSON.serialize({ ts: 1, op: 'i' })));
    const r = await importBackup({ repo, paths: [root], ...FIXED });
    expect(r.snapshots[0]!.database).toBe('test');
    expect(r.snapshots[0]!.notes.join('\n')).toMatch(/skipped database admin/);
    expect(r.snapshots[0]!.notes.join('\n')).toMatch(/oplog\.bson .* not replayed/);
    await expect(importBackup({ repo, paths: [root], db: 'admin', ...FIXED })).rejects.toMatchObject({ code: 'EUNSUPPORTED' });
    const manifest = await readManifest(await openSnapshot(await SnapshotRepository.open(repo), 'HEAD'));
    expect(Object.keys(manifest.collections)).toEqual(['foo']);
  });
});
