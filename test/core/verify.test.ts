import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { EJSON, Int32, ObjectId, type Document } from 'bson';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FIXED, useTempRepository } from '../support/temp-repo.js';
import { commit } from '../../src/index.js';
import { updateConfig } from '../../src/core/config.js';
import { findDanglingReferences, referenceKey, valuesAtPath } from '../../src/core/references.js';
import { verify } from '../../src/core/verify.js';
import { SnapshotRepository } from '../../src/store/index.js';
import { loadShop } from '../support/shop.js';
import { useTestDatabase, type TestDatabase } from '../support/test-db.js';

const SHOP_RELATIONS = [
  { from: 'products.producerId', to: 'producers._id' },
  { from: 'orders.userId', to: 'users._id' },
  { from: 'orders.items.productId', to: 'products._id' },
];

let repo = '';
useTempRepository('verify', (r) => (repo = r.repo));

/** Rewrites HEAD's tree "by hand" (new blobs, tree and commit; HEAD moved), as someone using git directly would. */
async function commitByHand(edit: (files: Map<string, string>, r: SnapshotRepository) => Promise<void>): Promise<string> {
  const r = await SnapshotRepository.open(repo);
  const head = await r.head();
  const files = await r.listFiles(head.oid!);
  await edit(files, r);
  const tree = await r.writeTree([...files].map(([path, oid]) => ({ path, oid })));
  const c = await r.writeCommit({
    tree,
    parents: [head.oid!],
    message: 'edited by hand\n',
    author: { name: 'Hand', email: 'hand@example.com', timestamp: 1735787045, timezoneOffset: 0 },
  });
  await r.updateRef(head.ref, c, head.oid);
  return c;
}

async function partPaths(collection: string): Promise<[string, string][]> {
  const r = await SnapshotRepository.open(repo);
  const files = await r.listFiles((await r.head()).oid!);
  return [...files].filter(([p]) => p.startsWith(`collections/${collection}/parts/`));
}

function objectPath(oid: string): string {
  return join(repo, 'objects', oid.slice(0, 2), oid.slice(2));
}

describe('verify: the snapshot', () => {
  let shop: TestDatabase;
  beforeAll(async () => {
    shop = await useTestDatabase('verify_shop');
    await loadShop(shop.db, { totalDocs: 1000, seed: 3 });
  });
  afterAll(async () => {
    await shop.drop();
  });

  it('finds nothing wrong with a clean snapshot', async () => {
    await commit({ repo, uri: shop.dbUri, ...FIXED });
    const r = await verify({ repo });
    expect(r.problems).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.documents).toBe(1000);
    expect(r.collections.map((c) => [c.name, c.documents, c.snapshot])).toEqual([
      ['orders', 600, 'ok'],
      ['producers', 20, 'ok'],
      ['products', 180, 'ok'],
      ['users', 200, 'ok'],
    ]);
    expect(r.collections.every((c) => c.parts > 1 && c.live === undefined)).toBe(true);
  });

  it('names a part file edited and committed by hand', async () => {
    await commit({ repo, uri: shop.dbUri, ...FIXED });
    const [[path, oid]] = (await partPaths('orders')).slice(1, 2);
    await commitByHand(async (files, r) => {
      const text = (await r.readBlob(oid)).toString('utf8');
      const edited = text.replace(/"status": "(\w+)"/, '"status": "refunded-by-hand"');
      expect(edited).not.toBe(text);
      files.set(path, await r.writeBlob(edited));
    });
    const r = await verify({ repo });
    expect(r.ok).toBe(false);
    expect(r.problems).toContainEqual({
      kind: 'hash',
      collection: 'orders',
      file: path,
      message: expect.stringContaining(`${path} does not match collections/orders/collection.json`),
    });
    expect(r.problems.map((p) => p.kind).sort()).toEqual(['hash', 'hash']); // the part and the collection total
    expect(r.collections.find((c) => c.name === 'orders')!.snapshot).toBe('corrupt');
    expect(r.collections.filter((c) => c.snapshot === 'ok').map((c) => c.name)).toEqual(['producers', 'products', 'users']);
  });

  it('reports a damaged git object by file and object id', async () => {
    await commit({ repo, uri: shop.dbUri, ...FIXED });
    const [path, oid] = (await partPaths('users'))[0]!;
    await chmod(objectPath(oid), 0o600);
    await writeFile(objectPath(oid), Buffer.from('this is not a zlib stream'));
    const r = await verify({ repo });
    expect(r.ok).toBe(false);
    const p = r.problems.find((x) => x.kind === 'git-object');
    expect(p).toMatchObject({ collection: 'users', file: path });
    expect(p!.message).toContain(oid);
    expect(p!.message).toContain('cannot be decompressed');
  });

  it('re-hashes blobs: an object rewritten with other content (valid zlib) is caught', async () => {
    await commit({ repo, uri: shop.dbUri, ...FIXED });
    const [path, oid] = (await partPaths('producers'))[0]!;
    const r0 = await SnapshotRepository.open(repo);
    const text = (await r0.readBlob(oid)).toString('utf8');
    const forged = Buffer.from(text.replace('"rating"', '"Rating"'), 'utf8');
    await chmod(objectPath(oid), 0o600);
    await writeFile(objectPath(oid), deflateSync(Buffer.concat([Buffer.from(`blob ${forged.length}\0`), forged])));
    const r = await verify({ repo });
    const kinds = r.problems.filter((x) => x.file === path).map((x) => x.kind);
    expect(kinds).toContain('git-object');
    expect(kinds).toContain('hash');
    expect(r.problems.find((x) => x.kind === 'git-object')!.message).toContain(`${oid} does not hash to its id`);
  });

  it('finds missing and unlisted files', async () => {
    await commit({ repo, uri: shop.dbUri, ...FIXED });
    const [[missing], [, other]] = await partPaths('products');
    await commitByHand(async (files) => {
      files.delete(missing);
      files.set('collections/products/parts/extra.json', other);
      files.set('collections/ghost/collection.json', other);
      // A directory of parts alone, without collection.json.
      files.set('collections/ghost2/parts/x.json', other);
    });
    const r = await verify({ repo });
    expect(r.problems.filter((p) => p.kind === 'missing-file').map((p) => p.file)).toEqual([missing]);
    expect(r.problems.filter((p) => p.kind === 'unlisted-file').map((p) => [p.file, p.collection])).toEqual([
      ['collections/ghost/collection.json', undefined],
      ['collections/ghost2/parts/x.json', undefined],
      ['collections/products/parts/extra.json', 'products'],
    ]);
  });

  it('a parts tree that cannot be read is a problem of its collection; the other collections are still checked', async () => {
    const c = await commit({ repo, uri: shop.dbUri, ...FIXED });
    const r0 = await SnapshotRepository.open(repo);
    const tree = (await r0.treeOid(c.commit!, 'collections/users/parts'))!;
    await r0.close();
    await chmod(objectPath(tree), 0o600);
    await writeFile(objectPath(tree), deflateSync(Buffer.from('tree 5\0junk!')));
    const r = await verify({ repo });
    expect(r.ok).toBe(false);
    expect(r.problems.map((p) => [p.kind, p.collection])).toEqual([['git-object', 'users']]);
    expect(r.problems[0]!.message).toContain('collections/users/parts');
    expect(r.collections.map((x) => [x.name, x.snapshot])).toEqual([
      ['orders', 'ok'],
      ['producers', 'ok'],
      ['products', 'ok'],
      ['users', 'corrupt'],
    ]);
  });
});

describe('verify: document order and types', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await useTestDatabase('verify_order');
    await t.db.collection('items').insertMany([1, 2, 3].map((i): Document => ({ _id: new Int32(i), n: `item ${i}` })));
    await commit({ repo, uri: t.dbUri, ...FIXED });
  });
  afterEach(async () => {
    await t.drop();
  });

  async function replacePart(edit: (text: string) => string): Promise<string> {
    const [[path, oid]] = await partPaths('items');
    await commitByHand(async (files, r) => {
      files.set(path, await r.writeBlob(edit((await r.readBlob(oid)).toString('utf8'))));
    });
    return path;
  }

  it('reports a duplicate _id', async () => {
    const path = await replacePart((s) => s.replace('"_id": 2', '"_id": 1'));
    const r = await verify({ repo });
    expect(r.problems.filter((p) => p.kind === 'order')).toEqual([
      { kind: 'order', collection: 'items', file: path, message: `${path} document 1 repeats the _id of ${path} document 0: duplicate _id.` },
    ]);
  });

  it('reports documents out of _id order', async () => {
    const path = await replacePart((s) => s.replace('"_id": 3', '"_id": 0'));
    const r = await verify({ repo });
    expect(r.problems.filter((p) => p.kind === 'order').map((p) => p.message)).toEqual([
      `${path} document 2 has a smaller _id than ${path} document 1: documents are not in _id order.`,
    ]);
  });

  it('reports Extended JSON that does not decode to a BSON type, naming the file', async () => {
    const path = await replacePart((s) => s.replace('"_id": 2', '"_id": {"$numberInt": "two"}'));
    const r = await verify({ repo });
    const parse = r.problems.filter((p) => p.kind === 'parse');
    expect(parse).toHaveLength(1);
    expect(parse[0]).toMatchObject({ collection: 'items', file: path });
    expect(parse[0]!.message).toContain(`${path}: document 1`);
  });

  it('reports text that parses but is not what dbsnap writes', async () => {
    const path = await replacePart((s) => s.replace('"n": "item 2"', '"n":   "item 2"'));
    const r = await verify({ repo });
    expect(r.problems.filter((p) => p.kind === 'format').map((p) => p.file)).toEqual([path]);
  });
});

describe('verify: against a database', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await useTestDatabase('verify_live');
    await loadShop(t.db, { totalDocs: 400, seed: 5 });
  });
  afterEach(async () => {
    await t.drop();
  });

  it('is identical right after a commit (views included)', async () => {
    await t.db.createCollection('paid', { viewOn: 'orders', pipeline: [{ $match: { status: 'paid' } }] });
    await commit({ repo, uri: t.dbUri, ...FIXED });
    const r = await verify({ repo, uri: t.dbUri });
    expect(r.problems).toEqual([]);
    expect(r.database).toBe(t.dbName);
    expect(r.collections.map((c) => [c.name, c.type, c.live, c.counts])).toEqual(
      ['orders', 'paid', 'producers', 'products', 'users'].map((n) => [n, n === 'paid' ? 'view' : 'collection', 'identical', { added: 0, removed: 0, changed: 0 }]),
    );
  });

  it('counts added, removed and changed documents, index and collection differences exactly', async () => {
    await commit({ repo, uri: t.dbUri, ...FIXED });
    const orders = t.db.collection('orders');
    const [first, second] = await orders.find({}, { sort: { _id: 1 }, limit: 2 }).toArray();
    await orders.updateOne({ _id: first!._id }, { $set: { status: 'lost' } });
    await orders.deleteOne({ _id: second!._id });
    await orders.insertOne({ _id: new ObjectId('ffffffffffffffffffffffff'), status: 'new' });
    await t.db.collection('users').createIndex({ lastName: 1 }, { name: 'lastName_1' });
    await t.db.collection('producers').drop();
    await t.db.collection('audit').insertOne({ _id: 1 } as Document);

    const r = await verify({ repo, uri: t.dbUri });
    expect(r.ok).toBe(false);
    const by = Object.fromEntries(r.collections.map((c) => [c.name, c]));
    expect(by.orders).toMatchObject({ live: 'differs', counts: { added: 1, removed: 1, changed: 1 } });
    expect(by.users).toMatchObject({ live: 'differs', counts: { added: 0, removed: 0, changed: 0 }, indexes: { added: ['lastName_1'], removed: [], changed: [] } });
    expect(by.products).toMatchObject({ live: 'identical' });
    expect(by.producers).toMatchObject({ live: 'missing', snapshot: 'ok' });
    expect(by.audit).toMatchObject({ live: 'extra', snapshot: 'absent' });
    expect(r.problems.filter((p) => p.kind === 'live').map((p) => p.collection)).toEqual(['orders', 'producers', 'users', 'audit'].sort());
    expect(r.problems.find((p) => p.collection === 'orders')!.message).toBe(
      `orders: database ${t.dbName} differs from the snapshot: 1 added, 1 removed, 1 changed documents.`,
    );
  });

  it('verifies an older snapshot against the database by ref', async () => {
    const first = await commit({ repo, uri: t.dbUri, ...FIXED });
    await t.db.collection('users').deleteMany({ role: 'admin' });
    const admins = 400 * 0.2 - (await t.db.collection('users').countDocuments());
    expect(admins).toBeGreaterThan(0);
    await commit({ repo, uri: t.dbUri, ...FIXED });
    expect((await verify({ repo, uri: t.dbUri })).ok).toBe(true);
    const old = await verify({ repo, ref: first.commit!, uri: t.dbUri });
    expect(old.commit).toBe(first.commit);
    expect(old.collections.find((c) => c.name === 'users')!.counts).toEqual({ added: 0, removed: admins, changed: 0 });
  });
});

describe('verify: relations', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await useTestDatabase('verify_rel');
  });
  afterEach(async () => {
    await t.drop();
  });

  it('holds on the shop, and reports dangling references with exact counts and example _ids', async () => {
    await loadShop(t.db, { totalDocs: 500, seed: 9 });
    await updateConfig({ repo, change: (c) => ({ ...c, relations: SHOP_RELATIONS }), message: 'relations', ...FIXED });
    await commit({ repo, uri: t.dbUri, ...FIXED });
    const clean = await verify({ repo });
    expect(clean.ok).toBe(true);
    expect(clean.relations.map((r) => [r.relation.from, r.status, r.dangling])).toEqual([
      ['products.producerId', 'ok', 0],
      ['orders.userId', 'ok', 0],
      ['orders.items.productId', 'ok', 0],
    ]);
    const orders = await t.db.collection('orders').find({}, { sort: { _id: 1 } }).toArray();
    expect(clean.relations[1]!.references).toBe(orders.length);
    expect(clean.relations[2]!.references).toBe(orders.reduce((n, o) => n + o.items.length, 0));

    // Drop three users; every order of theirs now dangles.
    const gone = (await t.db.collection('users').find({}, { sort: { _id: 1 }, limit: 3 }).toArray()).map((u) => u._id.toHexString());
    await t.db.collection('users').deleteMany({ _id: { $in: gone.map((h) => new ObjectId(h)) } });
    await commit({ repo, uri: t.dbUri, ...FIXED });
    const orphans = orders.filter((o) => gone.includes(o.userId.toHexString()));
    expect(orphans.length).toBeGreaterThan(0);
    const r = await verify({ repo, examples: 2 });
    expect(r.ok).toBe(false);
    expect(r.relations[1]).toEqual({
      relation: SHOP_RELATIONS[1],
      status: 'dangling',
      targetMissing: false,
      references: orders.length,
      dangling: orphans.length,
      documents: orphans.length,
      examples: orphans.slice(0, 2).map((o) => `{"$oid":"${o._id.toHexString()}"}`),
    });
    expect(r.problems.filter((p) => p.kind === 'relation')).toEqual([
      {
        kind: 'relation',
        collection: 'orders',
        message: `orders.userId -> users._id: ${orphans.length} of ${orders.length} references dangle in ${orphans.length} documents, e.g. _id ${r.relations[1]!.examples.join(', ')}.`,
      },
    ]);
  });

  it('follows arrays to a non-_id field and keeps types apart', async () => {
    await t.db.collection('accounts').insertMany([
      { _id: 1, account_id: 'A1' },
      { _id: 2, account_id: 'A2' },
      { _id: 3, account_id: new Int32(5) },
    ] as Document[]);
    await t.db.collection('customers').insertMany([
      { _id: 10, accounts: ['A1', 'A2'] },
      { _id: 11, accounts: ['A2', 'A9', 'A8'] },
      { _id: 12, accounts: [new Int32(5)] },
      { _id: 13, accounts: ['5'] }, // a string is not the number 5
      { _id: 14 },
    ] as Document[]);
    await updateConfig({
      repo,
      change: (c) => ({ ...c, relations: [{ from: 'customers.accounts', to: 'accounts.account_id' }, { from: 'customers.x', to: 'nowhere._id' }] }),
      message: 'relations',
      ...FIXED,
    });
    await commit({ repo, uri: t.dbUri, ...FIXED });
    const r = await verify({ repo });
    expect(r.relations[0]).toMatchObject({ status: 'dangling', references: 7, dangling: 3, documents: 2, examples: ['{"$numberInt":"11"}', '{"$numberInt":"13"}'] });
    // No customer has x: nothing to dangle although the target does not exist.
    expect(r.relations[1]).toMatchObject({ status: 'ok', targetMissing: true, references: 0 });
  });
});

describe('references helpers', () => {
  it('descends into arrays at every level and skips null', () => {
    const doc = { items: [{ p: 1 }, { p: [2, 3] }, { p: null }, {}, 'x'], a: { b: { c: 'v' } } };
    expect(valuesAtPath(doc, ['items', 'p'])).toEqual([1, 2, 3]);
    expect(valuesAtPath(doc, ['a', 'b', 'c'])).toEqual(['v']);
    expect(valuesAtPath(doc, ['missing'])).toEqual([]);
  });

  it('keys numbers by value across numeric types, but not strings or ObjectIds', () => {
    expect(referenceKey(new Int32(5))).toBe(referenceKey(5));
    expect(referenceKey(EJSON.deserialize({ v: { $numberLong: '5' } }, { relaxed: false }).v)).toBe(referenceKey(5));
    expect(referenceKey('5')).not.toBe(referenceKey(5));
    const oid = new ObjectId('68a72cf14b78eb31b9af9e45');
    expect(referenceKey(oid)).not.toBe(referenceKey(oid.toHexString()));
    expect(referenceKey({ a: 1, b: 2 })).not.toBe(referenceKey({ b: 2, a: 1 }));
  });

  it('reports every reference as dangling when the target collection is absent (partial restore)', async () => {
    const orders = [{ _id: 1, userId: 'u1' }, { _id: 2, userId: 'u2' }, { _id: 3 }];
    const r = await findDanglingReferences([{ from: 'orders.userId', to: 'users._id' }], (n) => (n === 'orders' ? orders : null));
    expect(r).toEqual([
      {
        relation: { from: 'orders.userId', to: 'users._id' },
        status: 'dangling',
        targetMissing: true,
        references: 2,
        dangling: 2,
        documents: 2,
        examples: ['{"$numberInt":"1"}', '{"$numberInt":"2"}'],
      },
    ]);
  });
});

describe('verify: permissions', () => {
  it('warns (without failing) when the repository is readable by others', async () => {
    const t = await useTestDatabase('verify_perm');
    try {
      await t.db.collection('c').insertOne({ _id: 1 } as Document);
      await commit({ repo, uri: t.dbUri, ...FIXED });
      expect((await verify({ repo })).warnings).toEqual([]);
      await chmod(repo, 0o755);
      const r = await verify({ repo });
      expect(r.ok).toBe(true);
      expect(r.warnings).toHaveLength(1);
      expect(r.warnings[0]).toContain(`1 entry of the repository ${repo} is accessible to other users (e.g. . (0755))`);
    } finally {
      await t.drop();
    }
  });
});
