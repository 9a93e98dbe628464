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
 * Every document of a collection as raw BSON, in `_id` order. The sort happens on the server
 * (the `_id` index makes it a streaming scan), so memory does not grow with the collection.
 */
export async function* readRawDocuments(
  conn: Connection,
  collection: string,
  opts: ReadOptions = {},
): AsyncGenerator<Uint8Array> {
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
    for await (const doc of cursor) {
      if (opts.signal?.aborted) break;
      last = doc as unknown as Uint8Array;
      yield last;
    }
  } catch (err) {
    // A reply the driver cannot decode: say which document, by the last one that was fine.
    if (/BSON/.test((err as Error)?.name ?? '')) {
      const after = last ? `the document after _id ${EJSON.stringify(BSON.deserialize(last)._id as Document, { relaxed: false })}` : 'its first document';
      throw new FormatError(`the server sent ${after} as invalid BSON (${(err as Error).message})`, { collection }, { cause: err });
    }
    throw driverError(`reading "${collection}"`, err, { collection });
  } finally {
    await cursor.close().catch(() => {});
  }
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
