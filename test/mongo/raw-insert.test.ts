import { BSON, Int32, ObjectId } from 'bson';
import { afterEach, expect, it } from 'vitest';
import { serializeDocument } from '../../src/canonical/bson-serializer.js';
import { DbPointer } from '../../src/canonical/bson-special-values.js';
import { connect, type Connection } from '../../src/mongo/connection.js';
import { insertRawBatch, rawInsertAvailable, type BsonDocuments } from '../../src/mongo/writer.js';
import { useTestDatabase, type TestDatabase } from '../support/test-db.js';

const open: { t: TestDatabase; conn: Connection }[] = [];
afterEach(async () => {
  for (const { t, conn } of open.splice(0)) {
    await conn.close();
    await t.drop();
  }
});

async function target(): Promise<{ t: TestDatabase; conn: Connection }> {
  const t = await useTestDatabase('rawinsert');
  const conn = await connect({ uri: t.dbUri });
  open.push({ t, conn });
  return { t, conn };
}

/** Documents as one run: their bytes one after another, with offsets. */
function run(docs: Uint8Array[]): BsonDocuments {
  const starts = [0];
  for (const d of docs) starts.push(starts[starts.length - 1]! + d.length);
  return { bson: Buffer.concat(docs), starts };
}

async function stored(t: TestDatabase, name: string): Promise<Buffer[]> {
  const docs = (await t.db.collection(name).find({}, { raw: true, sort: { _id: 1 } }).toArray()) as unknown as Uint8Array[];
  return docs.map((d) => Buffer.from(d));
}

it('is available with the driver this package installs (restore relies on it)', () => {
  expect(rawInsertAvailable()).toBe(true);
});

it('stores the bytes it is given, including values the driver would rewrite', async () => {
  const { t, conn } = await target();
  const docs = [
    // Undefined (the driver writes null) and a DBPointer (the driver writes a DBRef document).
    serializeDocument({ _id: new Int32(1), gone: undefined, ptr: new DbPointer('db.coll', new ObjectId('68a72cf14b78eb31b9af9e46')) }),
    // Integer-like keys after others: a JS object would list them first.
    serializeDocument(new Map<string, unknown>([['_id', new Int32(2)], ['b', 1], ['2', 2], ['1', 3]])),
    BSON.serialize({ _id: new Int32(3), s: 'Zürich' }),
  ];
  await insertRawBatch(conn, 'c', [run(docs)]);
  const back = await stored(t, 'c');
  expect(back.map((b) => b.toString('hex'))).toEqual(docs.map((d) => Buffer.from(d).toString('hex')));
});

it('splits runs past the command size into several commands, in order, a document larger than it alone', async () => {
  const { t, conn } = await target();
  const doc = (i: number, pad: number) => BSON.serialize({ _id: new Int32(i), pad: 'x'.repeat(pad) });
  const docs = [doc(1, 100), doc(2, 100), doc(3, 500), doc(4, 10), doc(5, 10)];
  // Commands: 1 and 2 (one slice), 3 alone, then 4 and 5 from two runs.
  await insertRawBatch(conn, 'split', [run(docs.slice(0, 4)), run([]), run(docs.slice(4))], 300);
  const back = await stored(t, 'split');
  expect(back).toHaveLength(5);
  for (let i = 0; i < 5; i++) expect(Buffer.compare(back[i]!, docs[i]!)).toBe(0);
  // A refused document in a later command: the commands before it are in, nothing after it.
  await t.db.collection('split2').insertOne({ _id: 4 });
  const more = [1, 2, 3, 4, 5].map((i) => doc(i, 200));
  await expect(insertRawBatch(conn, 'split2', [run(more)], 300)).rejects.toMatchObject({ code: 'EMONGO' });
  expect((await stored(t, 'split2')).map((b) => BSON.deserialize(b)._id)).toEqual([1, 2, 3, 4]);
});

it('fails with EMONGO naming the collection when the server refuses a document, keeping the server code', async () => {
  const { t, conn } = await target();
  await t.db.collection('dup').insertOne({ _id: 2 });
  const docs = [1, 2, 3].map((i) => BSON.serialize({ _id: i }));
  await expect(insertRawBatch(conn, 'dup', [run(docs)])).rejects.toMatchObject({
    code: 'EMONGO',
    data: { collection: 'dup', serverCode: 11000 },
    message: expect.stringContaining('inserting into "dup" failed'),
  });
  // Ordered: the document before the refused one is in, the one after is not.
  expect((await stored(t, 'dup')).map((b) => BSON.deserialize(b)._id)).toEqual([1, 2]);
});
