import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Binary, BSON, EJSON, BSONRegExp, BSONSymbol, Code, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commit, exportSnapshot, importBackup, init } from '../../src/index.js';
import { SnapshotRepository } from '../../src/store/index.js';
import { readArchive } from '../../src/interchange/archive.js';
import { FIXED } from '../support/temp-repo.js';
import { useTestDatabase, type TestDatabase } from '../support/test-db.js';
import { loadShop } from '../support/shop.js';

let dir = '';
let source = '';
let t: TestDatabase;
let liveTree = '';

async function treeOf(repo: string, ref = 'HEAD'): Promise<string> {
  const r = await SnapshotRepository.open(repo);
  return (await r.readCommit(await r.resolveCommit(ref))).tree;
}

async function freshRepo(name: string): Promise<string> {
  const repo = join(dir, name);
  await init({ repo, ...FIXED });
  return repo;
}

/** A document with every BSON type in a deliberate field order. */
function everyType(): Record<string, unknown> {
  return {
    _id: 'every-type',
    zDouble: new Double(10),
    negZero: new Double(-0),
    nan: new Double(NaN),
    inf: new Double(-Infinity),
    int32: new Int32(5),
    int64: Long.fromString('-9223372036854775808'),
    small64: Long.fromInt(7),
    dec: Decimal128.fromString('19.990'),
    str: 'Zürich ✓ 中文 😀 "quoted" \\ \n',
    oldDate: new Date('1901-05-06T07:08:09.123Z'),
    oid: new ObjectId('68a72cf14b78eb31b9af9e45'),
    bin: new Binary(Buffer.from([1, 2, 3]), 0),
    uuid: new Binary(Buffer.alloc(16, 7), 4),
    ts: new Timestamp({ t: 1700000000, i: 7 }),
    re: new BSONRegExp('^a.*b$', 'imsx'),
    min: new MinKey(),
    max: new MaxKey(),
    nul: null,
    arr: [new Int32(1), 'two', { three: new Double(3.5) }, []],
    code: new Code('function () { return 1; }'),
    codeScope: new Code('x + 1', { x: new Int32(1) }),
    sym: new BSONSymbol('sym'),
    '7': 'integer-like key after the others',
  };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dbsnap-io-'));
  t = await useTestDatabase('io');
  await loadShop(t.db, { totalDocs: 300, seed: 5 });
  await t.db.createCollection('accounts', { validator: { $jsonSchema: { required: ['zeta', 'alpha'], bsonType: 'object' } }, validationLevel: 'moderate' });
  await t.db.collection('accounts').insertMany([{ _id: 2, zeta: 2, alpha: 'b' }, { _id: 1, zeta: 1, alpha: 'a' }]);
  await t.db.collection('tags').createIndex({ label: 1 }, { name: 'label_1', collation: { locale: 'fr' } });
  await t.db.collection('tags').insertOne({ _id: 'A', label: 'x' });
  await t.db.createCollection('bigOrders', { viewOn: 'orders', pipeline: [{ $match: { status: 'paid' } }] });
  await t.db.collection('types').insertOne(BSON.deserialize(BSON.serialize(everyType()), { promoteValues: false, bsonRegExp: true }));
  source = await freshRepo('source');
  await commit({ repo: source, uri: t.dbUri, ...FIXED });
  liveTree = await treeOf(source);
}, 180_000);

afterAll(async () => {
  await t?.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('export -> import gives the same tree as the live commit', () => {
  it.each([
    ['mongodump directory', { format: 'mongodump' as const }],
    ['mongodump directory, gzip', { format: 'mongodump' as const, gzip: true }],
    ['mongodump archive', { format: 'mongodump' as const, archive: 'shop.archive' }],
    ['mongodump archive, gzip', { format: 'mongodump' as const, archive: 'shop.archive.gz', gzip: true }],
    ['canonical Extended JSON', { format: 'ejson' as const }],
    ['plain JSON (types inferred)', { format: 'json' as const }],
  ])('%s', async (label, o) => {
    const out = join(dir, label.replace(/\W+/g, '-'));
    const archive = 'archive' in o ? join(out, o.archive) : undefined;
    const r = await exportSnapshot({ repo: source, ref: 'HEAD', dir: out, ...o, ...(archive ? { archive } : {}) });
    expect(r.collections.map((c) => c.name)).toEqual(['accounts', 'bigOrders', 'orders', 'producers', 'products', 'tags', 'types', 'users']);
    expect(r.documents).toBe(300 + 2 + 1 + 1);
    const target = await freshRepo(`target-${label.replace(/\W+/g, '-')}`);
    const imported = await importBackup({ repo: target, paths: [archive ?? (o.format === 'mongodump' ? out : out)], ...FIXED });
    expect(imported.snapshots).toHaveLength(1);
    expect(imported.snapshots[0]!.committed).toBe(true);
    // A dump names its database; a folder of JSON files does not (--db names it).
    if (o.format === 'mongodump') expect(imported.snapshots[0]!.database).toBe(t.dbName);
    expect(await treeOf(target)).toBe(liveTree);
  });

  it('a mongodump directory has mongodump\'s layout: <db>/<coll>.bson with the exact bytes, metadata.json with options, indexes, type', async () => {
    const out = join(dir, 'layout');
    await exportSnapshot({ repo: source, ref: 'HEAD', dir: out, format: 'mongodump' });
    expect((await readdir(out))).toEqual([t.dbName]);
    const files = (await readdir(join(out, t.dbName))).sort();
    expect(files).toContain('users.bson');
    expect(files).toContain('bigOrders.metadata.json');
    expect(files).not.toContain('bigOrders.bson');
    const users = JSON.parse(await readFile(join(out, t.dbName, 'users.metadata.json'), 'utf8'));
    expect(Object.keys(users)).toEqual(['options', 'indexes', 'collectionName', 'type']);
    expect(users.collectionName).toBe('users');
    expect(users.type).toBe('collection');
    expect(users.indexes.map((i: { name: string }) => i.name)).toEqual(['_id_', 'email_1']);
    expect(users.indexes[1].unique).toBe(true);
    const view = JSON.parse(await readFile(join(out, t.dbName, 'bigOrders.metadata.json'), 'utf8'));
    expect(view.type).toBe('view');
    expect(view.options.viewOn).toBe('orders');
    const types = await readFile(join(out, t.dbName, 'types.bson'));
    const stored = (await t.db.collection('types').find({}, { raw: true }).toArray())[0] as unknown as Uint8Array;
    expect(types.toString('hex')).toBe(Buffer.from(stored).toString('hex'));
    const userDocs = await t.db.collection('users').find({}, { raw: true, sort: { _id: 1 } }).toArray();
    expect((await readFile(join(out, t.dbName, 'users.bson'))).equals(Buffer.concat(userDocs.map((d) => Buffer.from(d as unknown as Uint8Array))))).toBe(true);
  });

  it('an archive follows the Database Tools\' spec: magic, prelude with metadata, blocks with CRC-64', async () => {
    const file = join(dir, 'spec.archive.gz');
    await exportSnapshot({ repo: source, ref: 'HEAD', archive: file, format: 'mongodump', gzip: true });
    const buf = gunzipSync(await readFile(file));
    expect(buf.readUInt32LE(0)).toBe(0x8199e26d);
    const a = readArchive(buf);
    expect(a.header.version).toBe('0.1');
    const users = a.namespaces.find((n) => n.collection === 'users')!;
    expect(users.db).toBe(t.dbName);
    expect(JSON.parse(users.metadata).collectionName).toBe('users');
    expect(users.documents).toHaveLength(await t.db.collection('users').countDocuments());
    // A flipped byte inside a document is caught by the CRC.
    const bad = Buffer.from(buf);
    const at = buf.indexOf(Buffer.from('liam'));
    bad[at] = 'L'.charCodeAt(0);
    expect(() => readArchive(bad)).toThrow(/CRC of .* does not match/);
  });

  it('ejson is one canonical Extended JSON document per line', async () => {
    const out = join(dir, 'ejson-lines');
    await exportSnapshot({ repo: source, ref: 'HEAD', dir: out, format: 'ejson', collections: ['types', 'accounts'] });
    expect((await readdir(out)).sort()).toEqual(['accounts.json', 'accounts.metadata.json', 'types.json', 'types.metadata.json']);
    expect(await readFile(join(out, 'accounts.json'), 'utf8')).toBe(
      '{"_id":{"$numberInt":"1"},"zeta":{"$numberInt":"1"},"alpha":"a"}\n{"_id":{"$numberInt":"2"},"zeta":{"$numberInt":"2"},"alpha":"b"}\n',
    );
    const line = (await readFile(join(out, 'types.json'), 'utf8')).trim();
    const parsed = JSON.parse(line);
    expect(parsed.zDouble).toEqual({ $numberDouble: '10.0' });
    expect(parsed.negZero).toEqual({ $numberDouble: '-0.0' });
    expect(parsed.int64).toEqual({ $numberLong: '-9223372036854775808' });
    expect(parsed.oldDate).toEqual({ $date: { $numberLong: String(Date.parse('1901-05-06T07:08:09.123Z')) } });
    expect(parsed.dec).toEqual({ $numberDecimal: '19.990' });
    // bson's own EJSON parser reads it back to the same bytes.
    const stored = (await t.db.collection('types').find({}, { raw: true }).toArray())[0] as unknown as Uint8Array;
    const back = BSON.serialize(EJSON.parse(line, { relaxed: false }));
    // bson's EJSON.parse puts the integer-like key "7" first (a JS object); otherwise identical.
    expect(Buffer.from(back).length).toBe(stored.length);
  });
});

describe('sensitive fields on export', () => {
  it('refuses without a key, unless --keep-encrypted writes visible markers', async () => {
    const repo = await freshRepo('sensitive');
    const { updateConfig } = await import('../../src/core/config.js');
    await updateConfig({ repo, ...FIXED, message: 'users.email is sensitive', change: (c) => ({ ...c, sensitive: { users: ['email'] } }) });
    const key = '0123456789abcdef'.repeat(4);
    await commit({ repo, uri: t.dbUri, key, collections: ['users'], ...FIXED });
    const out = join(dir, 'sens');
    await expect(exportSnapshot({ repo, ref: 'HEAD', dir: out, format: 'ejson' })).rejects.toMatchObject({ code: 'EKEY' });
    await expect(readdir(out)).rejects.toThrow();
    await exportSnapshot({ repo, ref: 'HEAD', dir: out, format: 'ejson', keepEncrypted: true });
    const first = JSON.parse((await readFile(join(out, 'users.json'), 'utf8')).split('\n')[0]!);
    expect(Object.keys(first.email)).toEqual(['$dbsnapEncrypted']);
    const out2 = join(dir, 'sens2');
    const r = await exportSnapshot({ repo, ref: 'HEAD', dir: out2, format: 'ejson', key });
    expect(r.collections.find((c) => c.name === 'users')!.sensitive).toBe('decrypted');
    const plain = JSON.parse((await readFile(join(out2, 'users.json'), 'utf8')).split('\n')[0]!);
    const real = await t.db.collection('users').find().sort({ _id: 1 }).limit(1).toArray();
    expect(plain.email).toBe(real[0]!.email);
  });
});

describe('import from a seed-style folder is not limited to one path', () => {
  it('merges several files into one snapshot and refuses the same collection twice', async () => {
    const a = join(dir, 'seedA');
    await mkdir(a, { recursive: true });
    await writeFile(join(a, 'users.json'), '[{"_id":"68a72cf14b78eb31b9af9e45","n":1}]');
    await writeFile(join(a, 'orders.json'), '[{"_id":"68a72cf14b78eb31b9af9e46","userId":"68a72cf14b78eb31b9af9e45"}]');
    const repo = await freshRepo('merge');
    const r = await importBackup({ repo, paths: [join(a, 'users.json'), join(a, 'orders.json')], ...FIXED });
    expect(r.snapshots[0]!.collections.map((c) => c.name)).toEqual(['orders', 'users']);
    await expect(importBackup({ repo, paths: [join(a, 'users.json'), a], ...FIXED })).rejects.toMatchObject({ code: 'EINVALIDARG' });
  });
});
