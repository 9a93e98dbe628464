/**
 * The `commit` operation: reads every selected collection of a database (point-in-time where the
 * server allows), encodes it into parts, and commits the snapshot tree onto a ref.
 */
import type { Document } from 'bson';
import type { SnapshotDiff } from '../diff/index.js';
import type { KeyMaterial } from '../crypto/index.js';
import { MANIFEST_FILE, type CollectionEntry, type RepositoryConfig } from '../canonical/format.js';
import { CollectionNotFoundError, InterruptedError, isDbsnapError, MongoOperationError, FormatError } from '../errors/index.js';
import { assertDatabaseExists, connect, connectionError, type Connection } from '../mongo/connection.js';
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
import { formatSource, redactText } from '../mongo/uri.js';
import { TEMP_PREFIX } from '../mongo/writer.js';
import { checkCollectionNames } from './collection-names.js';
import { acquireLock, branchRef, SnapshotRepository, type TreeEntryInput } from '../store/index.js';
import { configDigest, fingerprint, readServerHashCache, writeServerHashCache, type ServerHashCache } from './hash-cache.js';
import { writeReadPoint } from './read-point.js';
import { unchangedCollections, type ChangeDetection } from './unchanged-collections.js';
import { commitChanges } from './commit-changes.js';
import { commitTree } from './commit-tree.js';
import type { Identity, ProgressCallback } from './progress.js';
import { buildDocumentTransform } from './sensitive.js';
import { collectionFiles, openSnapshot, readCollectionEntry, readConfigAt, readHeadConfig, readManifest, type SnapshotRef } from './snapshot.js';
import {
  collectionEntry,
  writeCollection,
  writeCollectionEntry,
  writeSnapshotTree,
  type CollectionSpec,
  type WrittenCollection,
} from './snapshot-writer.js';
import { DBSNAP_VERSION } from './version.js';

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

interface CollectionResult {
  entry: CollectionEntry;
  files: TreeEntryInput[];
  source: CommittedCollection['source'];
  serverHash?: string;
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
  try {
    const { config: headConfig, head: headCommit } = await readHeadConfig(repo);
    const target = opts.ref ?? (opts.branch !== undefined ? branchRef(opts.branch) : (await repo.head()).ref);
    // What the ref holds now: the new commit's parent and the value the update expects.
    const current = target === (await repo.head()).ref ? headCommit : ((await repo.listRefs(target)).find((r) => r.ref === target)?.oid ?? null);
    // A new branch grows from HEAD; a new safety ref starts without history.
    const head = current ?? (opts.branch !== undefined ? headCommit : null);
    if (target === (await repo.head()).ref) await repo.assertWorkTreeClean('dbsnap commit');
    const headSnap = head ? await openSnapshot(repo, head) : null;
    const config = opts.branch !== undefined && headSnap && head !== headCommit ? await readConfigAt(headSnap) : headConfig;
    // A new ref starts from HEAD's non-data files (dbsnap.json, .gitattributes).
    const baseSnap = headSnap ?? (opts.ref ? await openSnapshot(repo, headCommit!) : null);
    const headManifest = headSnap && headSnap.files.has(MANIFEST_FILE) ? await readManifest(headSnap) : null;
    const { key, transformFor } = buildDocumentTransform(config, opts.key, opts.collections);
    // The first commit with a key records its id, so a wrong key is a clear error later.
    const recordKeyId = Boolean(key && !config.keyId);
    if (key && recordKeyId) config.keyId = key.id;

    opts.onProgress?.({ phase: 'connect', done: 0 });
    conn = await connect({ uri: opts.uri, db: opts.db });
    await assertDatabaseExists(conn);
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
    const cache = serverHashes ? await readServerHashCache(repo.dir) : {};
    const configKey = configDigest(config);
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
            await snapshotCollection(conn!, repo, info, config, {
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

    // Collections outside this read's scope (--collections, --exclude) keep what HEAD has, unless
    // the config excludes them for good; one in scope that was not read has been dropped.
    const inScope = (name: string) =>
      (!opts.collections?.length || opts.collections.includes(name)) && !(opts.exclude ?? []).includes(name);
    const kept: string[] = [];
    for (const name of Object.keys(headManifest?.collections ?? {})) {
      if (!results.has(name) && !config.exclude.includes(name) && !inScope(name)) kept.push(name);
    }

    opts.onProgress?.({ phase: 'commit', done: 0 });
    const names = [...results.keys(), ...kept].sort();
    const written: WrittenCollection[] = [];
    const collections: CommittedCollection[] = [];
    for (const name of names) {
      const r = results.get(name);
      const headFiles = headSnap ? collectionFiles(headSnap, name) : [];
      const entry = r ? r.entry : await readCollectionEntry(headSnap!, name);
      const files = r ? r.files : headFiles;
      written.push({ entry, files });
      collections.push({
        name,
        type: entry.type,
        documents: entry.documents,
        parts: entry.parts.length,
        changed: fingerprint(files) !== fingerprint(headFiles),
        source: r ? r.source : 'kept',
      });
    }
    const { tree: treeOid, manifest } = await writeSnapshotTree(repo, {
      baseFiles: baseSnap?.files ?? [],
      ...(recordKeyId ? { config } : {}),
      collections: written,
    });
    const headTree = head ? (await repo.readCommit(head)).tree : null;
    const sourceText = formatSource(conn.source);
    const pointInTime = Boolean(session);
    const base: Omit<CommitResult, 'committed' | 'commit' | 'message' | 'durationMs'> = {
      parent: head,
      tree: treeOid,
      database: conn.dbName,
      source: sourceText,
      documents: manifest.documents,
      collections,
      pointInTime,
      ...(clusterTime ? { clusterTime } : {}),
      skipped,
      warnings,
      detection,
    };
    // Where the next change stream starts: this read's cluster time, for the collections whose
    // data is as of that time (not those kept from HEAD). Safety snapshots (--ref) read another
    // database and do not move it.
    const readPoint = async () => {
      if (!clusterTime || opts.ref) return;
      const point: Record<string, string> = {};
      for (const [name, r] of results) if (r.entry.type === 'collection') point[name] = fingerprint(r.files, false);
      await writeReadPoint(repo.dir, { source: sourceText, clusterTime, config: configKey, collections: point });
    };
    if (treeOid === headTree && !opts.allowEmpty) {
      await saveCache(repo.dir, cache, results, configKey);
      await readPoint();
      return { ...base, committed: false, commit: head, message: '', durationMs: Math.round(performance.now() - started) };
    }
    const durationMs = Math.round(performance.now() - started);
    const message = commitMessage(opts.message, {
      database: conn.dbName,
      source: sourceText,
      server: `${conn.server.version} ${conn.server.topology}`,
      pointInTime,
      clusterTime,
      collections,
      documents: manifest.documents,
      durationMs,
    });
    if (opts.signal?.aborted) throw new InterruptedError('commit interrupted; HEAD was not moved.');
    // The parent is what the new branch grows from; the ref must still hold what it held (current).
    const commitOid = await commitTree(repo, { ref: target, parent: head, expect: current, tree: treeOid, message, author: opts.author, now: opts.now });
    // The commit is done: the hash cache only saves a later read, so failing to write it (a
    // full disk) must not turn a completed commit into an error.
    await saveCache(repo.dir, cache, results, configKey).catch(() => {});
    await readPoint().catch(() => {});
    const changes = opts.changes ? await commitChanges(repo, head, commitOid) : undefined;
    return { ...base, committed: true, commit: commitOid, message, durationMs, ...(changes ? { changes } : {}) };
  } finally {
    await conn?.close().catch(() => {});
    await lock.release();
  }
}

/** A driver error while reading (server gone, snapshot too old ...) as a typed, one-line error. */
function readFailure(thrown: unknown, collection: string, uri: string): Error {
  // src/mongo wraps driver errors; the driver's own (kept as cause) says what went wrong.
  const err = isDbsnapError(thrown) && (thrown.code === 'EMONGO' || thrown.code === 'ECONNECT') && thrown.cause ? thrown.cause : thrown;
  // A document dbsnap cannot store exactly: name the collection, and say nothing was committed.
  if (err instanceof FormatError) return new FormatError(`collection "${collection}": ${err.message}; nothing was committed and HEAD did not move. Fix the document (for a duplicated field, rewrite it without the duplicate) and commit again.`, { ...err.data, collection });
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

/** The collections listCollections passed over that a user should hear about, and a line per kind. */
function skippedCollections(names: string[], db: string): Pick<CommitResult, 'skipped' | 'warnings'> {
  const sorted = [...names].sort();
  const system = sorted.filter((n) => n.startsWith('system.') && n !== 'system.views' && !n.startsWith('system.buckets.'));
  const temporary = sorted.filter((n) => n.startsWith(TEMP_PREFIX));
  const warnings: string[] = [];
  if (system.length) {
    warnings.push(`not snapshotted: ${system.join(', ')} (system collections belong to the server; dbsnap never reads or restores them).`);
  }
  if (temporary.length) {
    warnings.push(
      `not snapshotted: ${temporary.length} temporary collection${temporary.length === 1 ? '' : 's'} of a restore (${temporary.join(', ')}); ` +
        `unless a restore into ${db} is running now, an interrupted one left ${temporary.length === 1 ? 'it' : 'them'}: run dbsnap restore --cleanup --db ${db}`,
    );
  }
  return {
    skipped: [...system.map((name) => ({ name, reason: 'system' as const })), ...temporary.map((name) => ({ name, reason: 'restore-temporary' as const }))],
    warnings,
  };
}

function selectCollections(all: CollectionInfo[], config: RepositoryConfig, opts: CommitOptions): CollectionInfo[] {
  const byName = new Map(all.map((c) => [c.name, c]));
  for (const name of opts.collections ?? []) {
    if (!byName.has(name)) {
      throw new CollectionNotFoundError(
        `collection "${name}" does not exist in the database; dbsnap commit --collections takes names from: ${[...byName.keys()].sort().join(', ') || '(none)'}.`,
        { collection: name },
      );
    }
  }
  const excluded = new Set([...config.exclude, ...(opts.exclude ?? [])]);
  return all.filter(
    (c) => !excluded.has(c.name) && (!opts.collections?.length || opts.collections.includes(c.name)),
  );
}

interface CollectionJob {
  session?: SnapshotSession;
  transform?: (doc: Uint8Array) => Document | Uint8Array;
  reuse?: { entry: CollectionEntry; files: TreeEntryInput[]; as: CommittedCollection['source'] };
  serverHash?: string;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

async function snapshotCollection(
  conn: Connection,
  repo: SnapshotRepository,
  info: CollectionInfo,
  config: RepositoryConfig,
  job: CollectionJob,
): Promise<CollectionResult> {
  const indexes = info.type === 'view' ? [] : await listIndexes(conn, info.name);
  const spec: CollectionSpec = { name: info.name, type: info.type, options: info.options, indexes };
  const extra = job.serverHash ? { serverHash: job.serverHash } : {};
  if (job.reuse) {
    const { documents, sha256, bsonMd5, parts } = job.reuse.entry;
    job.onProgress?.({ phase: 'read', collection: info.name, done: documents, total: documents });
    const entry = collectionEntry(spec, { documents, sha256, bsonMd5 }, parts);
    const files = job.reuse.files.filter((f) => !f.path.endsWith('/collection.json'));
    files.push(await writeCollectionEntry(repo, entry));
    return { entry, files, source: job.reuse.as, ...extra };
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
  job.onProgress?.({ phase: 'read', collection: info.name, done: written.entry.documents, total: written.entry.documents });
  return { ...written, source: 'read', ...extra };
}

/** HEAD's copy of a collection, to stand for the live one (its documents are not read). */
async function reusable(
  headSnap: SnapshotRef,
  name: string,
  as: CommittedCollection['source'],
): Promise<{ entry: CollectionEntry; files: TreeEntryInput[]; as: CommittedCollection['source'] }> {
  return { entry: await readCollectionEntry(headSnap, name), files: collectionFiles(headSnap, name), as };
}

async function saveCache(
  dir: string,
  cache: ServerHashCache,
  results: Map<string, CollectionResult>,
  configKey: string,
): Promise<void> {
  let dirty = false;
  for (const [name, r] of results) {
    if (!r.serverHash) continue;
    cache[name] = { serverHash: r.serverHash, config: configKey, parts: fingerprint(r.files, false) };
    dirty = true;
  }
  if (dirty) await writeServerHashCache(dir, cache);
}

export interface MessageFacts {
  database: string;
  source: string;
  server: string;
  pointInTime: boolean;
  clusterTime?: string;
  /** Overrides the Dbsnap-Read trailer (an import reads no server). */
  read?: string;
  collections: Pick<CommittedCollection, 'name' | 'changed'>[];
  documents: number;
  durationMs: number;
}

/** A readable first line, then git trailers a script can parse (`git interpret-trailers`). */
export function commitMessage(subject: string | undefined, f: MessageFacts): string {
  const changed = f.collections.filter((c) => c.changed).map((c) => c.name);
  const first =
    subject?.trim().split('\n')[0] ||
    `Snapshot of ${f.database}: ${f.collections.length} collection${f.collections.length === 1 ? '' : 's'}, ${f.documents.toLocaleString('en-US')} document${f.documents === 1 ? '' : 's'}`;
  const body = subject?.trim().split('\n').slice(1).join('\n').trim();
  const trailers = [
    `Dbsnap-Database: ${f.database}`,
    `Dbsnap-Source: ${f.source}`,
    `Dbsnap-Server: ${f.server}`,
    `Dbsnap-Read: ${f.read ? f.read : f.pointInTime ? `point-in-time${f.clusterTime ? ` at cluster time ${f.clusterTime}` : ''}` : 'not point-in-time (standalone server)'}`,
    `Dbsnap-Collections: ${f.collections.length}`,
    `Dbsnap-Documents: ${f.documents}`,
    `Dbsnap-Changed: ${changed.length ? changed.join(', ') : '(none)'}`,
    `Dbsnap-Version: ${DBSNAP_VERSION}`,
    `Dbsnap-Duration-Ms: ${f.durationMs}`,
  ];
  return `${first}\n\n${body ? `${body}\n\n` : ''}${trailers.join('\n')}\n`;
}
