/**
 * readRawDocuments asks for the next server reply before it hands out a batch, so the server
 * makes it while the batch is encoded; the documents, their order and a failure of a later read
 * are what they were without it.
 */
import { BSON, Int32 } from 'bson';
import { MongoClient } from 'mongodb';
import { afterEach, expect, it } from 'vitest';
import { connect, type Connection } from '../../src/mongo/connection.js';
import { readRawDocuments } from '../../src/mongo/reader.js';
import { useTestDatabase, type TestDatabase } from '../support/test-db.js';

const open: { t: TestDatabase | null; conn: Connection }[] = [];
afterEach(async () => {
  for (const { t, conn } of open.splice(0)) {
    await conn.close();
    await t?.drop();
  }
});

async function loaded(n: number): Promise<{ conn: Connection; dbUri: string }> {
  const t = await useTestDatabase('readahead');
  await t.db.collection('c').insertMany(Array.from({ length: n }, (_, i) => ({ _id: new Int32(n - 1 - i), v: 'x'.repeat(i % 7) })));
  const conn = await connect({ uri: t.dbUri });
  open.push({ t, conn });
  return { conn, dbUri: t.dbUri };
}

it('has the next getMore sent before the consumer asks for the next batch, and reads every document once, in _id order', async () => {
  const { conn: plain, dbUri } = await loaded(2500);
  // The same database through a client that reports the commands it sends.
  const client = new MongoClient(dbUri, { monitorCommands: true });
  const started: string[] = [];
  client.on('commandStarted', (e) => started.push(e.commandName));
  await client.connect();
  const conn: Connection = { ...plain, client, db: client.db(plain.dbName), close: () => client.close() };
  open.push({ t: null, conn });
  const ids: number[] = [];
  const getMoresWhenHandedOut: number[] = [];
  for await (const batch of readRawDocuments(conn, 'c', { batchSize: 1000 })) {
    // The consumer takes its time with the batch (as encoding does): the request is already out.
    await new Promise((resolve) => setTimeout(resolve, 20));
    getMoresWhenHandedOut.push(started.filter((c) => c === 'getMore').length);
    for (const raw of batch) ids.push(BSON.deserialize(raw, { promoteValues: true })._id as number);
  }
  expect(ids).toEqual(Array.from({ length: 2500 }, (_, i) => i));
  // Batches of 1,000, 1,000 and 500: while the first is held, the getMore for the second has
  // been sent; while the second is held, the one for the third.
  expect(getMoresWhenHandedOut.slice(0, 2)).toEqual([1, 2]);
});

it('stops cleanly when the consumer stops early, with a read still in flight', async () => {
  const { conn } = await loaded(3000);
  let n = 0;
  for await (const batch of readRawDocuments(conn, 'c', { batchSize: 500 })) {
    n += batch.length;
    if (n >= 1000) break;
  }
  expect(n).toBe(1000);
  // The connection is still usable after the generator closed its cursor mid-read.
  expect(await conn.db.collection('c').countDocuments()).toBe(3000);
});
