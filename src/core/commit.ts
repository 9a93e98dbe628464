/**
 * The `commit` operation: reads every selected collection of a database (point-in-time where the
 * server allows), encodes it into parts, and commits the snapshot tree onto a ref. The steps each
 * have their own file: commit-plan (what it starts from), commit-read (read and encode),
 * commit-snapshot-tree (write the tree), commit-tree (move the ref), commit-record (leave
 * shortcuts for the next commit), commit-message and commit-changes (report).
 */
import type { SnapshotDiff } from '../diff/index.js';
import type { KeyMaterial } from '../crypto/index.js';
import type { CollectionEntry } from '../canonical/format.js';
import { InterruptedError } from '../errors/index.js';
import { assertDatabaseExists, connect, type Connection } from '../mongo/connection.js';
import { formatSource } from '../mongo/uri.js';
import { acquireLock, SnapshotRepository } from '../store/index.js';
import { checkCollectionNames } from './collection-names.js';
import { commitChanges } from './commit-changes.js';
import { commitMessage } from './commit-message.js';
import { planCommit } from './commit-plan.js';
import { readDatabase } from './commit-read.js';
import { recordReadPoint, recordServerHashes } from './commit-record.js';
import { writeCommitTree } from './commit-snapshot-tree.js';
import { commitTree } from './commit-tree.js';
import { configDigest } from './hash-cache.js';
import type { Identity, ProgressCallback } from './progress.js';
import type { ChangeDetection } from './unchanged-collections.js';

export interface CommitOptions {
  /** Snapshot repository directory. */
  repo: string;
  /** MongoDB connection string (credentials are never recorded). */
  uri: string;
  /** Database; defaults to the one in the URI. */
  db?: string;
  /** First line of the commit message; a summary is generated when absent. */
  message?: string;
  /** Read only these collections now; the others keep their version from HEAD. */
  collections?: string[];
  /** Do not read these now; they keep their version from HEAD. */
  exclude?: string[];
  /** Commit even when nothing changed. */
  allowEmpty?: boolean;
  /** Key material for sensitive fields (DBSNAP_KEY or a key file's contents). */
  key?: KeyMaterial;
  /**
   * May dbHash (a shared lock that blocks writes while it runs) tell which collections are
   * unchanged since HEAD? true = yes, false = never, absent = dbsnap.json's `serverHashes`, else
   * only when the server is on this machine. See unchanged-collections.ts.
   */
  useServerHashes?: boolean;
  /** On a replica set or sharded cluster, ask a change stream what changed since the last read. Default true. */
  useChangeStreams?: boolean;
  /** Collections read at once. */
  concurrency?: number;
  /**
   * Commit onto this ref (e.g. `refs/dbsnap/safety/...`) instead of HEAD's branch; its current
   * commit, if any, is the parent. dbsnap.json still comes from HEAD.
   */
  ref?: string;
  /**
   * Commit onto this branch instead of the checked-out one; a branch that does not exist yet is
   * created with HEAD as the parent. Its dbsnap.json is the one used.
   */
  branch?: string;
  author?: Identity;
  now?: Date;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
  /**
   * Also report what the commit changed against its parent (`changes`: collections added,
   * changed and dropped, with document counts). Costs a read of the parts that differ, so only
   * callers that show it ask (the CLI does).
   */
  changes?: boolean;
}

export interface CommittedCollection {
  name: string;
  type: CollectionEntry['type'];
  documents: number;
  parts: number;
  /** Differs from HEAD. */
  changed: boolean;
  /**
   * How the data was obtained: read now; taken from HEAD because no change stream event touched
   * it or because its server hash matched; or kept from HEAD (outside --collections).
   */
  source: 'read' | 'change-stream' | 'server-hash' | 'kept';
}

export interface CommitResult {
  committed: boolean;
  /** The new commit, or HEAD when nothing was committed. */
  commit: string | null;
  parent: string | null;
  tree: string;
  message: string;
  database: string;
  source: string;
  documents: number;
  collections: CommittedCollection[];
  pointInTime: boolean;
  clusterTime?: string;
  /** How unchanged collections were recognised without reading them. */
  detection: ChangeDetection;
  durationMs: number;
  /**
   * What was in the database and not snapshotted, and why: the server's own `system.*`
   * collections (except system.views and system.buckets.*, which the views and time-series
   * collections stand for) and temporary collections a restore left (`__dbsnap_tmp_*`).
   */
  skipped: { name: string; reason: 'system' | 'restore-temporary' }[];
  /** One line per kind of skipped collection, saying what to do about it. */
  warnings: string[];
  /** With `changes: true` and a new commit: what it changed against its parent, counts only. */
  changes?: SnapshotDiff;
}

/**
 * Snapshots a database into the repository as one commit. Nothing changed: no commit
 * (`committed: false`) unless `allowEmpty`. HEAD moves only after every object is written, so an
 * interrupted commit leaves the repository as it was.
 *
 * @example
 * const r = await commit({ repo: 'backup-repo', uri: 'mongodb://localhost/shop', message: 'before migration' });
 * console.log(r.committed ? `committed ${r.commit}` : 'nothing to commit');
 */
export async function commit(opts: CommitOptions): Promise<CommitResult> {
  const started = performance.now();
  checkCollectionNames(opts.collections, 'commit');
  const repo = await SnapshotRepository.open(opts.repo);
  const lock = await acquireLock(repo.dir, 'commit');
  let conn: Connection | undefined;
  // The commit's new objects go into one pack, written before the ref moves (store/object-batch.ts).
  repo.startBatch();
  try {
    // Plan: the ref, the parent, dbsnap.json and the key.
    const plan = await planCommit(repo, opts);

    // Read and encode: every selected collection, or HEAD's copy where it is known unchanged.
    opts.onProgress?.({ phase: 'connect', done: 0 });
    conn = await connect({ uri: opts.uri, db: opts.db });
    await assertDatabaseExists(conn);
    const read = await readDatabase(conn, repo, plan, opts);
    const configKey = configDigest(plan.config);

    // Write the tree.
    opts.onProgress?.({ phase: 'commit', done: 0 });
    const { tree, manifest, collections } = await writeCommitTree(repo, plan, read.results, opts);
    const headTree = plan.head ? (await repo.readCommit(plan.head)).tree : null;
    const sourceText = formatSource(conn.source);
    const base: Omit<CommitResult, 'committed' | 'commit' | 'message' | 'durationMs'> = {
      parent: plan.head,
      tree,
      database: conn.dbName,
      source: sourceText,
      documents: manifest.documents,
      collections,
      pointInTime: read.pointInTime,
      ...(read.clusterTime ? { clusterTime: read.clusterTime } : {}),
      skipped: read.skipped,
      warnings: read.warnings,
      detection: read.detection,
    };
    // Safety snapshots (--ref) read another database and do not move the read point.
    const readPoint = async () => {
      if (!read.clusterTime || opts.ref) return;
      await recordReadPoint(repo.dir, { source: sourceText, clusterTime: read.clusterTime, configKey, results: read.results });
    };
    if (tree === headTree && !opts.allowEmpty) {
      await repo.finishBatch();
      await recordServerHashes(repo.dir, read.results, configKey);
      await readPoint();
      return { ...base, committed: false, commit: plan.head, message: '', durationMs: Math.round(performance.now() - started) };
    }

    // Commit: the message, then the commit object and the ref move.
    const durationMs = Math.round(performance.now() - started);
    const message = commitMessage(opts.message, {
      database: conn.dbName,
      source: sourceText,
      server: `${conn.server.version} ${conn.server.topology}`,
      pointInTime: read.pointInTime,
      clusterTime: read.clusterTime,
      collections,
      documents: manifest.documents,
      durationMs,
    });
    if (opts.signal?.aborted) throw new InterruptedError('commit interrupted; HEAD was not moved.');
    // The parent is what the new branch grows from; the ref must still hold what it held (current).
    const commitOid = await commitTree(repo, { ref: plan.target, parent: plan.head, expect: plan.current, tree, message, author: opts.author, now: opts.now });
    // The commit is done: the hash cache only saves a later read, so failing to write it (a
    // full disk) must not turn a completed commit into an error.
    await recordServerHashes(repo.dir, read.results, configKey).catch(() => {});
    await readPoint().catch(() => {});

    // Report.
    const changes = opts.changes ? await commitChanges(repo, plan.head, commitOid) : undefined;
    return { ...base, committed: true, commit: commitOid, message, durationMs, ...(changes ? { changes } : {}) };
  } finally {
    repo.abortBatch();
    await conn?.close().catch(() => {});
    await lock.release();
  }
}
