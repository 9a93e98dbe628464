/**
 * Change streams and the oplog through the driver, for src/core/change-detection.ts. Change
 * streams exist on replica sets and sharded clusters only. The oplog's first entry is read from
 * `local.oplog.rs` (read access to `local`), else from `serverStatus({oplog: 1})`
 * (`clusterMonitor`); without either privilege the oplog "cannot be read" and the caller reads
 * everything. mongos exposes no shard's oplog: on a sharded cluster the stream itself is the check
 * (a start time a shard no longer covers is refused with ChangeStreamHistoryLost).
 */
import { Timestamp } from 'bson';
import type { ChangeStream, ChangeStreamDocument, Document } from 'mongodb';
import type { ChangeCursor, ChangeEventSummary, ChangeFeed, ClusterTime } from '../core/change-detection.js';
import { connect, type Connection } from './connection.js';

export interface ChangeFeedOptions {
  /** How long an empty getMore waits on the server (ms). */
  maxAwaitTimeMS?: number;
}

export function changeFeed(conn: Connection, opts: ChangeFeedOptions = {}): ChangeFeed {
  return {
    oplogStart: async () => {
      if (conn.server.topology === 'sharded') return 'server';
      try {
        const first = await conn.client
          .db('local')
          .collection('oplog.rs')
          .find({}, { sort: { $natural: 1 }, limit: 1, projection: { ts: 1 } })
          .next();
        if (isTimestamp(first?.ts)) return { t: first.ts.t, i: first.ts.i };
      } catch {
        // Not authorized on `local`: serverStatus may still tell (clusterMonitor).
      }
      const status = await conn.client.db('admin').command({ serverStatus: 1, oplog: 1 });
      const earliest = (status.oplog as { earliestOptime?: unknown } | undefined)?.earliestOptime;
      return isTimestamp(earliest) ? { t: earliest.t, i: earliest.i } : null;
    },
    open: async (since) => openCursor(conn, { startAtOperationTime: new Timestamp({ t: since.t, i: since.i }) }, opts),
  };
}

/**
 * A change stream on the database from a point (`startAtOperationTime`, or `resumeAfter` a token
 * kept from an earlier stream), or from now when neither is given.
 */
export async function openCursor(
  conn: Connection,
  from: { startAtOperationTime?: Timestamp; resumeAfter?: unknown },
  opts: ChangeFeedOptions = {},
): Promise<ChangeCursor> {
  const stream: ChangeStream<Document> = conn.db.watch([], {
    ...(from.startAtOperationTime ? { startAtOperationTime: from.startAtOperationTime } : {}),
    ...(from.resumeAfter ? { resumeAfter: from.resumeAfter as Document } : {}),
    maxAwaitTimeMS: opts.maxAwaitTimeMS ?? 500,
  });
  return {
    tryNext: async () => {
      const ev = await stream.tryNext();
      return ev ? summarize(ev) : null;
    },
    resumeToken: () => stream.resumeToken,
    close: () => stream.close(),
  };
}

/** Resumes a change stream after `token` (watch --on-change keeps it across errors). */
export function openCursorAfter(conn: Connection, token: unknown, opts?: ChangeFeedOptions): Promise<ChangeCursor> {
  return openCursor(conn, token ? { resumeAfter: token } : {}, opts);
}

/**
 * A BSON Timestamp from the driver. By its tag, not `instanceof`: the driver (CommonJS) decodes with
 * its own copy of the bson classes, which differ from the ES module ones imported here.
 */
function isTimestamp(v: unknown): v is { t: number; i: number } {
  return typeof v === 'object' && v !== null && (v as { _bsontype?: unknown })._bsontype === 'Timestamp';
}

export function clusterTimeOf(t: { t: number; i: number }): ClusterTime {
  return { t: t.t, i: t.i };
}

/**
 * The deployment's current operation time (what a change stream must reach for "no write up to
 * now"); null on a standalone server, whose replies carry none.
 */
export async function currentOperationTime(conn: Connection): Promise<ClusterTime | null> {
  const r = await conn.db.command({ ping: 1 });
  return isTimestamp(r.operationTime) ? clusterTimeOf(r.operationTime) : null;
}

function summarize(ev: ChangeStreamDocument<Document>): ChangeEventSummary {
  const e = ev as { operationType: string; clusterTime?: Timestamp; ns?: { coll?: string }; to?: { coll?: string } };
  return {
    operationType: e.operationType,
    ...(e.clusterTime ? { clusterTime: { t: e.clusterTime.t, i: e.clusterTime.i } } : {}),
    ...(e.ns?.coll ? { collection: e.ns.coll } : {}),
    ...(e.to?.coll ? { renamedTo: e.to.coll } : {}),
  };
}

/**
 * A source of change streams on a database for `watch --on-change`, on one connection kept open
 * (the driver reconnects by itself); null on a standalone server, which has no change streams.
 */
export async function databaseChangeSource(
  uri: string,
  db: string | undefined,
  opts?: ChangeFeedOptions,
): Promise<{ open(token: unknown): Promise<ChangeCursor>; close(): Promise<void>; topology: string } | null> {
  const conn = await connect({ uri, db });
  if (conn.server.topology === 'standalone') {
    await conn.close().catch(() => {});
    return null;
  }
  return { open: (token) => openCursorAfter(conn, token, opts), close: () => conn.close(), topology: conn.server.topology };
}
