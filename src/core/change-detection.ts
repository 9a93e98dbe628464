/**
 * Knowing which collections changed since the last snapshot without asking the server for
 * `dbHash`, which takes a shared lock on the database (blocking writes until it completes) and is
 * missing on Atlas M0/M2/M5/Flex and serverless. On a replica set a change stream opened at the
 * last snapshot's cluster time lists every write since; no event up to the new snapshot's time
 * means unchanged. The decisions live here as pure logic over an injected feed, so they are
 * tested without a replica set; src/mongo/change-feed.ts is the driver side.
 */

/** A MongoDB cluster time (a BSON Timestamp): seconds and an ordinal within the second. */
export interface ClusterTime {
  t: number;
  i: number;
}

/** `1733068800.3` (as recorded in commit trailers) -> { t, i }; null when it is not one. */
export function parseClusterTime(s: string | undefined): ClusterTime | null {
  const m = /^(\d+)\.(\d+)$/.exec(s?.trim() ?? '');
  return m ? { t: Number(m[1]), i: Number(m[2]) } : null;
}

export function formatClusterTime(c: ClusterTime): string {
  return `${c.t}.${c.i}`;
}

export function compareClusterTime(a: ClusterTime, b: ClusterTime): number {
  return a.t - b.t || a.i - b.i;
}

/**
 * The cluster time a change stream's resume token stands for. The token's `_data` is a hex
 * KeyString whose first value is the event's timestamp: type byte 0x82, then the 8-byte
 * big-endian Timestamp (seconds, ordinal). A postBatchResumeToken of an empty batch says how far
 * the stream has read the oplog.
 */
export function resumeTokenTime(token: unknown): ClusterTime | null {
  const data = (token as { _data?: unknown } | null)?._data;
  if (typeof data !== 'string' || !/^82[0-9a-fA-F]{16}/.test(data)) return null;
  return { t: parseInt(data.slice(2, 10), 16), i: parseInt(data.slice(10, 18), 16) };
}

/** A change event, reduced to what the decision needs. */
export interface ChangeEventSummary {
  operationType: string;
  clusterTime?: ClusterTime;
  /** The collection written (absent for database-wide events: dropDatabase, invalidate). */
  collection?: string;
  /** The new name, for rename. */
  renamedTo?: string;
}

export interface ChangeCursor {
  /** The next event, or null when the server has none right now (after its await time). */
  tryNext(): Promise<ChangeEventSummary | null>;
  /** The latest resume token (postBatchResumeToken after an empty batch). */
  resumeToken(): unknown;
  close(): Promise<void>;
}

/** What the database offers for change detection (a replica set's oplog and change streams). */
export interface ChangeFeed {
  /**
   * The oldest entry still in the oplog; null when it cannot be read (no privilege); 'server' on
   * a sharded cluster, whose shards' oplogs mongos does not expose: there the stream's own
   * refusal (ChangeStreamHistoryLost) is the only coverage check.
   */
  oplogStart(): Promise<ClusterTime | null | 'server'>;
  /** A change stream on the database from `since` (inclusive). */
  open(since: ClusterTime): Promise<ChangeCursor>;
}

export type ChangeVerdict =
  /** Exactly these collections may differ from the snapshot at `since`; every other one is unchanged. */
  | { kind: 'known'; changed: Set<string>; events: number }
  /** Cannot tell: read everything. */
  | { kind: 'unknown'; reason: string };

export interface ChangedSinceOptions {
  /** Give up (verdict unknown) when the stream has not reached `until` by then. Default 10 s. */
  timeoutMs?: number;
  now?: () => number;
}

/**
 * Which collections changed between two cluster times: the last snapshot's (`since`) and the new
 * read's (`until`). The oplog must still reach back to `since`: a start time older than the
 * oplog's first entry is not always an error from the server (SERVER-50903), so it is checked
 * here, and anything uncertain is `unknown` (the caller reads everything).
 */
export async function changedSince(feed: ChangeFeed, since: ClusterTime, until: ClusterTime, opts: ChangedSinceOptions = {}): Promise<ChangeVerdict> {
  if (compareClusterTime(since, until) > 0) return { kind: 'unknown', reason: 'the last snapshot is newer than this read' };
  let first: ClusterTime | null | 'server';
  try {
    first = await feed.oplogStart();
  } catch (err) {
    return { kind: 'unknown', reason: `cannot read the oplog: ${oneLine(err)}` };
  }
  if (!first) return { kind: 'unknown', reason: 'cannot read the oplog' };
  if (first !== 'server' && compareClusterTime(first, since) > 0) {
    return { kind: 'unknown', reason: `the oplog starts at ${formatClusterTime(first)}, after the last snapshot (${formatClusterTime(since)})` };
  }
  const now = opts.now ?? Date.now;
  const deadline = now() + (opts.timeoutMs ?? 10_000);
  let cursor: ChangeCursor;
  try {
    cursor = await feed.open(since);
  } catch (err) {
    return { kind: 'unknown', reason: historyLost(err) ? `the change stream no longer reaches back to the last snapshot (${formatClusterTime(since)})` : `cannot open a change stream: ${oneLine(err)}` };
  }
  const changed = new Set<string>();
  let events = 0;
  try {
    for (;;) {
      const ev = await cursor.tryNext();
      if (ev) {
        if (ev.clusterTime && compareClusterTime(ev.clusterTime, until) > 0) break;
        // The snapshot at `since` already holds writes made at exactly that time (the stream
        // starts there inclusively; a transaction's writes all share its commit time).
        if (ev.clusterTime && compareClusterTime(ev.clusterTime, since) <= 0) continue;
        events++;
        if (!ev.collection) return { kind: 'unknown', reason: `a database-wide ${ev.operationType} event` };
        changed.add(userCollection(ev.collection));
        if (ev.renamedTo) changed.add(userCollection(ev.renamedTo));
        continue;
      }
      const reached = resumeTokenTime(cursor.resumeToken());
      if (reached && compareClusterTime(reached, until) >= 0) break;
      if (now() >= deadline) return { kind: 'unknown', reason: 'the change stream did not catch up in time' };
    }
  } catch (err) {
    return { kind: 'unknown', reason: historyLost(err) ? `the change stream no longer reaches back to the last snapshot (${formatClusterTime(since)})` : `the change stream failed: ${oneLine(err)}` };
  } finally {
    await cursor.close().catch(() => {});
  }
  return { kind: 'known', changed, events };
}

/** Writes to a time-series collection appear on its buckets collection. */
function userCollection(name: string): string {
  return name.startsWith('system.buckets.') ? name.slice('system.buckets.'.length) : name;
}

/** ChangeStreamHistoryLost (286): the start time is older than what the oplog still holds. */
function historyLost(err: unknown): boolean {
  const e = err as { code?: number; codeName?: string };
  return e?.code === 286 || e?.codeName === 'ChangeStreamHistoryLost';
}

function oneLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0]!;
}
