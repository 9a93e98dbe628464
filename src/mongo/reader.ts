/**
 * Reading a database for a snapshot: collection metadata, indexes, `_id`-ordered raw documents,
 * and the server's own collection hashes where it has them.
 */
import { DBSNAP_COLLECTION_PREFIX } from './target-lock.js';
import { BSON, EJSON } from 'bson';
import type { ClientSession, Document } from 'mongodb';
import { FormatError } from '../errors/index.js';
import type { Connection } from './connection.js';
import { driverError } from './errors.js';

export type CollectionType = 'collection' | 'view' | 'timeseries';

export interface CollectionInfo {
  name: string;
  type: CollectionType;
  /** The create options exactly as the server reports them (field order kept). */
  options: Document;
}

/**
 * Lists collections, views and time-series collections; `system.*` and dbsnap's own `__dbsnap_*`
 * ones are skipped, each passed to `onSkipped` so a caller can say so.
 */
export async function listCollections(conn: Connection, onSkipped?: (name: string) => void): Promise<CollectionInfo[]> {
  let infos: Document[];
  try {
    infos = (await conn.db.listCollections({}, { nameOnly: false, authorizedCollections: true }).toArray()) as Document[];
  } catch (err) {
    throw driverError(`listing the collections of ${conn.dbName}`, err, { database: conn.dbName });
  }
  const out: CollectionInfo[] = [];
  for (const info of infos) {
    const name = String(info.name);
    // system.* belong to the server; __dbsnap_* to dbsnap itself (a restore's temporary
    // collections and lock): neither is the user's data, so no snapshot ever holds them.
    if (name.startsWith('system.') || name.startsWith(DBSNAP_COLLECTION_PREFIX)) {
      onSkipped?.(name);
      continue;
    }
    const type: CollectionType =
      info.type === 'view' ? 'view' : info.type === 'timeseries' ? 'timeseries' : 'collection';
    out.push({ name, type, options: (info.options as Document) ?? {} });
  }
  return out;
}

/** Index specifications as the server reports them (key order kept), `_id_` included. */
export async function listIndexes(conn: Connection, collection: string): Promise<Document[]> {
  try {
    return await conn.db.collection(collection).listIndexes().toArray();
  } catch (err) {
    // Views have no indexes; a collection dropped meanwhile has none either.
    if ((err as { code?: number }).code === 26 || (err as { code?: number }).code === 166) return [];
    throw driverError(`listing the indexes of "${collection}"`, err, { collection });
  }
}

export async function estimatedCount(conn: Connection, collection: string): Promise<number> {
  try {
    return await conn.db.collection(collection).estimatedDocumentCount();
  } catch {
    return 0;
  }
}

export interface ReadOptions {
  session?: ClientSession;
  batchSize?: number;
  signal?: AbortSignal;
}

/**
 * Every document of a collection as raw BSON, in `_id` order, a server reply at a time. The sort
 * happens on the server (the `_id` index makes it a streaming scan), so memory does not grow with
 * the collection. Each yielded batch holds the documents the driver has buffered: taking them
 * together costs one step of the async iteration per reply instead of one per document. The
 * next reply is asked for before a batch is handed out, so the server works while it is encoded.
 */
export async function* readRawDocuments(
  conn: Connection,
  collection: string,
  opts: ReadOptions = {},
): AsyncGenerator<Uint8Array[]> {
  const cursor = conn.db.collection(collection).find(
    {},
    {
      sort: { _id: 1 },
      raw: true,
      batchSize: opts.batchSize ?? 1000,
      allowDiskUse: true,
      ...(opts.session ? { session: opts.session } : {}),
    },
  );
  let last: Uint8Array | undefined;
  try {
    let more = cursor.hasNext();
    while (!opts.signal?.aborted && (await more)) {
      if (opts.signal?.aborted) break;
      const batch = cursor.readBufferedDocuments() as unknown as Uint8Array[];
      // The next reply is asked for now, with the cursor's buffer empty, so that the server
      // makes it while this one is encoded (its failure is met at the await above).
      more = cursor.hasNext();
      more.catch(() => {});
      if (batch.length === 0) continue;
      last = batch[batch.length - 1];
      yield batch;
    }
  } catch (err) {
    if (isBsonError(err)) throw await invalidDocument(conn, collection, last, err, opts);
    throw driverError(`reading "${collection}"`, err, { collection });
  } finally {
    await cursor.close().catch(() => {});
  }
}

/** The driver could not decode (part of) a reply: its BSON reader's error. */
function isBsonError(err: unknown): boolean {
  return /BSON/.test((err as Error)?.name ?? '');
}

/** A document's `_id` exactly as stored (no number promotion), or undefined if it cannot be decoded. */
function idOf(raw: Uint8Array): unknown {
  try {
    return BSON.deserialize(raw, { promoteValues: false, validation: { utf8: false } })._id;
  } catch {
    return undefined;
  }
}

const idText = (id: unknown) => EJSON.stringify({ _id: id } as Document, { relaxed: false }).slice('{"_id":'.length, -1);

/**
 * Which document a reply the driver could not decode held. The driver refuses either one
 * document (those before it in the batch were handed out, so it is the next after `last`) or the
 * whole batch (the array itself does not parse, so it is any of up to a batch after `last`).
 * Reading those documents again one per reply tells which: the first reply that fails holds
 * exactly the bad document, whose `_id` a read of `_id`s alone gives. Only what was found is
 * claimed: the `_id`, or that the documents read again were all valid (the reply was damaged on
 * the way), or where the search stopped.
 */
async function invalidDocument(conn: Connection, collection: string, last: Uint8Array | undefined, err: unknown, opts: ReadOptions): Promise<FormatError> {
  const cause = (err as Error).message;
  const lastId = last ? idOf(last) : undefined;
  const after = lastId === undefined ? (last ? 'after a document whose _id cannot be decoded' : 'at the start of the collection') : `after _id ${idText(lastId)}`;
  if (last && lastId === undefined) return new FormatError(`the server sent a document ${after} as invalid BSON (${cause})`, { collection }, { cause: err });
  const coll = conn.db.collection<Document>(collection);
  const session = opts.session ? { session: opts.session } : {};
  const limit = opts.batchSize ?? 1000;
  const afterId = (id: unknown): Document => (id === undefined ? {} : { _id: { $gt: id } });
  let good = lastId;
  let checked = 0;
  try {
    const again = coll.find(afterId(lastId), { sort: { _id: 1 }, raw: true, batchSize: 1, limit, ...session });
    try {
      for await (const doc of again) {
        good = idOf(doc as unknown as Uint8Array);
        checked++;
      }
    } finally {
      await again.close().catch(() => {});
    }
  } catch (again) {
    if (!isBsonError(again)) {
      return new FormatError(`the server sent a document ${after} as invalid BSON (${cause}); finding which failed (${(again as Error).message})`, { collection }, { cause: err });
    }
    // The reply that failed held one document: the next after `good`. Its _id alone may decode.
    let id: unknown;
    try {
      const [only] = await coll.find(afterId(good), { sort: { _id: 1 }, projection: { _id: 1 }, raw: true, limit: 1, ...session }).toArray();
      id = only ? idOf(only as unknown as Uint8Array) : undefined;
    } catch {
      id = undefined;
    }
    const which = id === undefined ? `the document after _id ${good === undefined ? '(none: the first)' : idText(good)} (its _id cannot be read either)` : `the document _id ${idText(id)}`;
    return new FormatError(`the server sent ${which} as invalid BSON (${cause})`, { collection, ...(id === undefined ? {} : { _id: idText(id) }) }, { cause: err });
  }
  return new FormatError(
    `the server sent a reply ${after} that is not valid BSON (${cause}); read again one document at a time, the ${checked} document${checked === 1 ? '' : 's'} after it ${checked === 1 ? 'is' : 'are'} valid, so the reply was damaged on the way (a proxy or the network?): run it again`,
    { collection, damagedInTransit: true },
    { cause: err },
  );
}

/**
 * The server's per-collection content hashes (`dbHash`), or null where the server does not offer
 * them (Atlas shared tiers, missing privileges, servers without the command).
 */
export async function collectionHashes(
  conn: Connection,
  collections: string[],
): Promise<Record<string, string> | null> {
  if (collections.length === 0) return {};
  try {
    const res = await conn.db.command({ dbHash: 1, collections });
    return (res.collections as Record<string, string>) ?? null;
  } catch {
    return null;
  }
}

/** A session for reading every collection at one cluster time, where the topology allows it. */
/** The session a point-in-time read runs in (the driver's type, named here so it does not leak past src/mongo). */
export type SnapshotSession = ClientSession;

export function startSnapshotSession(conn: Connection): ClientSession | undefined {
  if (conn.server.topology === 'standalone') return undefined;
  return conn.client.startSession({ snapshot: true });
}

/**
 * Makes a snapshot session pick its cluster time now, with one small read, so that collections
 * then read in parallel all see that same time (the driver fixes it at the session's first read).
 */
export async function pinSnapshotTime(conn: Connection, session: ClientSession | undefined, collection: string | undefined): Promise<void> {
  if (!session || !collection) return;
  try {
    await conn.db.collection(collection).findOne({}, { session, projection: { _id: 1 } });
  } catch (err) {
    throw driverError(`reading "${collection}"`, err, { collection });
  }
}

/** The cluster time a snapshot session read at, once its first read has happened. */
export function snapshotTime(session: ClientSession | undefined): string | undefined {
  const t = (session as unknown as { snapshotTime?: { t: number; i: number } } | undefined)?.snapshotTime;
  return t ? `${t.t}.${t.i}` : undefined;
}
