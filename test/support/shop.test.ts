import { createHash } from 'node:crypto';
import { BSON, Decimal128, Double, Int32, Long, ObjectId, type Db, type Document } from 'mongodb';
import { describe, expect, it } from 'vitest';
import {
  SHOP_MUTATED_AT,
  decimalFromCents,
  generateShop,
  loadShop,
  mutateShop,
  shopSizes,
  type ShopSizes,
} from './shop.js';
import { useTestDatabase } from './test-db.js';

/** Everything generated, in order, as one hash over the BSON bytes and collection names (not batch shapes). */
function digest(opts: Parameters<typeof generateShop>[0]): { sha: string; count: number } {
  const hash = createHash('sha256');
  let count = 0;
  let current = '';
  for (const { collection, docs } of generateShop(opts)) {
    if (collection !== current) hash.update((current = collection));
    for (const doc of docs) {
      hash.update(BSON.serialize(doc));
      count++;
    }
  }
  return { sha: hash.digest('hex'), count };
}

/** Round-trips through BSON without promotion, so the stored types are what we inspect. */
function collect(opts: Parameters<typeof generateShop>[0]): Record<string, Document[]> {
  const out: Record<string, Document[]> = { users: [], producers: [], products: [], orders: [] };
  for (const { collection, docs } of generateShop(opts)) {
    for (const doc of docs) {
      out[collection]!.push(BSON.deserialize(BSON.serialize(doc), { promoteValues: false, promoteLongs: false }));
    }
  }
  return out;
}

const cents = (d: Decimal128) => {
  const m = /^(\d+)\.(\d\d)$/.exec(d.toString());
  if (!m) throw new Error(`not a two-decimal price: ${d.toString()}`);
  return Number(m[1]) * 100 + Number(m[2]);
};

describe('shopSizes', () => {
  it('splits 20/2/18/60 and sums exactly', () => {
    expect(shopSizes(1000)).toEqual({ users: 200, producers: 20, products: 180, orders: 600 });
    expect(shopSizes(1_000_000)).toEqual({ users: 200_000, producers: 20_000, products: 180_000, orders: 600_000 });
    for (const total of [4, 5, 7, 13, 49, 50, 101, 999, 2001, 12_345, 999_999]) {
      const s = shopSizes(total);
      expect(s.users + s.producers + s.products + s.orders).toBe(total);
      for (const n of Object.values(s)) expect(n).toBeGreaterThanOrEqual(1);
    }
  });

  it('rejects totals that cannot give every collection a document', () => {
    expect(() => shopSizes(3)).toThrow(expect.objectContaining({ code: 'EINVALIDARG' }));
    expect(() => shopSizes(10.5)).toThrow(expect.objectContaining({ code: 'EINVALIDARG' }));
  });
});

describe('generateShop determinism', () => {
  it('gives identical BSON bytes for the same seed, whatever the batch size', () => {
    const a = digest({ totalDocs: 2000, seed: 7 });
    const b = digest({ totalDocs: 2000, seed: 7 });
    const c = digest({ totalDocs: 2000, seed: 7, batchSize: 13 });
    expect(a.count).toBe(2000);
    expect(b).toEqual(a);
    // Batch boundaries only re-chunk the same stream.
    expect(c.sha).toBe(a.sha);
  });

  it('gives different documents for a different seed', () => {
    expect(digest({ totalDocs: 2000, seed: 8 }).sha).not.toBe(digest({ totalDocs: 2000, seed: 7 }).sha);
  });

  it('honours explicit sizes', () => {
    const sizes: ShopSizes = { users: 3, producers: 1, products: 2, orders: 5 };
    const got = collect({ sizes, seed: 1 });
    expect(Object.fromEntries(Object.entries(got).map(([k, v]) => [k, v.length]))).toEqual(sizes);
  });

  it('rejects sizes whose references could not be satisfied', () => {
    expect(() => [...generateShop({ sizes: { users: 0, producers: 1, products: 1, orders: 1 } })]).toThrow(
      expect.objectContaining({ code: 'EINVALIDARG' }),
    );
    expect(() => [...generateShop({ totalDocs: 10, batchSize: 0 })]).toThrow(
      expect.objectContaining({ code: 'EINVALIDARG' }),
    );
  });
});

describe('generateShop batches', () => {
  it('yields collections in order, in batches of at most batchSize', () => {
    const seen: { collection: string; length: number }[] = [];
    for (const { collection, docs } of generateShop({ totalDocs: 2000, batchSize: 64 })) {
      seen.push({ collection, length: docs.length });
    }
    expect(seen.every((b) => b.length >= 1 && b.length <= 64)).toBe(true);
    const order = seen.map((b) => b.collection).filter((c, i, all) => all[i - 1] !== c);
    expect(order).toEqual(['users', 'producers', 'products', 'orders']);
    const sizes = shopSizes(2000);
    for (const name of order) {
      const batches = seen.filter((b) => b.collection === name);
      expect(batches.reduce((sum, b) => sum + b.length, 0)).toBe(sizes[name as keyof ShopSizes]);
      // Only the last batch of a collection may be short.
      expect(batches.slice(0, -1).every((b) => b.length === 64)).toBe(true);
    }
  });

  it('streams 1,000,000 documents without holding them', () => {
    const counts: Record<string, number> = {};
    let largest = 0;
    for (const { collection, docs } of generateShop({ totalDocs: 1_000_000, seed: 3 })) {
      counts[collection] = (counts[collection] ?? 0) + docs.length;
      largest = Math.max(largest, docs.length);
    }
    expect(counts).toEqual(shopSizes(1_000_000));
    expect(largest).toBe(1000);
  });
});

describe('generated documents', () => {
  const shop = collect({ totalDocs: 2000, seed: 11 });
  const { users, producers, products, orders } = shop as Record<string, Document[]>;
  const ids = (docs: Document[]) => new Set(docs.map((d) => (d._id as ObjectId).toHexString()));

  it('keeps references valid', () => {
    const userIds = ids(users!);
    const productIds = ids(products!);
    const producerIds = ids(producers!);
    for (const o of orders!) {
      expect(userIds.has(o.userId.toHexString())).toBe(true);
      for (const item of o.items) expect(productIds.has(item.productId.toHexString())).toBe(true);
    }
    for (const p of products!) expect(producerIds.has(p.producerId.toHexString())).toBe(true);
  });

  it('gives users unique lowercase emails', () => {
    const emails = users!.map((u) => u.email as string);
    expect(new Set(emails).size).toBe(users!.length);
    for (const e of emails) expect(e).toMatch(/^[a-z0-9.]+@[a-z0-9.]+$/);
  });

  it('gives ObjectIds in creation order whose timestamp is the createdAt second', () => {
    for (const docs of Object.values(shop)) {
      const hex = docs.map((d) => (d._id as ObjectId).toHexString());
      expect([...hex].sort()).toEqual(hex);
      expect(new Set(hex).size).toBe(hex.length);
      for (const d of docs) {
        expect((d._id as ObjectId).getTimestamp().getTime()).toBe(Math.floor(d.createdAt.getTime() / 1000) * 1000);
      }
    }
  });

  it('writes users with fixed field order, Long counters, nulls, missing fields and pre-1970 dates', () => {
    for (const u of users!) {
      const keys = Object.keys(u).filter((k) => k !== 'birthDate');
      expect(keys).toEqual([
        '_id', 'firstName', 'lastName', 'email', 'role', 'address', 'loyaltyPoints', 'newsletter',
        'createdAt', 'updatedAt', 'lastLoginAt',
      ]);
      expect(u.loyaltyPoints).toBeInstanceOf(Long);
      expect(['customer', 'producer', 'admin']).toContain(u.role);
      expect(u.updatedAt.getTime()).toBeGreaterThanOrEqual(u.createdAt.getTime());
    }
    expect(users!.some((u) => u.lastLoginAt === null)).toBe(true);
    expect(users!.some((u) => !('phone' in u.address))).toBe(true);
    expect(users!.some((u) => 'phone' in u.address)).toBe(true);
    expect(users!.some((u) => u.birthDate instanceof Date && u.birthDate.getTime() < 0)).toBe(true);
    expect(users!.some((u) => !('birthDate' in u))).toBe(true);
    const names = users!.map((u) => `${u.firstName} ${u.lastName}`).join('\n');
    expect(names).toMatch(/[éüöß]/);
    expect(names).toMatch(/\p{Script=Han}/u);
    expect(names).toMatch(/\p{Extended_Pictographic}/u);
  });

  it('stores ratings and weights as doubles, including integral values', () => {
    for (const p of producers!) {
      expect(p.rating).toBeInstanceOf(Double);
      expect(Object.keys(p)).toEqual([
        '_id', 'name', 'country', 'certifications', 'rating', 'contact', 'createdAt', 'updatedAt',
      ]);
    }
    expect(producers!.some((p) => Number.isInteger(p.rating.value))).toBe(true);
    expect(producers!.some((p) => !Number.isInteger(p.rating.value))).toBe(true);
    expect(products!.some((p) => Number.isInteger(p.weightKg.value))).toBe(true);
  });

  it('stores product prices as two-decimal Decimal128 and stock as Int32', () => {
    for (const p of products!) {
      expect(Object.keys(p)).toEqual([
        '_id', 'producerId', 'name', 'sku', 'price', 'stock', 'tags', 'weightKg', 'active', 'createdAt', 'updatedAt',
      ]);
      expect(p.price).toBeInstanceOf(Decimal128);
      expect(p.price.toString()).toMatch(/^\d+\.\d\d$/);
      expect(p.stock).toBeInstanceOf(Int32);
      expect(p.weightKg).toBeInstanceOf(Double);
    }
    expect(new Set(products!.map((p) => p.sku)).size).toBe(products!.length);
  });

  it('totals orders exactly from qty * unitPrice in cents', () => {
    for (const o of orders!) {
      expect(o.total).toBeInstanceOf(Decimal128);
      let sum = 0;
      for (const item of o.items) {
        expect(item.qty).toBeInstanceOf(Int32);
        sum += item.qty.value * cents(item.unitPrice);
      }
      expect(cents(o.total)).toBe(sum);
    }
    expect(orders!.some((o) => 'notes' in o)).toBe(true);
    expect(orders!.some((o) => o.items.length > 1)).toBe(true);
  });

  it('averages a realistic 250-400 bytes of BSON per document', () => {
    let bytes = 0;
    let count = 0;
    for (const docs of Object.values(shop)) {
      for (const d of docs) bytes += BSON.serialize(d).length;
      count += docs.length;
    }
    expect(bytes / count).toBeGreaterThan(250);
    expect(bytes / count).toBeLessThan(400);
  });
});

describe('decimalFromCents', () => {
  it('matches Decimal128.fromString bit for bit', () => {
    for (const c of [0, 1, 5, 99, 100, 101, 12_345, 1_999_999, 2 ** 32 + 7, 2 ** 40 + 12_345]) {
      const whole = Math.floor(c / 100);
      const frac = String(c % 100).padStart(2, '0');
      const expected = Decimal128.fromString(`${whole}.${frac}`);
      expect(Buffer.from(decimalFromCents(c).bytes).toString('hex')).toBe(Buffer.from(expected.bytes).toString('hex'));
    }
  });
});

describe('loadShop and mutateShop (server)', () => {
  const SIZES: ShopSizes = shopSizes(2000);

  /** Every document of every shop collection in _id order, as the exact bytes the server holds. */
  async function dump(db: Db): Promise<Record<string, Buffer[]>> {
    const out: Record<string, Buffer[]> = {};
    for (const name of ['users', 'producers', 'products', 'orders']) {
      const cursor = db.collection(name).find({}, { sort: { _id: 1 }, raw: true });
      out[name] = (await cursor.toArray()) as unknown as Buffer[];
    }
    return out;
  }

  it('loads the generated documents byte for byte, with the indexes', async () => {
    const t = await useTestDatabase('shop_load');
    try {
      expect(await loadShop(t.db, { totalDocs: 2000, seed: 5 })).toEqual(SIZES);
      const stored = await dump(t.db);
      const expected: Record<string, string[]> = { users: [], producers: [], products: [], orders: [] };
      for (const { collection, docs } of generateShop({ totalDocs: 2000, seed: 5 })) {
        for (const d of docs) expected[collection]!.push(Buffer.from(BSON.serialize(d)).toString('hex'));
      }
      for (const name of Object.keys(expected)) {
        // Generated _ids ascend, so _id order is generation order.
        expect(stored[name]!.map((b) => Buffer.from(b).toString('hex'))).toEqual(expected[name]);
      }
      const indexes = async (name: string) =>
        (await t.db.collection(name).listIndexes().toArray()).map((i) => ({ name: i.name, key: i.key, unique: i.unique }));
      expect(await indexes('users')).toContainEqual({ name: 'email_1', key: { email: 1 }, unique: true });
      expect(await indexes('products')).toContainEqual({ name: 'producerId_1', key: { producerId: 1 }, unique: undefined });
      expect(await indexes('orders')).toContainEqual({
        name: 'userId_1_createdAt_-1',
        key: { userId: 1, createdAt: -1 },
        unique: undefined,
      });
    } finally {
      await t.drop();
    }
  });

  it('mutates a seeded fraction of each collection, the same way every time', async () => {
    const a = await useTestDatabase('shop_mut_a');
    const b = await useTestDatabase('shop_mut_b');
    try {
      await loadShop(a.db, { totalDocs: 2000, seed: 5 });
      await loadShop(b.db, { totalDocs: 2000, seed: 5 });
      const before = await dump(a.db);
      const products = await a.db.collection('products').find({}, { sort: { _id: 1 } }).toArray();

      const changed = await mutateShop(a.db, { fraction: 0.01, seed: 9 });
      // 1% of 400 / 40 / 360 / 1200, at least one each.
      expect(changed).toEqual({ users: 4, producers: 1, products: 4, orders: 12 });
      expect(await mutateShop(b.db, { fraction: 0.01, seed: 9 })).toEqual(changed);
      expect(await dump(b.db)).toEqual(await dump(a.db));

      const after = await dump(a.db);
      for (const name of Object.keys(after)) {
        const differing = after[name]!.filter((doc, i) => !doc.equals(before[name]![i]!)).length;
        expect(differing).toBe(changed[name]);
        expect(await a.db.collection(name).countDocuments({ updatedAt: SHOP_MUTATED_AT })).toBe(changed[name]);
      }
      // Prices rise by 5% (at least a cent) and stay two-decimal Decimal128.
      for (const p of await a.db.collection('products').find({ updatedAt: SHOP_MUTATED_AT }).toArray()) {
        const old = products.find((q) => q._id.equals(p._id))!;
        expect(p.price).toBeInstanceOf(Decimal128);
        expect(cents(p.price)).toBe(Math.max(cents(old.price) + 1, Math.round((cents(old.price) * 105) / 100)));
      }

      // Another seed picks other documents.
      const c = await mutateShop(b.db, { fraction: 0.01, seed: 10 });
      expect(c).toEqual(changed);
      const picked = async (db: Db) =>
        (await db.collection('orders').find({ updatedAt: SHOP_MUTATED_AT }, { projection: { _id: 1 } }).toArray()).length;
      expect(await picked(b.db)).toBeGreaterThan(await picked(a.db));
    } finally {
      await a.drop();
      await b.drop();
    }
  });

  it('rejects a fraction outside 0..1', async () => {
    const t = await useTestDatabase('shop_bad');
    try {
      await expect(mutateShop(t.db, { fraction: 1.5 })).rejects.toMatchObject({ code: 'EINVALIDARG' });
    } finally {
      await t.drop();
    }
  });
});
