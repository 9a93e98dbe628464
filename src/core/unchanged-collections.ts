/**
 * Which collections of the live database still hold exactly what a snapshot holds, found without
 * reading their documents; commit, status, diff and watch skip those. In order of preference:
 *
 * 1. change stream (replica sets, sharded clusters): a stream opened at the cluster time of the
 *    last read (dbsnap/read-point.json) lists every write since; a collection without an event
 *    up to now is unchanged. Nothing is locked. Needs the oplog to still reach back to that time.
 * 2. server hashes (`dbHash`): only where it is safe to ask, because dbHash takes a shared lock
 *    on the database that blocks writes until it completes (and Atlas M0/M2/M5/Flex and
 *    serverless refuse it): with --server-hashes, `serverHashes: true` in dbsnap.json, or on a
 *    server on this machine (localhost, 127.0.0.0/8, ::1, a unix socket).
 * 3. read: every collection is read (a standalone server elsewhere, a first commit, or when
 *    neither of the above can tell).
 *
 * Metadata (options, indexes) is always listed fresh: only documents are taken from the snapshot.
 * Time-series collections are always read: their writes do not reliably reach a change stream.
 */
import type { RepositoryConfig } from '../canonical/format.js';
import type { Connection } from '../mongo/connection.js';
import { changeFeed, currentOperationTime } from '../mongo/change-feed.js';
import { collectionHashes, type CollectionInfo } from '../mongo/reader.js';
import { formatSource, isLocalSource } from '../mongo/uri.js';
import { changedSince, formatClusterTime, parseClusterTime } from './change-detection.js';
import type { DbsnapKey } from '../crypto/index.js';
import { configDigest, partsFingerprint, readServerHashCache, recordableHashes, serverHashMatches } from './hash-cache.js';
import { readReadPoint } from './read-point.js';
import { hasCollection, hasManifest, partsTreeOf, type SnapshotRef } from './snapshot.js';

export { isLocalSource };

export type DetectionMethod = 'change-stream' | 'server-hashes' | 'read';

/** How a command knew which collections were unchanged (shown in its output and --json). */
export interface ChangeDetection {
  method: DetectionMethod;
  /** One line: what was asked and what it said, and why a preferred method was not used. */
  detail: string;
  /** Collections whose documents were taken from the snapshot instead of read. */
  unchanged: string[];
  /** change-stream: the cluster times compared and the events seen between them. */
  since?: string;
  until?: string;
  events?: number;
}

export interface DetectOptions {
  conn: Connection;
  repoDir: string;
  config: RepositoryConfig;
  /** The snapshot the live data is compared with (HEAD); null: nothing to compare, read all. */
  against: SnapshotRef | null;
  collections: CollectionInfo[];
  /** The cluster time this read is pinned at (commit's snapshot session); else the current operation time. */
  until?: string;
  /** dbHash: true = allowed, false = never, undefined = dbsnap.json's `serverHashes`, else only on a local server. */
  serverHashes?: boolean;
  /** false = never open a change stream. Default true. */
  changeStreams?: boolean;
  /** The key of sensitive fields: their collections' hashes are kept and compared as HMACs (recordableHashes). */
  key?: DbsnapKey;
  /** Collections with sensitive fields. */
  sensitive?: (collection: string) => boolean;
}

export interface DetectResult {
  detection: ChangeDetection;
  unchanged: Set<string>;
  /** The dbHash of each collection, when it was asked (commit records them for next time). */
  serverHashes: Record<string, string> | null;
}

/** Finds the collections whose documents need not be read; see the module comment for the order. */
export async function unchangedCollections(opts: DetectOptions): Promise<DetectResult> {
  const { conn, against } = opts;
  const read = (detail: string): DetectResult => ({ detection: { method: 'read', detail, unchanged: [] }, unchanged: new Set(), serverHashes: null });
  const plain = opts.collections.filter((c) => c.type === 'collection').map((c) => c.name);
  if (!against || !hasManifest(against)) {
    const first = read('no earlier snapshot to compare with');
    // A standalone server's next commit can only skip what dbHash recorded now (where allowed).
    if (conn.server.topology === 'standalone' && dbHashAllowed(opts)) first.serverHashes = await serverHashes(opts, plain);
    return first;
  }
  const inSnapshot = plain.filter((name) => hasCollection(against, name));
  const configKey = configDigest(opts.config);
  const notes: string[] = [];

  if (conn.server.topology === 'standalone') notes.push('standalone server: no change streams');
  else if (opts.changeStreams === false) notes.push('change streams turned off');
  else {
    const r = await viaChangeStream(opts, inSnapshot, configKey);
    if ('detection' in r) return r;
    notes.push(`change stream: ${r.reason}`);
  }

  if (!dbHashAllowed(opts)) {
    notes.push(
      opts.serverHashes === false || opts.config.serverHashes === false
        ? 'dbHash turned off'
        : 'dbHash (which blocks writes while it runs) is used on a server elsewhere only with --server-hashes',
    );
    return read(notes.join('; '));
  }
  // What the hashes are compared with is read while the server computes them (a damaged tree
  // matters only once there are hashes to compare).
  const trees = Promise.all(inSnapshot.map((name) => partsTreeOf(against, name)));
  trees.catch(() => {});
  const [hashes, cache] = await Promise.all([serverHashes(opts, plain), readServerHashCache(opts.repoDir)]);
  if (!hashes) return read([...notes, 'the server does not answer dbHash'].join('; '));
  const partsTrees = await trees;
  const unchanged = new Set<string>();
  for (const [i, name] of inSnapshot.entries()) {
    if (serverHashMatches(cache, name, hashes[name], configKey, partsFingerprint(partsTrees[i]!))) unchanged.add(name);
  }
  const why = opts.serverHashes ? '--server-hashes' : opts.config.serverHashes ? 'serverHashes in dbsnap.json' : 'the server is on this machine';
  return {
    detection: { method: 'server-hashes', detail: [...notes, `dbHash (${why}): ${unchanged.size} of ${plain.length} unchanged`].join('; '), unchanged: [...unchanged].sort() },
    unchanged,
    serverHashes: hashes,
  };
}

/** dbHash of each collection, as the cache keeps them (an HMAC for a collection with sensitive fields). */
async function serverHashes(opts: DetectOptions, plain: string[]): Promise<Record<string, string> | null> {
  return recordableHashes(await collectionHashes(opts.conn, plain), opts.key, opts.sensitive ?? (() => false));
}

function dbHashAllowed(opts: DetectOptions): boolean {
  return opts.serverHashes ?? opts.config.serverHashes ?? isLocalSource(opts.conn.source.hosts, opts.conn.source.scheme);
}

async function viaChangeStream(opts: DetectOptions, inSnapshot: string[], configKey: string): Promise<DetectResult | { reason: string }> {
  const { conn, against } = opts;
  const point = await readReadPoint(opts.repoDir);
  if (!point) return { reason: 'no cluster time recorded for this repository yet (the next commit records one)' };
  if (point.source !== formatSource(conn.source)) return { reason: `the last read was from ${point.source}` };
  if (point.config !== configKey) return { reason: 'the encoding settings changed since the last read' };
  const since = parseClusterTime(point.clusterTime);
  if (!since) return { reason: 'the recorded cluster time is unreadable' };
  let until = parseClusterTime(opts.until);
  try {
    until ??= await currentOperationTime(conn);
  } catch {
    until = null;
  }
  if (!until) return { reason: 'the server reports no operation time' };
  // A short await: an empty getMore answers when it has nothing (with how far it read), and the
  // stream only has to reach `until`, which is already past; a long await would only add latency.
  const verdict = await changedSince(changeFeed(conn, { maxAwaitTimeMS: 50 }), since, until);
  if (verdict.kind === 'unknown') return { reason: verdict.reason };
  // HEAD must still hold exactly the parts that were current at `since`.
  const unchanged = new Set<string>();
  for (const name of inSnapshot) {
    if (!verdict.changed.has(name) && point.collections[name] === partsFingerprint(await partsTreeOf(against!, name))) unchanged.add(name);
  }
  const s = formatClusterTime(since);
  const u = formatClusterTime(until);
  const writes = verdict.events === 0 ? 'no writes' : `${verdict.events} write${verdict.events === 1 ? '' : 's'} in ${verdict.changed.size} collection${verdict.changed.size === 1 ? '' : 's'}`;
  return {
    detection: {
      method: 'change-stream',
      detail: `change stream from cluster time ${s} to ${u}: ${writes}; ${unchanged.size} of ${opts.collections.filter((c) => c.type === 'collection').length} collections unchanged`,
      unchanged: [...unchanged].sort(),
      since: s,
      until: u,
      events: verdict.events,
    },
    unchanged,
    serverHashes: null,
  };
}
