/**
 * Change streams and the oplog through the driver, for src/core/change-detection.ts. Change
 * streams exist on replica sets and sharded clusters only; the oplog's first entry is read from
 * `local.oplog.rs`, which needs read access to `local` (a `clusterMonitor`-like role) and is not
 * reachable through mongos, so a sharded cluster reports "cannot read the oplog" and its commits
 * read everything.
 */
import { Timestamp, type ChangeStream, type ChangeStreamDocument, type Document } from 'mongodb';
import type { ChangeCursor, ChangeEventSummary, ChangeFeed, ClusterTime } from '../core/change-detection.js';
import { connect, type Connection } from './connection.js';

export interface ChangeFeedOptions {
  /** How long an empty getMore waits on the server (ms). */
  maxAwaitTimeMS?: number;
}

export function changeFeed(conn: Connection, opts: ChangeFeedOptions = {}): ChangeFeed {
  return {
    oplogStart: async () => {
      const first = await conn.client
        .db('local')
        .collection('oplog.rs')
        .find({}, { sort: { $natural: 1 }, limit: 1, projection: { ts: 1 } })
        .next();
      return first?.ts instanceof Timestamp ? { t: first.ts.t, i: first.ts.i } : null;
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

export function clusterTimeOf(t: { t: number; i: number }): ClusterTime {
  return { t: t.t, i: t.i };
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
