/**
 * Every write restore makes to MongoDB: collections with their options, indexes, document
 * batches, the renameCollection swap, views and temporary-collection cleanup. Driver errors
 * become MongoOperationError naming the collection and what was being done.
 */
import { createRequire } from 'node:module';
import type { AnyBulkWriteOperation, Document, Filter } from 'mongodb';
import type { DbsnapError } from '../errors/index.js';
import type { Connection } from './connection.js';
import { driverError } from './errors.js';

/** Index and collection names restore's temporary collections start with. */
export const TEMP_PREFIX = '__dbsnap_tmp_';

function fail(what: string, collection: string, err: unknown): DbsnapError {
  return driverError(`${what} "${collection}"`, err, { collection });
}

/**
 * Creates a collection or view with create options exactly as listCollections reported them
 * (validator field order, collation, capped size, viewOn + pipeline ...).
 */
export async function createCollection(conn: Connection, name: string, options: Document): Promise<void> {
  try {
    await conn.db.command({ create: name, ...options });
  } catch (err) {
    throw fail('creating', name, err);
  }
}

/**
 * Builds indexes from listIndexes specs. `_id_` comes with the collection, and `ns` is a
 * pre-4.4 field that createIndexes rejects on newer servers.
 */
export async function createIndexes(conn: Connection, name: string, specs: Document[]): Promise<void> {
  const indexes = specs
    .filter((s) => s.name !== '_id_')
    .map((s) => {
      const { ns: _ns, ...rest } = s;
      return rest;
    });
  if (indexes.length === 0) return;
  try {
    await conn.db.command({ createIndexes: name, indexes });
  } catch (err) {
    throw fail('building indexes of', name, err);
  }
}

/**
 * Inserts documents in the given order. Validation is bypassed: a snapshot may hold documents
 * that predate its collection's validator, and they must come back as they were.
 * `forceServerObjectId` keeps the driver from touching documents (every one has an `_id`; the
 * driver would otherwise add a property to Map-shaped documents).
 */
export async function insertBatch(conn: Connection, name: string, docs: Document[]): Promise<void> {
  if (docs.length === 0) return;
  try {
    await conn.db
      .collection(name)
      .insertMany(docs, { ordered: true, bypassDocumentValidation: true, forceServerObjectId: true });
  } catch (err) {
    throw fail('inserting into', name, err);
  }
}

/**
 * The driver's OP_MSG document sequence (payload type 1): a command field whose value is one
 * travels as the documents' own bytes, not serialised again. The driver uses it for its own
 * inserts (bulk writes hand it the bytes they serialised to measure a document); it is not public
 * API, so it is looked up once here and, when this driver version has no such class, raw inserts
 * are reported unavailable and restore hands the driver documents.
 */
interface DocumentSequenceLike {
  push(document: unknown, bytes: Uint8Array): number;
}
type DocumentSequenceClass = new (field: string) => DocumentSequenceLike;
// Looked up on first use, not at import: the driver is loaded on the first connection only.
let documentSequenceClass: DocumentSequenceClass | null | undefined;
function documentSequence(): DocumentSequenceClass | null {
  if (documentSequenceClass === undefined) {
    documentSequenceClass = null;
    try {
      const commands = createRequire(import.meta.url)('mongodb/lib/cmap/commands.js') as { DocumentSequence?: unknown };
      const ctor = commands.DocumentSequence;
      if (typeof ctor === 'function' && typeof (ctor.prototype as { push?: unknown } | undefined)?.push === 'function') documentSequenceClass = ctor as DocumentSequenceClass;
    } catch {
      // another driver layout: documents go to the driver
    }
  }
  return documentSequenceClass;
}

/** True when {@link insertRawBatch} can send ready BSON (the driver has document sequences). */
export function rawInsertAvailable(): boolean {
  return documentSequence() !== null;
}

/** Documents as BSON one after another: document i is `bson[starts[i], starts[i + 1])`. */
export interface BsonDocuments {
  bson: Uint8Array;
  starts: readonly number[];
}

/**
 * Inserts documents given as their BSON bytes, in the given order, without the driver decoding
 * or serialising them: `insert` commands whose documents are an OP_MSG document sequence, each
 * run of consecutive documents passed as one slice. Validation is bypassed as in
 * {@link insertBatch}. Every document must have an `_id`. A write error, or a count inserted
 * other than the count sent, fails the batch. Commands hold at most `maxCommandBytes` (a larger
 * document goes alone) and 100,000 documents, the server's limits being 48 MB and 100,000.
 */
export async function insertRawBatch(conn: Connection, name: string, runs: readonly BsonDocuments[], maxCommandBytes = RAW_COMMAND_BYTES): Promise<void> {
  const Sequence = documentSequence();
  if (!Sequence) throw new Error('raw inserts are not available with this driver version');
  let sequence = new Sequence('documents');
  let bytes = 0;
  let count = 0;
  const send = async () => {
    if (count > 0) await insertRawCommand(conn, name, sequence, count);
    sequence = new Sequence('documents');
    bytes = 0;
    count = 0;
  };
  for (const { bson, starts } of runs) {
    const n = starts.length - 1;
    for (let from = 0; from < n; ) {
      let to = from;
      while (to < n && (count + to - from === 0 || (bytes + starts[to + 1]! - starts[from]! <= maxCommandBytes && count + to - from < RAW_COMMAND_DOCUMENTS))) to++;
      if (to === from) {
        await send();
        continue;
      }
      const slice = bson.subarray(starts[from], starts[to]);
      sequence.push(slice, slice);
      bytes += slice.length;
      count += to - from;
      from = to;
    }
  }
  await send();
}

const RAW_COMMAND_BYTES = 32 * 1024 * 1024;
const RAW_COMMAND_DOCUMENTS = 100_000;

async function insertRawCommand(conn: Connection, name: string, documents: DocumentSequenceLike, count: number): Promise<void> {
  const command: Document = { insert: name, documents, ordered: true, bypassDocumentValidation: true };
  // The connection's write concern, as the driver adds it to its own writes (WriteConcern.apply).
  const wc = conn.db.writeConcern;
  if (wc) command.writeConcern = { ...(wc.w != null ? { w: wc.w } : {}), ...(wc.wtimeoutMS != null ? { wtimeout: wc.wtimeoutMS } : {}), ...(wc.journal != null ? { j: wc.journal } : {}) };
  let reply: Document;
  try {
    reply = await conn.db.command(command);
  } catch (err) {
    throw fail('inserting into', name, err);
  }
  const writeError = (reply.writeErrors as Document[] | undefined)?.[0] ?? (reply.writeConcernError as Document | undefined);
  if (writeError) throw fail('inserting into', name, { message: writeError.errmsg, code: writeError.code, codeName: writeError.codeName });
  if (reply.n !== count) throw fail('inserting into', name, { message: `the server inserted ${String(reply.n)} of ${count} documents` });
}

/** Replaces each document by its `_id` (`ids[i]` is the `_id` of `docs[i]`), inserting those that are missing (merge restore). */
export async function upsertBatch(conn: Connection, name: string, docs: Document[], ids: unknown[]): Promise<void> {
  if (docs.length === 0) return;
  try {
    await conn.db.collection(name).bulkWrite(
      docs.map(
        (doc, i): AnyBulkWriteOperation => ({
          replaceOne: { filter: { _id: ids[i] } as Filter<Document>, replacement: doc, upsert: true },
        }),
      ),
      { ordered: true, bypassDocumentValidation: true },
    );
  } catch (err) {
    throw fail('upserting into', name, err);
  }
}

/** Renames `from` to `to` in the same database, replacing `to` if it exists. */
export async function renameCollection(conn: Connection, from: string, to: string): Promise<void> {
  try {
    await conn.client
      .db('admin')
      .command({ renameCollection: `${conn.dbName}.${from}`, to: `${conn.dbName}.${to}`, dropTarget: true });
  } catch (err) {
    throw fail(`renaming ${from} to`, to, err);
  }
}

/** Drops a collection or view; one that does not exist is not an error. */
export async function dropCollection(conn: Connection, name: string): Promise<boolean> {
  try {
    await conn.db.command({ drop: name });
    return true;
  } catch (err) {
    if ((err as { code?: number }).code === 26) return false;
    throw fail('dropping', name, err);
  }
}

/** Names of temporary collections a restore left behind (killed before it could clean up). */
export async function listTempCollections(conn: Connection): Promise<string[]> {
  const infos = await conn.db
    .listCollections({ name: { $regex: `^${TEMP_PREFIX}` } }, { nameOnly: true, authorizedCollections: true })
    .toArray();
  return infos.map((i) => String(i.name)).filter((n) => n.startsWith(TEMP_PREFIX)).sort();
}

/** Counts documents exactly (the estimated count can be stale after an unclean shutdown). */
export async function countDocuments(conn: Connection, name: string): Promise<number> {
  try {
    return await conn.db.collection(name).countDocuments({});
  } catch (err) {
    throw fail('counting', name, err);
  }
}

/**
 * Raw BSON of the documents whose `_id` is in `ids`, in `_id` order (to check what a merge
 * wrote).
 */
export async function findRawByIds(conn: Connection, name: string, ids: unknown[]): Promise<Uint8Array[]> {
  try {
    const docs = await conn.db
      .collection(name)
      .find({ _id: { $in: ids } } as Filter<Document>, { raw: true, sort: { _id: 1 } })
      .toArray();
    return docs as unknown as Uint8Array[];
  } catch (err) {
    throw fail('reading back', name, err);
  }
}

/** Distinct values at `path` in a collection (array elements descended into, as MongoDB paths do), optionally among the documents matching `filter`. */
export async function distinctValues(conn: Connection, name: string, path: string, filter: Document = {}): Promise<unknown[]> {
  try {
    return await conn.db.collection(name).distinct(path, filter);
  } catch (err) {
    throw fail('reading values of', name, err);
  }
}

/** How many documents have one of `values` at `path`, and the `_id`s of the first `limit` of them in `_id` order. */
export async function documentsHolding(
  conn: Connection,
  name: string,
  path: string,
  values: unknown[],
  limit: number,
): Promise<{ count: number; ids: unknown[] }> {
  const filter = { [path]: { $in: values } } as Filter<Document>;
  try {
    const count = await conn.db.collection(name).countDocuments(filter);
    const ids =
      limit > 0
        ? (await conn.db.collection(name).find(filter, { projection: { _id: 1 }, sort: { _id: 1 }, limit }).toArray()).map((d) => d._id)
        : [];
    return { count, ids };
  } catch (err) {
    throw fail('checking references of', name, err);
  }
}
