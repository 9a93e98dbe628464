import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Binary, BSON, BSONRegExp, Decimal128, Double, Int32, Long, ObjectId, Timestamp } from 'bson';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readBackup } from '../../src/interchange/read-backup.js';
import { writeArchive } from '../../src/interchange/archive.js';
import { documentJson } from '../../src/interchange/ejson-write.js';
import { inferTypes } from '../../src/interchange/type-inference.js';
import { escapeCollectionName, unescapeCollectionName, dumpFileBase } from '../../src/interchange/mongodump.js';
import { EXACT_DECODE_OPTIONS } from '../../src/crypto/index.js';

let dir = '';
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dbsnap-read-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, content: string | Buffer): Promise<string> {
  const p = join(dir, name);
  await mkdir(join(p, '..'), { recursive: true });
  await writeFile(p, content);
  return p;
}

function decoded(raw: Uint8Array) {
  return BSON.deserialize(raw, EXACT_DECODE_OPTIONS);
}

describe('mongoexport Extended JSON', () => {
  it('reads canonical and relaxed v2 and the legacy v1 forms to the same BSON values', async () => {
    const oid = '68a72cf14b78eb31b9af9e45';
    const lines = [
      // canonical v2
      `{"_id":{"$oid":"${oid}"},"d":{"$date":{"$numberLong":"1700000000000"}},"i":{"$numberInt":"7"},"l":{"$numberLong":"7"},"f":{"$numberDouble":"24.0"},"m":{"$numberDecimal":"1.50"},"b":{"$binary":{"base64":"AQID","subType":"00"}},"t":{"$timestamp":{"t":5,"i":6}},"r":{"$regularExpression":{"pattern":"^a","options":"i"}}}`,
      // relaxed v2
      `{"_id":2,"d":{"$date":"2023-11-14T22:13:20Z"},"i":7,"l":9007199254740993,"f":24.0,"m":{"$numberDecimal":"1.50"},"b":{"$binary":{"base64":"AQID","subType":"00"}},"t":{"$timestamp":{"t":5,"i":6}},"r":{"$regularExpression":{"pattern":"^a","options":"i"}}}`,
      // legacy v1 (mongoexport before 4.2)
      `{"_id":3,"d":{"$date":1700000000000},"i":7,"l":{"$numberLong":"7"},"f":24.5,"m":{"$numberDecimal":"1.50"},"b":{"$binary":"AQID","$type":"00"},"t":{"$timestamp":{"t":5,"i":6}},"r":{"$regex":"^a","$options":"i"}}`,
    ];
    const p = await file('things.json', lines.join('\n') + '\n');
    const b = await readBackup(p);
    expect(b.format).toBe('ejson');
    const docs = b.collections[0]!.documents.map((d) => decoded(d.raw));
    expect(docs[0]!._id).toEqual(new ObjectId(oid));
    for (const d of docs) {
      expect((d.d as Date).getTime()).toBe(1700000000000);
      expect(d.i).toEqual(new Int32(7));
      expect(d.m).toEqual(Decimal128.fromString('1.50'));
      expect(d.b).toEqual(new Binary(Buffer.from([1, 2, 3]), 0));
      expect(d.t).toEqual(new Timestamp({ t: 5, i: 6 }));
      expect(d.r).toEqual(new BSONRegExp('^a', 'i'));
    }
    expect(docs[0]!.l).toEqual(Long.fromInt(7));
    expect(docs[1]!.l).toEqual(Long.fromString('9007199254740993'));
    expect(docs[0]!.f).toEqual(new Double(24));
    expect(docs[1]!.f).toEqual(new Double(24));
    expect(docs[2]!.f).toEqual(new Double(24.5));
  });

  it('--jsonArray with wrappers is Extended JSON too; canonical export text reads back byte for byte', async () => {
    const doc = { _id: new ObjectId(), z: 1, a: [new Double(1), { '2': 'x', '1': 'y' }], n: null, neg: new Double(-0) };
    const raw = BSON.serialize(doc);
    const p = await file('c.json', `[${documentJson(raw, 'canonical')}]`);
    const b = await readBackup(p);
    expect(b.format).toBe('ejson');
    expect(Buffer.from(b.collections[0]!.documents[0]!.raw).equals(Buffer.from(raw))).toBe(true);
  });
});

describe('plain JSON type inference', () => {
  it('converts a field only when every value agrees', async () => {
    const p = await file('users.json', JSON.stringify([
      { _id: '68a72cf14b78eb31b9af9e45', ref: '68a72cf14b78eb31b9af9e46', at: '2025-08-21T14:54:14.519Z', mixed: '2025-08-21T14:54:14.519Z', code: 'abc' },
      { _id: '68a72cf14b78eb31b9af9e47', ref: null, at: '2025-08-22T00:00:00Z', mixed: 'soon', code: '68a72cf14b78eb31b9af9e48' },
    ]));
    const b = await readBackup(p);
    expect(b.format).toBe('json');
    expect(b.collections[0]!.conversions).toEqual([
      { field: '_id', to: 'ObjectId', values: 2 },
      { field: 'at', to: 'Date', values: 2 },
      { field: 'ref', to: 'ObjectId', values: 1 },
    ]);
    const d = decoded(b.collections[0]!.documents[0]!.raw);
    expect(d.mixed).toBe('2025-08-21T14:54:14.519Z');
    expect(d.code).toBe('abc');
    const keep = await readBackup(p, { types: 'keep' });
    expect(decoded(keep.collections[0]!.documents[0]!.raw)._id).toBe('68a72cf14b78eb31b9af9e45');
  });

  it('is pure over documents', () => {
    const docs = [new Map<string, unknown>([['_id', '68a72cf14b78eb31b9af9e45'], ['n', new Map<string, unknown>([['low', new Int32(5)], ['high', new Int32(1)], ['unsigned', false]])]])];
    const r = inferTypes(docs);
    expect(r.documents[0]!.get('n')).toEqual(Long.fromBits(5, 1));
    expect(r.conversions.map((c) => c.to)).toEqual(['ObjectId', 'Int64']);
  });
});

describe('bad input: one line naming the file and where, nothing read', () => {
  it.each<[string, () => Promise<string>, RegExp, Record<string, unknown>]>([
    ['a truncated .bson', async () => {
      const two = Buffer.concat([BSON.serialize({ _id: 1 }), BSON.serialize({ _id: 2, s: 'x'.repeat(40) })]);
      return file('dump/shop/users.bson', two.subarray(0, two.length - 10));
    }, /users\.bson: truncated document: it declares 62 bytes, 52 remain at byte offset 14/, { offset: 14 }],
    ['a .bson with a bad length', async () => file('dump/shop/users.bson', Buffer.from([1, 0, 0, 0, 0])), /invalid document length 1 at byte offset 0/, { offset: 0 }],
    ['invalid JSON', async () => file('seed/users.json', '[\n  {"_id": "a"},\n  {"_id": "b",}\n]'), /users\.json: invalid JSON: expected a quoted key at line 3, column 15/, { line: 3 }],
    ['an unclosed JSON array', async () => file('seed/users.json', '[{"_id": 1}'), /unclosed array/, {}],
    ['a bad Extended JSON value', async () => file('x.json', '{"_id": {"$oid": "nothex"}}\n'), /x\.json: line 1: \$oid "nothex" is not 24 hex digits/, { line: 1 }],
    ['a corrupt gzip', async () => file('dump/shop/users.bson.gz', Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3])), /users\.bson\.gz: corrupt gzip data/, {}],
    ['a truncated archive', async () => {
      const a = writeArchive({ header: {}, namespaces: [{ db: 'shop', collection: 'users', metadata: '{"indexes":[]}', type: 'collection', documents: [Buffer.from(BSON.serialize({ _id: 1 }))] }] });
      return file('shop.archive', a.subarray(0, a.length - 30));
    }, /shop\.archive: corrupt archive: .* at byte offset \d+/, {}],
    ['an unknown format', async () => file('notes.txt', 'hello'), /notes\.txt: not a known backup format/, { offset: 0 }],
  ])('%s', async (_label, make, message, data) => {
    const p = await make();
    const root = p.includes('/dump/') ? join(dir, 'dump') : p.includes('/seed/') ? join(dir, 'seed') : p;
    const err = await readBackup(root).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'EFORMAT', exitCode: 2, data: expect.objectContaining(data) });
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  });

  it('an archive whose block was altered fails its CRC', async () => {
    const a = writeArchive({ header: {}, namespaces: [{ db: 'shop', collection: 'users', metadata: '', type: 'collection', documents: [Buffer.from(BSON.serialize({ _id: 1, name: 'anna' }))] }] });
    a[a.indexOf(Buffer.from('anna'))] = 0x41;
    const err = await readBackup(await file('a.archive', gzipSync(a))).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/a\.archive: corrupt archive: CRC of shop\.users does not match its documents/);
  });
});

describe('mongodump file names', () => {
  it('escape as url.PathEscape and back; long names get a hash suffix', () => {
    expect(escapeCollectionName('cafés')).toBe('caf%C3%A9s');
    expect(escapeCollectionName('a b/c$d:e')).toBe('a%20b%2Fc$d:e');
    expect(unescapeCollectionName('caf%C3%A9s')).toBe('cafés');
    const long = 'x'.repeat(300);
    const base = dumpFileBase(long);
    expect(Buffer.byteLength(`${base}.metadata.json.gz`)).toBeLessThanOrEqual(255);
    expect(base).toMatch(/^x+%24[A-Za-z0-9_-]{27}$/);
  });
});
