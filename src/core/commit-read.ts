/**
 * The read step of a commit: list the database's collections, pin a point in time, tell which
 * collections are unchanged since HEAD without reading them, and read and encode the others
 * into parts (a few collections at once). Nothing here moves a ref.
 */
import type { Document } from 'bson';
import { collectionDir, type CollectionEntry } from '../canonical/format.js';
import { FormatError, InterruptedError, isDbsnapError, MongoOperationError } from '../errors/index.js';
import { connectionError, type Connection } from '../mongo/connection.js';
import {
  estimatedCount,
  listCollections,
  listIndexes,
  pinSnapshotTime,
  readRawDocuments,
  snapshotTime,
  startSnapshotSession,
  type CollectionInfo,
  type SnapshotSession,
} from '../mongo/reader.js';
import { redactText } from '../mongo/uri.js';
import type { SnapshotRepository } from '../store/index.js';
import type { CommitOptions, CommitResult, CommittedCollection } from './commit.js';
import { selectCollections, skippedCollections, type CommitPlan } from './commit-plan.js';
import type { ProgressCallback } from './progress.js';
import { partsTreeOf, readCollectionEntry, type SnapshotRef } from './snapshot.js';
import { collectionEntry, rewriteCollectionDir, writeCollection, writeCollectionDir, type CollectionSpec, type WrittenCollection } from './snapshot-writer.js';
import { unchangedCollections, type ChangeDetection } from './unchanged-collections.js';

export interface CollectionResult extends WrittenCollection {
  source: CommittedCollection['source'];
  serverHash?: string;
}

export interface DatabaseRead {
  /** Collection name -> what was read (or taken from HEAD as unchanged). */
  results: Map<string, CollectionResult>;
  skipped: CommitResult['skipped'];
  warnings: string[];
  detection: ChangeDetection;
  /** The cluster time the read was pinned at; absent on a standalone server. */
  clusterTime?: string;
  pointInTime: boolean;
}

/**
 * Reads every selected collection of the database, point-in-time where the server allows.
 * @throws InterruptedError when `opts.signal` aborts; a typed error naming the collection when a read fails.
 */
export async function readDatabase(
  conn: Connection,
  repo: SnapshotRepository,
  plan: CommitPlan,
  opts: Pick<CommitOptions, 'uri' | 'collections' | 'exclude' | 'useServerHashes' | 'useChangeStreams' | 'concurrency' | 'onProgress' | 'signal'>,
): Promise<DatabaseRead> {
  const { config, headSnap, key, transformFor } = plan;
  opts.onProgress?.({ phase: 'list', done: 0 });
  const skippedNames: string[] = [];
  const all = await listCollections(conn, (name) => skippedNames.push(name));
  const { skipped, warnings } = skippedCollections(skippedNames, conn.dbName);
  const selected = selectCollections(all, config, opts);
  const session = startSnapshotSession(conn);
  await pinSnapshotTime(conn, session, selected.find((c) => c.type !== 'view')?.name);

  const pinnedAt = snapshotTime(session);
  const { detection, unchanged, serverHashes } = await unchangedCollections({
    conn,
    repoDir: repo.dir,
    config,
    against: headSnap,
    collections: selected,
    until: pinnedAt,
    serverHashes: opts.useServerHashes,
    changeStreams: opts.useChangeStreams,
    key,
    sensitive: (n) => transformFor(n) !== undefined,
  });
  const reuseAs: CommittedCollection['source'] = detection.method === 'change-stream' ? 'change-stream' : 'server-hash';

  const results = new Map<string, CollectionResult>();
  const queue = [...selected];
  const worker = async () => {
    for (let info = queue.shift(); info; info = queue.shift()) {
      if (opts.signal?.aborted) throw new InterruptedError('commit interrupted; HEAD was not moved.');
      const reuse = headSnap && unchanged.has(info.name) ? await reusable(headSnap, info.name, reuseAs) : undefined;
      try {
        results.set(
          info.name,
          await snapshotCollection(conn, repo, info, config, {
            session,
            transform: transformFor(info.name),
            reuse,
            serverHash: serverHashes?.[info.name],
            onProgress: opts.onProgress,
            signal: opts.signal,
          }),
        );
      } catch (err) {
        throw readFailure(err, info.name, opts.uri);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 2) }, worker));
  if (opts.signal?.aborted) throw new InterruptedError('commit interrupted; HEAD was not moved.');
  const clusterTime = snapshotTime(session);
  await session?.endSession().catch(() => {});
  return { results, skipped, warnings, detection, ...(clusterTime ? { clusterTime } : {}), pointInTime: Boolean(session) };
}

/** A driver error while reading (server gone, snapshot too old ...) as a typed, one-line error. */
function readFailure(thrown: unknown, collection: string, uri: string): Error {
  // src/mongo wraps driver errors; the driver's own (kept as cause) says what went wrong.
  const err = isDbsnapError(thrown) && (thrown.code === 'EMONGO' || thrown.code === 'ECONNECT') && thrown.cause ? thrown.cause : thrown;
  // A document dbsnap cannot store exactly: name the collection, and say nothing was committed.
  if (err instanceof FormatError) {
    // A reply damaged on the way blames no document: there is nothing to fix in the data.
    const next = err.data?.damagedInTransit ? 'Commit again.' : 'Fix the document (for a duplicated field, rewrite it without the duplicate) and commit again.';
    return new FormatError(`collection "${collection}": ${err.message}; nothing was committed and HEAD did not move. ${next}`, { ...err.data, collection });
  }
  if (isDbsnapError(err)) return err;
  // A file-system error (a full disk while writing objects) is not a failed read.
  if (typeof (err as NodeJS.ErrnoException)?.syscall === 'string') return err as Error;
  const e = err as { message?: string; codeName?: string; name?: string };
  const safe = connectionError(err, uri).message;
  const snapshotTooOld = e.codeName === 'SnapshotTooOld' || /SnapshotTooOld/.test(e.message ?? '');
  return new MongoOperationError(
    `reading "${collection}" failed, nothing was committed and HEAD did not move: ` +
      (snapshotTooOld
        ? 'the server no longer holds the point-in-time snapshot (the read took longer than its minSnapshotHistoryWindowInSeconds); raise that server parameter or commit fewer collections at a time (--collections).'
        : /network|connect|closed|ECONNRESET|timed out/i.test(`${e.name} ${e.message}`)
          ? safe
          : redactText(String(e.message ?? err).split('\n')[0]!, uri)),
    { collection, codeName: e.codeName },
    { cause: err },
  );
}

interface CollectionJob {
  session?: SnapshotSession;
  transform?: (doc: Uint8Array) => Document | Uint8Array;
  reuse?: Reusable;
  serverHash?: string;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

async function snapshotCollection(
  conn: Connection,
  repo: SnapshotRepository,
  info: CollectionInfo,
  config: CommitPlan['config'],
  job: CollectionJob,
): Promise<CollectionResult> {
  const indexes = info.type === 'view' ? [] : await listIndexes(conn, info.name);
  const spec: CollectionSpec = { name: info.name, type: info.type, options: info.options, indexes };
  const extra = job.serverHash ? { serverHash: job.serverHash } : {};
  if (job.reuse) {
    const { stored, partsTree, as } = job.reuse;
    let written = stored ? await rewriteCollectionDir(repo, spec, stored, partsTree) : null;
    if (!written) {
      // HEAD's collection.json is not laid out as dbsnap writes it: parse it and write it anew.
      const { documents, sha256, bsonMd5, parts } = await job.reuse.entry();
      written = await writeCollectionDir(repo, collectionEntry(spec, { documents, sha256, bsonMd5 }, parts), partsTree);
    }
    const { documents } = written.record;
    job.onProgress?.({ phase: 'read', collection: info.name, done: documents, total: documents });
    return { ...written, source: as, ...extra };
  }
  if (info.type === 'view') return { ...(await writeCollection(repo, spec, [], config)), source: 'read', ...extra };
  const total = await estimatedCount(conn, info.name);
  job.onProgress?.({ phase: 'read', collection: info.name, done: 0, total });
  let lastReport = 0;
  const written = await writeCollection(
    repo,
    spec,
    readRawDocuments(conn, info.name, { session: job.session, signal: job.signal }),
    config,
    {
      transform: job.transform,
      onDocument: (n) => {
        if (n - lastReport >= 1000) {
          lastReport = n;
          job.onProgress?.({ phase: 'read', collection: info.name, done: n, total: Math.max(total, n) });
        }
      },
    },
  );
  if (job.signal?.aborted) throw new InterruptedError('commit interrupted; HEAD was not moved.');
  const { documents } = written.record;
  job.onProgress?.({ phase: 'read', collection: info.name, done: documents, total: documents });
  return { ...written, source: 'read', ...extra };
}

/** HEAD's copy of a collection, to stand for the live one (its documents are not read). */
interface Reusable {
  /** collection.json as HEAD stores it (null if HEAD lacks it: entry() then says what is wrong). */
  stored: { bytes: Buffer; oid: string } | null;
  /** collection.json parsed, for a file not laid out as dbsnap writes it. */
  entry(): Promise<CollectionEntry>;
  partsTree: string | null;
  as: CommittedCollection['source'];
}

async function reusable(headSnap: SnapshotRef, name: string, as: CommittedCollection['source']): Promise<Reusable> {
  const oid = headSnap.files.get(`${collectionDir(name)}/collection.json`);
  return {
    stored: oid ? { bytes: await headSnap.repo.readBlob(oid), oid } : null,
    entry: () => readCollectionEntry(headSnap, name),
    partsTree: await partsTreeOf(headSnap, name),
    as,
  };
}
