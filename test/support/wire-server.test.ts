import net from 'node:net';
import {
  BSON,
  BSONRegExp,
  BSONSymbol,
  Binary,
  Code,
  DBRef,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  MongoClient,
  MongoServerError,
  ObjectId,
  Timestamp,
  type CommandSucceededEvent,
  type Document,
} from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startMongoServer } from './mongo-server.js';
import { uriWithDatabase } from './test-db.js';
import { documentFromElements, encodeElement } from './wire-server/bson-raw.js';
import { type WireServer, startWireServer } from './wire-server/server.js';

let server: WireServer;
let client: MongoClient;
let dbCounter = 0;
const freshDb = () => client.db(`wire_test_${++dbCounter}`);

beforeAll(async () => {
  server = await startWireServer();
  client = await MongoClient.connect(server.uri);
});

afterAll(async () => {
  await client?.close();
  await server?.close();
});

afterEach(() => server.clearFailures());

/** The error an operation rejects with (the test fails if it succeeds). */
async function rejection<T = MongoServerError>(p: Promise<unknown>): Promise<T> {
  try {
    await p;
  } catch (e) {
    return e as T;
  }
  throw new Error('expected the operation to fail');
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** An element built by hand, for BSON types the bson package cannot write (Undefined, DBPointer). */
function handElement(type: number, name: string, value: Uint8Array): Uint8Array {
  const n = Buffer.from(name + '\0', 'utf8');
  return Buffer.concat([Buffer.from([type]), n, value]);
}

function bsonString(s: string): Uint8Array {
  const b = Buffer.from(s + '\0', 'utf8');
  const len = Buffer.alloc(4);
  len.writeInt32LE(b.length);
  return Buffer.concat([len, b]);
}

/** Every BSON type, in an order that is not alphabetical, as raw bytes. */
function everyTypeDocument(id: number, withLegacyTypes: boolean): Uint8Array {
  const parts: Uint8Array[] = [
    encodeElement('_id', new Int32(id)),
    encodeElement('zDouble', new Double(1.5)),
    encodeElement('integralDouble', new Double(42)),
    encodeElement('negZero', new Double(-0)),
    encodeElement('nan', new Double(Number.NaN)),
    encodeElement('inf', new Double(Infinity)),
    encodeElement('negInf', new Double(-Infinity)),
    encodeElement('int32', new Int32(-7)),
    encodeElement('int64', Long.fromString('9007199254740993')),
    encodeElement('dec', Decimal128.fromString('1234.5678900')),
    encodeElement('str', 'héllo wörld ✓ 𝄞 日本'),
    encodeElement('oldDate', new Date(-2208988800000)),
    encodeElement('farDate', new Date(253402300799999)),
    encodeElement('oid', new ObjectId('68a72cf14b78eb31b9af9e46')),
    ...[0, 1, 2, 3, 4, 5, 6, 7, 0x80].map((st) =>
      encodeElement(`bin${st}`, new Binary(Buffer.from(st === 4 || st === 3 ? '0123456789abcdef' : `b${st}`), st)),
    ),
    encodeElement('ts', new Timestamp({ t: 1700000000, i: 7 })),
    encodeElement('re', new BSONRegExp('^a.c$', 'imsux')),
    encodeElement('min', new MinKey()),
    encodeElement('max', new MaxKey()),
    encodeElement('nul', null),
    encodeElement('t', true),
    encodeElement('f', false),
    encodeElement('arr', [new Int32(1), new Double(1), 'x', [new Long(2)], { b: 1, a: 2 }]),
    encodeElement('nested', { z: { y: { x: new Decimal128('0.1') } }, a: [] }),
    encodeElement('code', new Code('function () { return 1; }')),
    encodeElement('codeScope', new Code('x + 1', { x: new Int32(1) })),
    encodeElement('ref', new DBRef('users', new ObjectId('68a72cf14b78eb31b9af9e46'), 'shop')),
    encodeElement('sym', new BSONSymbol('sym')),
  ];
  if (withLegacyTypes) {
    parts.push(handElement(0x06, 'undef', new Uint8Array()));
    parts.push(
      handElement(0x0c, 'dbptr', Buffer.concat([bsonString('db.coll'), Buffer.from('68a72cf14b78eb31b9af9e46', 'hex')])),
    );
  }
  return documentFromElements(parts);
}

/** A minimal OP_MSG client, for sending bytes the driver would re-encode. */
async function rawCommand(
  body: Document,
  sequences: { id: string; docs: Uint8Array[] }[] = [],
): Promise<Document> {
  const bodyBytes = BSON.serialize(body);
  const sections: Buffer[] = [Buffer.from([0]), Buffer.from(bodyBytes)];
  for (const s of sequences) {
    const id = Buffer.from(s.id + '\0');
    const size = 4 + id.length + s.docs.reduce((n, d) => n + d.length, 0);
    const sizeBuf = Buffer.alloc(4);
    sizeBuf.writeInt32LE(size);
    sections.push(Buffer.from([1]), sizeBuf, id, ...s.docs.map((d) => Buffer.from(d)));
  }
  const payload = Buffer.concat(sections);
  const header = Buffer.alloc(20);
  header.writeInt32LE(20 + payload.length, 0);
  header.writeInt32LE(77, 4);
  header.writeInt32LE(0, 8);
  header.writeInt32LE(2013, 12);
  header.writeUInt32LE(0, 16);
  return exchange(Buffer.concat([header, payload]), (reply) => BSON.deserialize(reply.subarray(21)));
}

function exchange(message: Buffer, parse: (reply: Buffer) => Document): Promise<Document> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= 4 && buf.length >= buf.readInt32LE(0)) {
        socket.end();
        resolve(parse(buf));
      }
    });
    socket.write(message);
  });
}

describe('wire test server: documents keep their exact BSON', () => {
  it('round-trips every BSON type byte for byte through the driver (raw find)', async () => {
    const db = freshDb();
    const raw = everyTypeDocument(1, false);
    await db.collection('t').insertOne(BSON.deserialize(raw, { promoteValues: false, bsonRegExp: true }));
    const [back] = (await db.collection('t').find({}, { raw: true }).toArray()) as unknown as Uint8Array[];
    expect(hex(back!)).toBe(hex(raw));
  });

  it('keeps Undefined and DBPointer, which only raw clients can write', async () => {
    const db = freshDb();
    const raw = everyTypeDocument(2, true);
    const reply = await rawCommand({ insert: 'legacy', $db: db.databaseName }, [{ id: 'documents', docs: [raw] }]);
    expect(reply).toMatchObject({ n: 1, ok: 1 });
    const [back] = (await db.collection('legacy').find({}, { raw: true }).toArray()) as unknown as Uint8Array[];
    expect(hex(back!)).toBe(hex(raw));
  });

  it('puts _id first (generated when missing) and keeps the other fields in order', async () => {
    const db = freshDb();
    const body = documentFromElements([encodeElement('b', new Int32(1)), encodeElement('_id', 'x'), encodeElement('a', 2.5)]);
    const noId = documentFromElements([encodeElement('z', 1), encodeElement('a', 2)]);
    await rawCommand({ insert: 'c', $db: db.databaseName }, [{ id: 'documents', docs: [body, noId] }]);
    const docs = await db.collection('c').find({}, { promoteValues: false }).toArray();
    expect(Object.keys(docs[0]!)).toEqual(['_id', 'b', 'a']);
    expect(Object.keys(docs[1]!)).toEqual(['_id', 'z', 'a']);
    expect(docs[1]!._id).toBeInstanceOf(ObjectId);
  });

  it('updates leave untouched fields byte for byte and keep numeric types', async () => {
    const db = freshDb();
    const coll = db.collection('u');
    await coll.insertOne({ _id: 1 as never, n: new Int32(5), d: new Double(2), keep: new Decimal128('1.10') });
    await coll.updateOne({ _id: 1 as never }, { $inc: { n: new Int32(1), d: new Int32(1) }, $set: { added: 'x' } });
    const [doc] = await coll.find({}, { promoteValues: false }).toArray();
    expect(doc!.n).toBeInstanceOf(Int32);
    expect((doc!.n as Int32).value).toBe(6);
    expect(doc!.d).toBeInstanceOf(Double);
    expect((doc!.keep as Decimal128).toString()).toBe('1.10');
    expect(Object.keys(doc!)).toEqual(['_id', 'n', 'd', 'keep', 'added']);

    const up = await coll.updateOne({ email: 'a@b' }, { $set: { n: 1 } }, { upsert: true });
    expect(up.upsertedCount).toBe(1);
    const upserted = await coll.findOne({ _id: up.upsertedId! });
    expect(upserted).toMatchObject({ email: 'a@b', n: 1 });

    const rep = await coll.replaceOne({ _id: 1 as never }, { z: 1, a: 2 });
    expect(rep.modifiedCount).toBe(1);
    expect(Object.keys((await coll.findOne({ _id: 1 as never }))!)).toEqual(['_id', 'z', 'a']);
    const same = await coll.updateOne({ _id: 1 as never }, { $set: { z: 1 } });
    expect(same).toMatchObject({ matchedCount: 1, modifiedCount: 0 });
  });
});

describe('wire test server: queries', () => {
  it('sorts mixed _id types in mongod BSON order, both directions; natural order is insertion order', async () => {
    const db = freshDb();
    const ordered: unknown[] = [
      new MinKey(),
      // (null is left out: the driver replaces a null _id with a generated ObjectId)
      new Int32(-1),
      new Double(2.5),
      Long.fromNumber(3),
      'a string',
      { a: 1 },
      new Binary(Buffer.from('bin')),
      new ObjectId('68a72cf14b78eb31b9af9e46'),
      false,
      true,
      new Date(0),
      new Timestamp({ t: 1, i: 1 }),
      new BSONRegExp('x', ''),
      new MaxKey(),
    ];
    const shuffled = [7, 3, 12, 0, 9, 1, 5, 11, 2, 13, 6, 10, 4, 8].map((i) => ordered[i]);
    await db.collection('s').insertMany(shuffled.map((_id, i) => ({ _id, i }) as Document));
    const tag = (docs: Document[]) => docs.map((d) => d.i as number);
    const shuffledIndex = (v: unknown) => shuffled.indexOf(v);
    const expected = ordered.map(shuffledIndex);
    expect(tag(await db.collection('s').find({}, { bsonRegExp: true }).sort({ _id: 1 }).toArray())).toEqual(expected);
    expect(tag(await db.collection('s').find({}).sort({ _id: -1 }).toArray())).toEqual([...expected].reverse());
    expect(tag(await db.collection('s').find({}).toArray())).toEqual(shuffled.map((_, i) => i));
  });

  it('sorts arrays by their smallest element ascending, largest descending; missing sorts as null', async () => {
    const coll = freshDb().collection('arr');
    await coll.insertMany([
      { _id: 1, v: [5, 1] },
      { _id: 2, v: 3 },
      { _id: 3 },
      { _id: 4, v: [2, 9] },
    ] as never[]);
    expect((await coll.find().sort({ v: 1 }).toArray()).map((d) => d._id)).toEqual([3, 1, 4, 2]);
    expect((await coll.find().sort({ v: -1 }).toArray()).map((d) => d._id)).toEqual([4, 1, 2, 3]);
  });

  it('filters, projects, skips, limits, counts and aggregates', async () => {
    const coll = freshDb().collection('q');
    await coll.insertMany(Array.from({ length: 20 }, (_, i) => ({ _id: i, g: i % 3, name: `n${i}` })) as never[]);
    expect(await coll.countDocuments({ g: 0 })).toBe(7);
    expect(await coll.estimatedDocumentCount()).toBe(20);
    const page = await coll.find({ g: { $in: [1, 2] } }, { projection: { name: 1, _id: 0 } }).sort({ _id: -1 }).skip(2).limit(3).toArray();
    expect(page).toEqual([{ name: 'n16' }, { name: 'n14' }, { name: 'n13' }]);
    // {_id: 1} alone is an inclusion projection: the _id only, as mongod does.
    expect(await coll.find({ name: { $in: ['n0', 'n1'] } }, { projection: { _id: 1 } }).toArray()).toEqual([{ _id: 0 }, { _id: 1 }]);
    const groups = await coll.aggregate([{ $group: { _id: '$g', n: { $sum: 1 } } }, { $sort: { _id: 1 } }]).toArray();
    expect(groups).toEqual([{ _id: 0, n: 7 }, { _id: 1, n: 7 }, { _id: 2, n: 6 }]);
    expect(await coll.distinct('g')).toEqual([0, 1, 2]);
    expect((await coll.deleteMany({ g: 2 })).deletedCount).toBe(6);
    expect((await coll.deleteOne({ g: 1 })).deletedCount).toBe(1);
    expect(await coll.countDocuments()).toBe(13);
  });

  it('serves cursors in batches: 250 docs with batchSize 100 are 3 batches, all docs in order', async () => {
    const db = freshDb();
    await db.collection('big').insertMany(Array.from({ length: 250 }, (_, i) => ({ _id: i, pad: 'x'.repeat(10) })) as never[]);
    const watcher = new MongoClient(server.uri, { monitorCommands: true });
    const replies: Document[] = [];
    watcher.on('commandSucceeded', (e: CommandSucceededEvent) => {
      if (e.commandName === 'find' || e.commandName === 'getMore') replies.push(e.reply as Document);
    });
    try {
      const coll = watcher.db(db.databaseName).collection('big');
      const docs = await coll.find({}).sort({ _id: 1 }).batchSize(100).toArray();
      expect(docs.map((d) => d._id)).toEqual(Array.from({ length: 250 }, (_, i) => i));
      const sizes = replies.map((r) => (r.cursor.firstBatch ?? r.cursor.nextBatch).length);
      expect(sizes).toEqual([100, 100, 50]);
      expect(String(replies[2]!.cursor.id)).toBe('0');

      replies.length = 0;
      const all = await coll.find({}).toArray();
      expect(all).toHaveLength(250);
      expect(replies.map((r) => (r.cursor.firstBatch ?? r.cursor.nextBatch).length)).toEqual([101, 149]);
    } finally {
      await watcher.close();
    }
  });

  it('reports an unknown getMore cursor as CursorNotFound (43)', async () => {
    const err = await rejection(freshDb().command({ getMore: Long.fromNumber(123456789), collection: 'x' }));
    expect(err).toBeInstanceOf(MongoServerError);
    expect((err as MongoServerError).code).toBe(43);
  });
});

describe('wire test server: writes and errors', () => {
  it('reports duplicate _id and unique-index violations as E11000, like mongod', async () => {
    const db = freshDb();
    const coll = db.collection('users');
    await coll.insertOne({ _id: 1 as never, email: 'x' });
    const dupId = await rejection(coll.insertOne({ _id: 1 as never, email: 'y' }));
    expect(dupId.code).toBe(11000);
    expect(dupId.message).toBe(`E11000 duplicate key error collection: ${db.databaseName}.users index: _id_ dup key: { _id: 1 }`);

    await coll.createIndex({ email: 1 }, { unique: true });
    const dupEmail = await rejection(coll.insertOne({ _id: 2 as never, email: 'x' }));
    expect(dupEmail.code).toBe(11000);
    expect(dupEmail.message).toBe(
      `E11000 duplicate key error collection: ${db.databaseName}.users index: email_1 dup key: { email: "x" }`,
    );
    expect(dupEmail.keyValue).toEqual({ email: 'x' });
    await coll.insertOne({ _id: 3 as never, email: 'z' });
    const dupUpdate = await rejection(coll.updateOne({ _id: 3 as never }, { $set: { email: 'x' } }));
    expect(dupUpdate.code).toBe(11000);
    const idx = await coll.listIndexes().toArray();
    expect(idx).toEqual([
      { v: 2, key: { _id: 1 }, name: '_id_' },
      { v: 2, key: { email: 1 }, name: 'email_1', unique: true },
    ]);
  });

  it('stops an ordered insert at the first error; an unordered one inserts the rest', async () => {
    const db = freshDb();
    const docs = () => [{ _id: 1 }, { _id: 2 }, { _id: 2 }, { _id: 3 }] as never[];
    const ordered = await rejection<Document>(db.collection('o').insertMany(docs()));
    expect(ordered.code).toBe(11000);
    expect(ordered.insertedCount).toBe(2);
    expect(await db.collection('o').countDocuments()).toBe(2);
    const unordered = await rejection<Document>(db.collection('u').insertMany(docs(), { ordered: false }));
    expect(unordered.insertedCount).toBe(3);
    expect(unordered.writeErrors).toHaveLength(1);
    expect(unordered.writeErrors[0].index).toBe(2);
    expect(await db.collection('u').countDocuments()).toBe(3);
  });

  it('serves the driver helpers dbsnap may use: bulkWrite, findOneAnd*, rename, index helpers', async () => {
    const db = freshDb();
    const coll = db.collection('h');
    const bulk = await coll.bulkWrite([
      { insertOne: { document: { _id: 1, a: 1 } } },
      { updateOne: { filter: { _id: 1 }, update: { $set: { b: 2 } } } },
      { replaceOne: { filter: { _id: 2 }, replacement: { r: 1 }, upsert: true } },
      { deleteMany: { filter: { missing: true } } },
    ] as never[]);
    expect(bulk).toMatchObject({ insertedCount: 1, matchedCount: 1, modifiedCount: 1, upsertedCount: 1, deletedCount: 0 });
    expect(await coll.findOneAndReplace({ _id: 2 as never }, { r: 2 }, { returnDocument: 'after' })).toEqual({ _id: 2, r: 2 });
    expect(await coll.findOneAndDelete({ _id: 2 as never })).toEqual({ _id: 2, r: 2 });
    expect(await coll.findOneAndUpdate({ _id: 1 as never }, { $inc: { a: 1 } }, { returnDocument: 'before' })).toEqual({ _id: 1, a: 1, b: 2 });
    const conflict = await rejection(coll.updateOne({ _id: 1 as never }, { $set: { a: 1 }, $inc: { a: 1 } }));
    expect(conflict.code).toBe(40);
    await coll.updateMany({}, [{ $set: { c: { $add: ['$a', 10] } } }]);
    expect(await coll.findOne({ _id: 1 as never })).toEqual({ _id: 1, a: 2, b: 2, c: 12 });

    await coll.rename('renamed');
    expect(await db.listCollections({}, { nameOnly: true }).toArray()).toEqual([{ name: 'renamed', type: 'collection' }]);
    const renamed = db.collection('renamed');
    expect(await renamed.createIndexes([{ key: { x: 1 } }, { key: { y: -1, z: 1 }, name: 'yz', sparse: true }])).toEqual(['x_1', 'yz']);
    await renamed.dropIndex('x_1');
    expect(await renamed.indexes()).toEqual([
      { v: 2, key: { _id: 1 }, name: '_id_' },
      { v: 2, key: { y: -1, z: 1 }, name: 'yz', sparse: true },
    ]);
    const missingIndex = await rejection(renamed.dropIndex('nope'));
    expect(missingIndex.code).toBe(27);
  });

  it('answers unknown commands with CommandNotFound (59), exactly as mongod', async () => {
    const err = await rejection(freshDb().command({ xyz: 1 }));
    expect(err.code).toBe(59);
    expect(err.codeName).toBe('CommandNotFound');
    expect(err.message).toBe("no such command: 'xyz'");
  });

  it('handles unacknowledged (w:0) writes, which get no reply', async () => {
    const db = freshDb();
    await db.collection('w0').insertOne({ _id: 1 as never }, { writeConcern: { w: 0 } });
    // The same pool serves the next command; the server must not have sent a stray reply.
    await db.collection('w0').insertOne({ _id: 2 as never });
    expect(await db.collection('w0').countDocuments()).toBe(2);
  });

  it('refuses transactions and snapshot reads the way a standalone does', async () => {
    const db = freshDb();
    await db.collection('s').insertOne({ a: 1 });
    const session = client.startSession({ snapshot: true });
    try {
      const err = await rejection(db.collection('s').findOne({}, { session }));
      expect(err).toBeInstanceOf(MongoServerError);
      expect((err as MongoServerError).code).toBe(123);
    } finally {
      await session.endSession();
    }
  });

  it('fails commands on request (test hook and configureFailPoint)', async () => {
    const coll = freshDb().collection('f');
    server.failCommand({ commands: 'insert', skip: 1, code: 11600, errmsg: 'simulated' });
    await coll.insertOne({ _id: 1 as never });
    const err = await rejection(coll.insertOne({ _id: 2 as never }));
    expect(err.code).toBe(11600);
    expect(err.message).toBe('simulated');
    await coll.insertOne({ _id: 3 as never });
    expect(await coll.countDocuments()).toBe(2);

    await client.db('admin').command({
      configureFailPoint: 'failCommand',
      mode: { times: 1 },
      data: { failCommands: ['find'], errorCode: 2 },
    });
    const findErr = await rejection(coll.findOne({}));
    expect(findErr.code).toBe(2);
    expect(await coll.findOne({ _id: 1 as never })).toEqual({ _id: 1 });

    server.failCommand({ commands: 'insert', closeConnection: true });
    const netErr = await rejection<Error>(coll.insertOne({ _id: 4 as never }));
    expect(netErr).toBeInstanceOf(Error);
    expect(await coll.countDocuments({ _id: 4 as never })).toBe(0);
  });
});

describe('wire test server: catalog commands', () => {
  it('returns create options exactly as given (field order and numeric types) and view shapes', async () => {
    const db = freshDb();
    const validator = {
      $jsonSchema: {
        bsonType: 'object',
        required: ['zeta', 'alpha'],
        properties: { zeta: { bsonType: 'int', minimum: new Int32(1) }, alpha: { bsonType: 'double', maximum: new Double(2) } },
      },
    };
    await db.createCollection('c', { validator, validationLevel: 'moderate', validationAction: 'warn' });
    await db.createCollection('v', { viewOn: 'c', pipeline: [{ $match: { zeta: { $gt: 1 } } }] });
    const reply = await db.command({ listCollections: 1, filter: {} }, { promoteValues: false });
    const entries = reply.cursor.firstBatch as Document[];
    const c = entries.find((e) => e.name === 'c')!;
    expect(c.type).toBe('collection');
    expect(hex(BSON.serialize(c.options))).toBe(
      hex(BSON.serialize({ validator, validationLevel: 'moderate', validationAction: 'warn' })),
    );
    expect(c.info.readOnly).toBe(false);
    expect(c.idIndex).toBeDefined();
    const v = entries.find((e) => e.name === 'v')!;
    expect(v.type).toBe('view');
    expect(v.options).toEqual({ viewOn: 'c', pipeline: [{ $match: { zeta: { $gt: new Int32(1) } } }] });
    expect(entries.map((e) => e.name).sort()).toEqual(['c', 'system.views', 'v']);

    const views = await db.listCollections({ type: 'view' }, { nameOnly: true }).toArray();
    expect(views).toEqual([{ name: 'v', type: 'view' }]);

    await db.collection('c').insertMany([{ zeta: 1 }, { zeta: 2 }, { zeta: 3 }]);
    expect((await db.collection('v').find({}, { projection: { _id: 0 } }).toArray())).toEqual([{ zeta: 2 }, { zeta: 3 }]);

    const again = await rejection(db.command({ create: 'c', validator: { a: 1 } }));
    expect(again.code).toBe(48);
    expect(await db.collection('nope').drop()).toBe(true);
  });

  it('renames collections: NamespaceExists without dropTarget, indexes and options move', async () => {
    const db = freshDb();
    const admin = client.db('admin');
    const ns = (n: string) => `${db.databaseName}.${n}`;
    await db.createCollection('a', { validationLevel: 'off' });
    await db.collection('a').insertMany([{ _id: 1 }, { _id: 2 }] as never[]);
    await db.collection('a').createIndex({ k: -1 }, { name: 'k_desc' });
    await db.collection('b').insertOne({ _id: 'old' as never });

    const exists = await rejection(admin.command({ renameCollection: ns('a'), to: ns('b') }));
    expect(exists.code).toBe(48);
    const missing = await rejection(admin.command({ renameCollection: ns('zz'), to: ns('b') }));
    expect(missing.code).toBe(26);

    await admin.command({ renameCollection: ns('a'), to: ns('b'), dropTarget: true });
    expect((await db.collection('b').find().toArray()).map((d) => d._id)).toEqual([1, 2]);
    expect((await db.collection('b').listIndexes().toArray()).map((i) => i.name)).toEqual(['_id_', 'k_desc']);
    const names = (await db.listCollections().toArray()).map((c) => [c.name, (c as Document).options]);
    expect(names).toEqual([['b', { validationLevel: 'off' }]]);
  });

  it('dbHash is the same for the same documents inserted in different orders', async () => {
    const docs = Array.from({ length: 30 }, (_, i) => ({ _id: i, v: `value ${i}`, n: i * 1.5 }));
    const one = freshDb();
    const two = freshDb();
    await one.collection('c').insertMany(docs as never[]);
    await two.collection('c').insertMany([...docs].reverse() as never[]);
    const h1 = await one.command({ dbHash: 1 });
    const h2 = await two.command({ dbHash: 1, collections: ['c'] });
    expect(h1.collections.c).toMatch(/^[0-9a-f]{32}$/);
    expect(h1.collections.c).toBe(h2.collections.c);
    expect(h1.md5).toBe(h2.md5);
    await two.collection('c').updateOne({ _id: 3 as never }, { $set: { v: 'changed' } });
    expect((await two.command({ dbHash: 1 })).collections.c).not.toBe(h1.collections.c);
  });

  it('lists databases (nameOnly and filter) and drops them', async () => {
    const db = freshDb();
    await db.collection('x').insertOne({});
    const admin = client.db('admin').admin();
    const all = await admin.listDatabases({ nameOnly: true });
    expect(all.databases.map((d) => d.name)).toContain(db.databaseName);
    const filtered = await admin.listDatabases({ filter: { name: db.databaseName } } as never);
    expect(filtered.databases).toHaveLength(1);
    expect(filtered.databases[0]!.sizeOnDisk).toBeGreaterThan(0);
    await db.dropDatabase();
    expect((await admin.listDatabases({ nameOnly: true })).databases.map((d) => d.name)).not.toContain(db.databaseName);
  });

  it('answers the legacy OP_QUERY handshake with OP_REPLY', async () => {
    const query = BSON.serialize({ isMaster: 1 });
    const name = Buffer.from('admin.$cmd\0');
    const head = Buffer.alloc(20);
    const tail = Buffer.alloc(8);
    tail.writeInt32LE(-1, 4);
    const total = 20 + name.length + 8 + query.length;
    head.writeInt32LE(total, 0);
    head.writeInt32LE(5, 4);
    head.writeInt32LE(2004, 12);
    const reply = await exchange(Buffer.concat([head, name, tail, query]), (r) => {
      expect(r.readInt32LE(12)).toBe(1);
      expect(r.readInt32LE(8)).toBe(5);
      expect(r.readInt32LE(32)).toBe(1);
      return BSON.deserialize(r.subarray(36));
    });
    expect(reply).toMatchObject({ ismaster: true, maxWireVersion: 21, minWireVersion: 0, ok: 1 });
    expect(reply.setName).toBeUndefined();
  });
});

describe('test server resolution', () => {
  it('startMongoServer() uses the wire test server when DBSNAP_TEST_SERVER=wire', async () => {
    const saved = { server: process.env.DBSNAP_TEST_SERVER, uri: process.env.DBSNAP_TEST_MONGODB_URI };
    process.env.DBSNAP_TEST_SERVER = 'wire';
    delete process.env.DBSNAP_TEST_MONGODB_URI;
    const started = await startMongoServer();
    try {
      expect(started.kind).toBe('wire-test-server');
      expect(started.uri).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+$/);
      const c = await MongoClient.connect(started.uri);
      try {
        const info = await c.db('admin').command({ buildInfo: 1 });
        expect(info.version).toBe('7.0.0');
      } finally {
        await c.close();
      }
    } finally {
      await started.stop();
      if (saved.server === undefined) delete process.env.DBSNAP_TEST_SERVER;
      else process.env.DBSNAP_TEST_SERVER = saved.server;
      if (saved.uri !== undefined) process.env.DBSNAP_TEST_MONGODB_URI = saved.uri;
    }
  });

  it('startMongoServer() returns DBSNAP_TEST_MONGODB_URI untouched when set', async () => {
    const saved = process.env.DBSNAP_TEST_MONGODB_URI;
    process.env.DBSNAP_TEST_MONGODB_URI = 'mongodb://example.invalid:1/?x=1';
    try {
      const s = await startMongoServer();
      expect(s).toMatchObject({ kind: 'env', uri: 'mongodb://example.invalid:1/?x=1' });
      await s.stop();
    } finally {
      if (saved === undefined) delete process.env.DBSNAP_TEST_MONGODB_URI;
      else process.env.DBSNAP_TEST_MONGODB_URI = saved;
    }
  });

  it('puts the database name into URIs with and without paths and query strings', () => {
    expect(uriWithDatabase('mongodb://127.0.0.1:1234', 'd')).toBe('mongodb://127.0.0.1:1234/d');
    expect(uriWithDatabase('mongodb://127.0.0.1:1234/', 'd')).toBe('mongodb://127.0.0.1:1234/d');
    expect(uriWithDatabase('mongodb://u:p@h1:1,h2:2/old?replicaSet=rs&w=1', 'd')).toBe(
      'mongodb://u:p@h1:1,h2:2/d?replicaSet=rs&w=1',
    );
    expect(uriWithDatabase('mongodb://127.0.0.1:1/?replicaSet=testset', 'd')).toBe('mongodb://127.0.0.1:1/d?replicaSet=testset');
  });
});

describe('wire test server: _id lookups', () => {
  it('answers {_id: value} like a scan would, numbers equal across types', async () => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const ids = freshDb().collection<any>('ids');
    await ids.insertMany([{ _id: new Double(5), a: 1 }, { _id: 'x', a: 2 }, { _id: new ObjectId('68a72cf14b78eb31b9af9e45'), a: 3 }]);
    expect((await ids.findOne({ _id: 5 }))?.a).toBe(1);
    expect((await ids.findOne({ _id: Long.fromNumber(5) }))?.a).toBe(1);
    expect((await ids.findOne({ _id: new ObjectId('68a72cf14b78eb31b9af9e45') }))?.a).toBe(3);
    expect(await ids.findOne({ _id: 'nope' })).toBeNull();
    expect((await ids.find({ _id: { $in: [5, 'x'] } }).toArray()).length).toBe(2);
    expect((await ids.updateOne({ _id: 'x' }, { $set: { a: 9 } })).modifiedCount).toBe(1);
    expect((await ids.deleteOne({ _id: 5 })).deletedCount).toBe(1);
    expect(await ids.countDocuments()).toBe(2);
  });
});

describe('wire test server: the _id index', () => {
  // Sorting on _id alone walks a kept order instead of sorting per query; these check that the
  // kept order is exactly what a sort gives after every kind of write.
  const ids = (docs: Document[]) => docs.map((d) => d._id as number);

  it('serves _id-sorted finds in order after appends, out-of-order inserts, deletes, replacements and renames', async () => {
    const db = freshDb();
    const coll = db.collection<{ _id: number; v?: number }>('ordered');
    await coll.insertMany([1, 2, 3, 5, 8].map((_id) => ({ _id })));
    expect(ids(await coll.find({}).sort({ _id: 1 }).toArray())).toEqual([1, 2, 3, 5, 8]);
    // Out of order: the next sorted read sorts once.
    await coll.insertMany([4, 0, 13].map((_id) => ({ _id })));
    expect(ids(await coll.find({}).sort({ _id: 1 }).toArray())).toEqual([0, 1, 2, 3, 4, 5, 8, 13]);
    // Appends after the re-sort keep the order; a delete drops the document from it.
    await coll.insertOne({ _id: 21 });
    await coll.deleteOne({ _id: 3 });
    expect(ids(await coll.find({}).sort({ _id: 1 }).toArray())).toEqual([0, 1, 2, 4, 5, 8, 13, 21]);
    // A replacement keeps its place and serves its new bytes.
    await coll.replaceOne({ _id: 5 }, { v: 55 });
    await coll.updateOne({ _id: 8 }, { $set: { v: 88 } });
    const sorted = await coll.find({}).sort({ _id: 1 }).toArray();
    expect(sorted.map((d) => [d._id, d.v ?? null])).toEqual([
      [0, null], [1, null], [2, null], [4, null], [5, 55], [8, 88], [13, null], [21, null],
    ]);
    // Descending, filtered, skipped, limited, projected: the same as the order says.
    expect(ids(await coll.find({}).sort({ _id: -1 }).toArray())).toEqual([21, 13, 8, 5, 4, 2, 1, 0]);
    expect(ids(await coll.find({ _id: { $gt: 1, $lt: 13 } }).sort({ _id: -1 }).skip(1).limit(2).toArray())).toEqual([5, 4]);
    expect(await coll.find({ _id: 8 }, { projection: { v: 1, _id: 0 } }).sort({ _id: 1 }).toArray()).toEqual([{ v: 88 }]);
    // Natural order is still insertion order.
    expect(ids(await coll.find({}).toArray())).toEqual([1, 2, 5, 8, 4, 0, 13, 21]);
    // The order moves with the collection.
    await client.db('admin').command({ renameCollection: `${db.databaseName}.ordered`, to: `${db.databaseName}.moved` });
    await db.collection<{ _id: number }>('moved').insertOne({ _id: -1 });
    expect(ids(await db.collection('moved').find({}).sort({ _id: 1 }).toArray())).toEqual([-1, 0, 1, 2, 4, 5, 8, 13, 21]);
  });

  it('serves a 20,000-document collection in _id order in batches, byte for byte as inserted', async () => {
    const coll = freshDb().collection('many');
    // Descending ObjectIds: every insert is out of order.
    const docs = Array.from({ length: 20_000 }, (_, i) => ({
      _id: new ObjectId(Buffer.from((0x7fffffff - i).toString(16).padStart(8, '0') + '0'.repeat(16), 'hex')),
      i,
      s: 'x'.repeat(i % 50),
    }));
    await coll.insertMany(docs);
    const raw: Buffer[] = [];
    for await (const d of coll.find({}, { sort: { _id: 1 }, raw: true })) raw.push(d as unknown as Buffer);
    const expected = [...docs].reverse().map((d) => BSON.serialize(d));
    expect(raw.length).toBe(expected.length);
    expect(Buffer.concat(raw).equals(Buffer.concat(expected))).toBe(true);
  });
});
