/**
 * The floors: what the driver alone does. floor-dump is mongodump's job (every collection in `_id`
 * order as raw BSON, appended to one file per collection: what a binary backup costs);
 * floor-server is the same read with the bytes thrown away (what the server can deliver);
 * floor-read is mongoexport's job (canonical Extended JSON lines); floor-write is a bulk load with
 * insertMany.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { BSON, MongoClient, type Db } from 'mongodb';
import { generateShop } from '../../test/support/shop.js';
import { cpuNow, type Contender } from './types.js';

/**
 * The floors read in batches of 1,000 documents, as dbsnap does (src/mongo/reader.ts). The
 * driver's default (a first batch of 101, then up to 16 MB per reply) costs its client far more:
 * driver 7.9 hands out a batch's documents by index through OnDemandDocument, whose lookup scans
 * the batch's elements from the start, so a batch costs the square of its length. Measured on the
 * 600,000 orders of the 1M shop, raw sorted find: 9.9-10.3 s client CPU with the default batches,
 * 2.4-2.7 s with 1,000. A floor should be the best the driver does, not its slow path.
 */
const FLOOR_BATCH_SIZE = 1000;

/** Lines are collected into chunks of about this size before each write, like any buffered exporter. */
const CHUNK_CHARS = 1 << 20;

async function write(out: WriteStream, text: string | Buffer): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

async function close(out: WriteStream): Promise<void> {
  out.end();
  await once(out, 'finish');
}

async function collectionNames(client: MongoClient, db: string): Promise<string[]> {
  const infos = await client.db(db).listCollections({ type: 'collection' }, { nameOnly: true }).toArray();
  return infos.map((c) => c.name).filter((n) => !n.startsWith('system.')).sort();
}

/** Connects, calls `each` for every collection of `p.db` in name order, closes; returns the time it all took. */
async function forEachCollection(p: { uri: string; db: string }, each: (db: Db, name: string) => Promise<void>): Promise<number> {
  const started = performance.now();
  const client = await MongoClient.connect(p.uri);
  try {
    const db = client.db(p.db);
    for (const name of await collectionNames(client, p.db)) await each(db, name);
  } finally {
    await client.close();
  }
  return performance.now() - started;
}

/**
 * Every collection `find({}, {sort: {_id: 1}, raw: true, batchSize: 1000})`; with `dir`, each document's bytes are
 * appended to `<dir>/<collection>.bson` in ~1 MB writes (mongodump's layout), without it discarded.
 */
async function rawRead(p: { uri: string; db: string }, dir: string | null) {
  let documents = 0;
  let bytes = 0;
  const ms = await forEachCollection(p, async (db, name) => {
    const out = dir === null ? null : createWriteStream(join(dir, `${encodeURIComponent(name)}.bson`));
    let chunk: Buffer[] = [];
    let chunkBytes = 0;
    for await (const doc of db.collection(name).find({}, { sort: { _id: 1 }, raw: true, batchSize: FLOOR_BATCH_SIZE })) {
      const raw = doc as unknown as Buffer;
      documents++;
      bytes += raw.length;
      if (out === null) continue;
      chunk.push(raw);
      chunkBytes += raw.length;
      if (chunkBytes >= CHUNK_CHARS) {
        await write(out, Buffer.concat(chunk, chunkBytes));
        chunk = [];
        chunkBytes = 0;
      }
    }
    if (out !== null) {
      if (chunkBytes > 0) await write(out, Buffer.concat(chunk, chunkBytes));
      await close(out);
    }
  });
  return { ms, info: { documents, bsonBytes: bytes } };
}

export const floorDump: Contender = (p) => rawRead(p, p.dir);

export const floorServer: Contender = (p) => rawRead(p, null);

export const floorRead: Contender = async (p) => {
  let documents = 0;
  let bytes = 0;
  const ms = await forEachCollection(p, async (db, name) => {
    const out = createWriteStream(join(p.dir, `${name}.jsonl`));
    let chunk = '';
    for await (const doc of db.collection(name).find({}, { sort: { _id: 1 }, raw: false, batchSize: FLOOR_BATCH_SIZE })) {
      chunk += BSON.EJSON.stringify(doc, { relaxed: false }) + '\n';
      documents++;
      if (chunk.length >= CHUNK_CHARS) {
        bytes += Buffer.byteLength(chunk);
        await write(out, chunk);
        chunk = '';
      }
    }
    bytes += Buffer.byteLength(chunk);
    await write(out, chunk);
    await close(out);
  });
  return { ms, info: { documents, bytesWritten: bytes } };
};

/**
 * insertMany of the shop's documents, batches of 1,000, into an empty database, with the same
 * collections and indexes loadShop creates. Documents are generated between the timed inserts,
 * so only the driver and the server are measured.
 */
export const floorWrite: Contender = async (p) => {
  let timed = 0;
  let cpu = 0;
  let t = performance.now();
  let c = cpuNow();
  const client = await MongoClient.connect(p.uri);
  let documents = 0;
  try {
    const db = client.db(p.target);
    for (const name of ['users', 'producers', 'products', 'orders']) await db.createCollection(name);
    await db.collection('users').createIndex({ email: 1 }, { name: 'email_1', unique: true });
    await db.collection('products').createIndex({ producerId: 1 }, { name: 'producerId_1' });
    await db.collection('orders').createIndex({ userId: 1, createdAt: -1 }, { name: 'userId_1_createdAt_-1' });
    timed += performance.now() - t;
    cpu += cpuNow() - c;
    for (const { collection, docs } of generateShop({ totalDocs: p.docs, seed: p.seed, batchSize: 1000 })) {
      t = performance.now();
      c = cpuNow();
      await db.collection(collection).insertMany(docs, { ordered: true });
      timed += performance.now() - t;
      cpu += cpuNow() - c;
      documents += docs.length;
    }
  } finally {
    t = performance.now();
    c = cpuNow();
    await client.close();
    timed += performance.now() - t;
    cpu += cpuNow() - c;
  }
  return { ms: timed, cpuMs: cpu, info: { documents } };
};
