/**
 * The two databases of issue 17's "no target, reported" rows, besides the shop: many small
 * collections (per-collection overhead: listing, metadata, trees) and a few documents of ~10 MB
 * each (one document far larger than a part). Both deterministic, loaded with insertMany.
 */
import { Binary, Decimal128, Int32, ObjectId, type Db, type Document } from 'mongodb';
import { generateShop, Rng } from '../test/support/shop.js';
import { BSON } from 'mongodb';

export interface LoadedDatabase {
  collections: number;
  documents: number;
  bsonBytes: number;
}

/**
 * `collections` collections (`c000`, `c001`, ...) sharing `documents` shop documents round robin:
 * the shop's users, producers, products and orders mixed, so every collection holds all shapes.
 */
export async function loadManyCollections(
  db: Db,
  opts: { collections: number; documents: number; seed: number },
): Promise<LoadedDatabase> {
  const width = String(opts.collections - 1).length;
  const names = Array.from({ length: opts.collections }, (_, i) => `c${String(i).padStart(Math.max(3, width), '0')}`);
  const pending = new Map<string, Document[]>(names.map((n) => [n, []]));
  let next = 0;
  let bsonBytes = 0;
  let documents = 0;
  const flush = async (name: string) => {
    const docs = pending.get(name)!;
    if (docs.length === 0) return;
    await db.collection(name).insertMany(docs, { ordered: true });
    pending.set(name, []);
  };
  for (const { docs } of generateShop({ totalDocs: Math.max(4, opts.documents), seed: opts.seed, batchSize: 1000 })) {
    for (const doc of docs) {
      const name = names[next++ % names.length]!;
      pending.get(name)!.push(doc);
      bsonBytes += BSON.calculateObjectSize(doc);
      documents++;
      if (pending.get(name)!.length >= 1000) await flush(name);
    }
  }
  for (const name of names) await flush(name);
  // Collections that got no document still exist, as in a real database with empty ones.
  const existing = new Set((await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
  for (const name of names) if (!existing.has(name)) await db.createCollection(name);
  return { collections: names.length, documents, bsonBytes };
}

/**
 * `count` documents of about `megabytes` MB each in collection `big`: an invoice-like document with
 * an array of line items (objects with strings, Int32, Decimal128, dates, ObjectIds: the canonical
 * text's expensive cases) and a 1 MB binary attachment.
 */
export async function loadBigDocuments(db: Db, opts: { count: number; megabytes: number; seed: number }): Promise<LoadedDatabase> {
  const rng = new Rng();
  let bsonBytes = 0;
  const attachmentBytes = 1 << 20;
  for (let i = 0; i < opts.count; i++) {
    rng.reseed(opts.seed * 7919 + i);
    const attachment = Buffer.alloc(attachmentBytes);
    for (let b = 0; b < attachment.length; b += 4) attachment.writeUInt32LE(Math.floor(rng.next() * 2 ** 32), b);
    const doc: Document = {
      _id: new ObjectId(Buffer.from(`${(0x66000000 + i).toString(16)}0000000000000000`, 'hex')),
      name: `big document ${i}`,
      attachment: new Binary(attachment),
      lines: [] as Document[],
    };
    const lines = doc.lines as Document[];
    let size = BSON.calculateObjectSize(doc);
    const target = opts.megabytes * 2 ** 20;
    while (size < target) {
      const n = lines.length;
      const line = {
        sku: `SKU-${String(rng.int(0, 999_999)).padStart(6, '0')}`,
        title: `Item ${n} ${rng.chance(0.1) ? 'Größe XL — “special”' : 'standard'}`,
        qty: new Int32(rng.int(1, 20)),
        price: Decimal128.fromString(`${rng.int(0, 99_999)}.${String(rng.int(0, 99)).padStart(2, '0')}`),
        at: new Date(1_700_000_000_000 + n * 1000),
        productId: new ObjectId(Buffer.from(`${(0x65000000 + n).toString(16)}${'0'.repeat(16)}`, 'hex')),
      };
      lines.push(line);
      size += BSON.calculateObjectSize({ [String(n)]: line }) - 5;
    }
    await db.collection('big').insertOne(doc);
    bsonBytes += BSON.calculateObjectSize(doc);
  }
  return { collections: 1, documents: opts.count, bsonBytes };
}
