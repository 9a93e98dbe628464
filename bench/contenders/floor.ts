/**
 * The floors: what the driver alone does. floor-read is mongoexport's job (every collection in
 * `_id` order to canonical Extended JSON lines); floor-write is a bulk load with insertMany.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { BSON, MongoClient } from 'mongodb';
import { generateShop } from '../../test/support/shop.js';
import { cpuNow, type Contender } from './types.js';

/** Lines are collected into chunks of about this size before each write, like any buffered exporter. */
const CHUNK_CHARS = 1 << 20;

async function write(out: WriteStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

async function close(out: WriteStream): Promise<void> {
  out.end();
  await once(out, 'finish');
}

export const floorRead: Contender = async (p) => {
  const started = performance.now();
  const client = await MongoClient.connect(p.uri);
  let documents = 0;
  let bytes = 0;
  try {
    const db = client.db(p.db);
    const names = (await db.listCollections({ type: 'collection' }, { nameOnly: true }).toArray()).map((c) => c.name).sort();
    for (const name of names) {
      const out = createWriteStream(join(p.dir, `${name}.jsonl`));
      let chunk = '';
      for await (const doc of db.collection(name).find({}, { sort: { _id: 1 }, raw: false })) {
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
    }
  } finally {
    await client.close();
  }
  return { ms: performance.now() - started, info: { documents, bytesWritten: bytes } };
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
