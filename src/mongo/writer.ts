/**
 * Every write restore makes to MongoDB: collections with their options, indexes, document
 * batches, the renameCollection swap, views and temporary-collection cleanup. Driver errors
 * become MongoOperationError naming the collection and what was being done.
 */
import type { AnyBulkWriteOperation, Document, Filter } from 'mongodb';
import { MongoOperationError } from '../errors/index.js';
import type { Connection } from './connection.js';

/** Index and collection names restore's temporary collections start with. */
export const TEMP_PREFIX = '__dbsnap_tmp_';

function fail(what: string, collection: string, err: unknown): MongoOperationError {
  const e = err as { message?: string; code?: number; codeName?: string };
  return new MongoOperationError(`${what} "${collection}" failed: ${e.message ?? String(err)}`, {
    collection,
    ...(e.code !== undefined ? { serverCode: e.code } : {}),
    ...(e.codeName ? { codeName: e.codeName } : {}),
  });
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

/** Replaces each document by `_id`, inserting those that are missing (merge restore). */
export async function upsertBatch(conn: Connection, name: string, docs: Document[]): Promise<void> {
  if (docs.length === 0) return;
  try {
    await conn.db.collection(name).bulkWrite(
      docs.map(
        (doc): AnyBulkWriteOperation => ({
          replaceOne: { filter: { _id: documentId(doc) } as Filter<Document>, replacement: doc, upsert: true },
        }),
      ),
      { ordered: true, bypassDocumentValidation: true },
    );
  } catch (err) {
    throw fail('upserting into', name, err);
  }
}

/** A document's `_id`, whether it is a plain object or a Map (the reader's order-keeping form). */
export function documentId(doc: Document | Map<string, unknown>): unknown {
  return doc instanceof Map ? doc.get('_id') : doc._id;
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

/**
 * Referenced values missing from `toCollection.toPath`: of the distinct values at `fromPath` in
 * `fromCollection` (array elements descended into, as MongoDB paths do), those that no document
 * of the target has. Returns how many referencing documents hold a missing value and a few of
 * their `_id`s.
 */
export async function findDanglingReferences(
  conn: Connection,
  from: { collection: string; path: string },
  to: { collection: string; path: string },
  examples = 5,
): Promise<{ dangling: number; examples: unknown[]; missingValues: number }> {
  try {
    const values = (await conn.db.collection(from.collection).distinct(from.path, {})).filter(
      (v) => v !== null && v !== undefined,
    );
    const missing: unknown[] = [];
    const CHUNK = 1000;
    for (let i = 0; i < values.length; i += CHUNK) {
      const chunk = values.slice(i, i + CHUNK);
      const found = await conn.db.collection(to.collection).distinct(to.path, { [to.path]: { $in: chunk } });
      const present = new Set(found.map(valueKey));
      for (const v of chunk) if (!present.has(valueKey(v))) missing.push(v);
    }
    if (missing.length === 0) return { dangling: 0, examples: [], missingValues: 0 };
    let dangling = 0;
    const ids: unknown[] = [];
    for (let i = 0; i < missing.length; i += CHUNK) {
      const filter = { [from.path]: { $in: missing.slice(i, i + CHUNK) } };
      dangling += await conn.db.collection(from.collection).countDocuments(filter);
      if (ids.length < examples) {
        const docs = await conn.db
          .collection(from.collection)
          .find(filter, { projection: { _id: 1 }, sort: { _id: 1 }, limit: examples - ids.length })
          .toArray();
        ids.push(...docs.map((d) => d._id));
      }
    }
    return { dangling, examples: ids, missingValues: missing.length };
  } catch (err) {
    throw fail('checking references of', from.collection, err);
  }
}

// Values as the driver promotes them: numbers of any BSON numeric type compare equal, as they do
// in a MongoDB query; ObjectIds and other BSON values by their hex/string form and type.
function valueKey(v: unknown): string {
  if (typeof v === 'number') return `n:${v}`;
  if (v && typeof v === 'object') {
    const t = (v as { _bsontype?: string })._bsontype;
    if (t === 'ObjectId') return `o:${(v as { toHexString(): string }).toHexString()}`;
    if (t === 'Long' || t === 'Int32' || t === 'Double') return `n:${Number(v.valueOf())}`;
    if (v instanceof Date) return `d:${v.getTime()}`;
    return `j:${t ?? ''}:${JSON.stringify(v)}`;
  }
  return `${typeof v}:${String(v)}`;
}
