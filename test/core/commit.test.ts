import { createHash } from 'node:crypto';
import { join } from 'node:path';
import {
  Binary, BSON, BSONRegExp, BSONSymbol, Code, DBRef, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp,
} from 'bson';
import { describe, expect, it } from 'vitest';
import { FIXED, useTempRepository } from '../support/temp-repo.js';
import { commit, init, log, show } from '../../src/index.js';
import { SnapshotRepository } from '../../src/store/index.js';
import { loadPart, openSnapshot, partBlobs, readCollectionEntry } from '../../src/core/snapshot.js';
import { useTestDatabase } from '../support/test-db.js';
import { generateShop, loadShop } from '../support/shop.js';


let dir = '';
let repo = '';
useTempRepository('commit', (r) => ({ dir, repo } = r));

/** A document with every BSON type, fields in a deliberate (unsorted) order. */
function everyTypeDocument(): Uint8Array {
  const doc = {
    _id: { b: 1, a: 2 },
    zDouble: new Double(10),
    negZero: new Double(-0),
    nan: new Double(NaN),
    inf: new Double(Infinity),
    ninf: new Double(-Infinity),
    frac: new Double(19.5),
    int32: new Int32(5),
    int64: Long.fromString('-9223372036854775808'),
    dec: Decimal128.fromString('19.99'),
    str: 'Zürich ✓ 中文 😀',
    oldDate: new Date('1901-05-06T07:08:09.123Z'),
    farDate: new Date(253402300800000 + 86400000),
    oid: new ObjectId('68a72cf14b78eb31b9af9e45'),
    bin0: new Binary(Buffer.from([1, 2, 3]), 0),
    uuid: new Binary(Buffer.alloc(16, 7), 4),
    bin80: new Binary(Buffer.from('x'), 0x80),
    ts: new Timestamp({ t: 1700000000, i: 7 }),
    re: new BSONRegExp('^a.*b$', 'imsx'),
    min: new MinKey(),
    max: new MaxKey(),
    nul: null,
    yes: true,
    arr: [new Int32(1), 'two', { three: new Double(3.5) }, []],
    nested: { y: 1, x: { deep: [null] } },
    code: new Code('function () { return 1; }'),
    codeScope: new Code('x + 1', { x: new Int32(1) }),
    ref: new DBRef('users', new ObjectId('68a72cf14b78eb31b9af9e46'), 'shop'),
    sym: new BSONSymbol('sym'),
  };
  return BSON.serialize(doc);
}

describe('commit', () => {
  it('round-trips every BSON type byte for byte, field order and compound _id included', async () => {
    const t = await useTestDatabase('types');
    try {
      const raw = everyTypeDocument();
      await t.db.collection('things').insertOne(BSON.deserialize(raw, { promoteValues: false, bsonRegExp: true }));
      const fromDb = (await t.db.collection('things').find({}, { raw: true }).toArray())[0] as unknown as Uint8Array;
      expect(Buffer.from(fromDb).equals(Buffer.from(raw))).toBe(true);

      const r = await commit({ repo, uri: t.dbUri, ...FIXED });
      expect(r.committed).toBe(true);
      const snap = await openSnapshot(await SnapshotRepository.open(repo), 'HEAD');
      const entry = await readCollectionEntry(snap, 'things');
      const [part] = partBlobs(snap, entry);
      const docs = await loadPart(snap, part!.path, part!.oid);
      expect(docs).toHaveLength(1);
      expect(Buffer.from(BSON.serialize(docs[0]!)).toString('hex')).toBe(Buffer.from(raw).toString('hex'));
    } finally {
      await t.drop();
    }
  });

  it('makes no commit when nothing changed, and gives the same tree for the same data in another insertion order', async () => {
    const a = await useTestDatabase('order_a');
    const b = await useTestDatabase('order_b');
    try {
      await loadShop(a.db, { totalDocs: 600, seed: 7 });
      // The same documents, inserted newest first.
      const batches = [...generateShop({ totalDocs: 600, seed: 7, batchSize: 50 })].reverse();
      for (const { collection, docs } of batches) await b.db.collection(collection).insertMany([...docs].reverse());
      await b.db.collection('users').createIndex({ email: 1 }, { unique: true });
      await b.db.collection('products').createIndex({ producerId: 1 });
      await b.db.collection('orders').createIndex({ userId: 1, createdAt: -1 });

      const first = await commit({ repo, uri: a.dbUri, ...FIXED });
      expect(first.committed).toBe(true);
      expect(first.documents).toBe(600);
      const again = await commit({ repo, uri: a.dbUri, ...FIXED });
      expect(again.committed).toBe(false);
      expect(again.tree).toBe(first.tree);
      expect((await log({ repo })).length).toBe(2); // init + one snapshot

      const repo2 = join(dir, 'other-repo');
      await init({ repo: repo2, ...FIXED });
      const other = await commit({ repo: repo2, uri: b.dbUri, ...FIXED });
      expect(other.tree).toBe(first.tree);
    } finally {
      await a.drop();
      await b.drop();
    }
  });

  it('rewrites one part file when one field of one document changes in 10,000', async () => {
    const t = await useTestDatabase('onepart');
    try {
      const docs = Array.from({ length: 10_000 }, (_, i) => ({ _id: new Int32(i), name: `item ${i}`, qty: new Int32(i % 7) }));
      for (let i = 0; i < docs.length; i += 1000) await t.db.collection('items').insertMany(docs.slice(i, i + 1000));
      const first = await commit({ repo, uri: t.dbUri, ...FIXED });
      expect(first.changes).toBeUndefined(); // only when asked
      await t.db.collection('items').updateOne({ _id: 4321 }, { $set: { qty: 99 } });
      const second = await commit({ repo, uri: t.dbUri, ...FIXED, changes: true });
      expect(second.committed).toBe(true);
      // commit reports what it changed against its parent, as a diff of the two commits would.
      expect(second.changes!.from).toBe(first.commit);
      expect(second.changes!.to).toBe(second.commit);
      expect(second.changes!.collections.map((c) => [c.name, c.status, c.counts])).toEqual([['items', 'changed', { added: 0, removed: 0, changed: 1 }]]);
      expect(second.changes!.totals.documents).toEqual({ added: 0, removed: 0, changed: 1 });

      const store = await SnapshotRepository.open(repo);
      const before = await store.listFiles(first.commit!);
      const after = await store.listFiles(second.commit!);
      const changed = [...after].filter(([p, oid]) => before.get(p) !== oid).map(([p]) => p).sort();
      const parts = changed.filter((p) => p.includes('/parts/'));
      expect(parts).toHaveLength(1);
      expect(changed).toEqual([parts[0], 'collections/items/collection.json', 'manifest.json'].sort());
      expect([...before.keys()].sort()).toEqual([...after.keys()].sort());

      const oldLines = (await store.readBlob(before.get(parts[0]!)!)).toString('utf8').split('\n');
      const newLines = (await store.readBlob(after.get(parts[0]!)!)).toString('utf8').split('\n');
      expect(newLines.length).toBe(oldLines.length);
      const diff = newLines.filter((l, i) => l !== oldLines[i]);
      expect(diff).toEqual(['    "qty": 99']);
    } finally {
      await t.drop();
    }
  });

  it('records counts, hashes and the source without credentials', async () => {
    const t = await useTestDatabase('meta');
    try {
      await loadShop(t.db, { totalDocs: 200, seed: 3 });
      const r = await commit({ repo, uri: t.dbUri, message: 'first', ...FIXED });
      expect(r.message).toMatch(/^first\n\n/);
      expect(r.message).toContain('Dbsnap-Documents: 200\n');
      const s = await show({ repo });
      expect(s.documents).toBe(200);
      expect(s.collections.map((c) => c.name)).toEqual(['orders', 'producers', 'products', 'users']);
      expect(s.collections.reduce((n, c) => n + c.documents, 0)).toBe(200);
      expect(s.collections.find((c) => c.name === 'users')!.indexes).toBe(2);
      expect(s.trailers.Source).toMatch(/^mongodb:\/\/[^@]+\/dbsnap_test_meta/);
      // collection.json records the MD5 of the documents' BSON in _id order (what dbHash reports).
      const raw = (await t.db.collection('users').find({}, { raw: true, sort: { _id: 1 } }).toArray()) as unknown as Uint8Array[];
      const md5 = createHash('md5');
      for (const d of raw) md5.update(d);
      const entry = await readCollectionEntry(await openSnapshot(await SnapshotRepository.open(repo), 'HEAD'), 'users');
      expect(entry.bsonMd5).toBe(md5.digest('hex'));
    } finally {
      await t.drop();
    }
  });

  it('never records or prints the password of the connection string', async () => {
    const t = await useTestDatabase('creds');
    try {
      await t.db.collection('c').insertOne({ _id: 1 });
      const u = new URL(t.dbUri);
      u.username = 'alice';
      u.password = 's3cr3t-pw';
      let text = '';
      try {
        const r = await commit({ repo, uri: u.toString(), ...FIXED });
        text = JSON.stringify(r);
      } catch (err) {
        expect((err as { code: string }).code).toBe('ECONNECT');
        text = `${(err as Error).message} ${JSON.stringify((err as { data: unknown }).data)}`;
        expect(text).toContain('<credentials>@');
      }
      expect(text).not.toContain('s3cr3t-pw');
      expect(text).not.toContain('alice');
    } finally {
      await t.drop();
    }
  });
});

describe('commit and .gitattributes', () => {
  it('marks dbsnap metadata generated for GitHub and upgrades the attributes an earlier dbsnap wrote, never a hand-edited file', async () => {
    const { GITATTRIBUTES, PREVIOUS_GITATTRIBUTES } = await import('../../src/canonical/format.js');
    expect(GITATTRIBUTES).toContain('manifest.json linguist-generated=true\n');
    expect(GITATTRIBUTES).toContain('collections/*/collection.json linguist-generated=true\n');
    const t = await useTestDatabase('attributes');
    try {
      await t.db.collection('c').insertOne({ _id: 1 });
      const store = await SnapshotRepository.open(repo);
      // Put the version-1 .gitattributes back, as a repository made before this change has it.
      const rewriteAttributes = async (text: string) => {
        const head = (await store.head()).oid!;
        const files = await store.listFiles(head);
        files.set('.gitattributes', await store.writeBlob(text));
        const c = await store.writeCommit({ tree: await store.writeTree([...files].map(([path, oid]) => ({ path, oid }))), parents: [head], message: 'old attributes\n', author: { ...FIXED.author, timestamp: 1, timezoneOffset: 0 } });
        await store.updateRef('refs/heads/main', c, head);
      };
      await rewriteAttributes(PREVIOUS_GITATTRIBUTES[0]!);
      const r = await commit({ repo, uri: t.dbUri, ...FIXED });
      expect((await store.readFile(r.commit!, '.gitattributes'))!.toString()).toBe(GITATTRIBUTES);
      await rewriteAttributes('*.json text\n# mine\n');
      await t.db.collection('c').insertOne({ _id: 2 });
      const r2 = await commit({ repo, uri: t.dbUri, ...FIXED });
      expect((await store.readFile(r2.commit!, '.gitattributes'))!.toString()).toBe('*.json text\n# mine\n');
    } finally {
      await t.drop();
    }
  });
});
