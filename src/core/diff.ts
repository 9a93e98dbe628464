/** The `diff` operation: picks the two sides (snapshots or the live database) and runs the diff engine. */
import { diffEachCollection, diffSnapshots, type SnapshotDiff } from '../diff/index.js';
import { isEncryptedValue, type KeyMaterial } from '../crypto/index.js';
import { CollectionNotFoundError, InvalidArgumentError } from '../errors/index.js';
import { assertDatabaseExists, connect } from '../mongo/connection.js';
import { SnapshotRepository } from '../store/index.js';
import type { ProgressCallback } from './progress.js';
import { checkCollectionNames } from './collection-names.js';
import { mergeBase, parseRange } from './revisions.js';
import { liveSides, snapshotPairSides, snapshotSides } from './sides.js';
import { openSnapshot, readConfigAt, readHeadConfig } from './snapshot.js';

export interface DiffOptions {
  repo: string;
  /**
   * Refs as `git diff` takes them: none = the live database against HEAD; one = the live
   * database against that snapshot; two (or `FROM..TO` as the first) = between snapshots;
   * `A...B` = from the merge base of A and B to B (what B changed since it left A).
   */
  from?: string;
  to?: string;
  /** Needed when one side is the live database. */
  uri?: string;
  db?: string;
  collections?: string[];
  /** Most document changes kept per collection (counts stay exact). */
  limit?: number;
  key?: KeyMaterial;
  /** dbHash allowed (see CommitOptions.useServerHashes). */
  useServerHashes?: boolean;
  /** Ask a change stream what changed since the last commit's read. Default true. */
  useChangeStreams?: boolean;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

/**
 * Document- and field-level differences between two snapshots, or between a snapshot and the
 * live database. Parts with equal blob ids are skipped unread, so cost follows the change.
 *
 * @example
 * const d = await diff({ repo: 'backup-repo', from: 'v1', to: 'HEAD' });
 * console.log(d.totals.documents); // { added, removed, changed }
 */
export async function diff(opts: DiffOptions): Promise<SnapshotDiff> {
  checkCollectionNames(opts.collections, 'diff');
  let from = opts.from;
  let to = opts.to;
  const repo = await SnapshotRepository.open(opts.repo);
  const range = from !== undefined && to === undefined ? parseRange(from) : null;
  let fromLabel = from;
  if (range) {
    to = range.to;
    // As git diff: A...B is from the merge base of A and B to B, never the same as A..B.
    from = range.symmetric ? await mergeBase(repo, await repo.resolveCommit(range.from), await repo.resolveCommit(range.to)) : range.from;
    // Reports name what the user typed; the merge base is shown beside it.
    fromLabel = range.symmetric ? `${range.from} (merge base ${from.slice(0, 7)})` : from;
  }
  const limit = opts.limit;
  const common = { limit, encryptedMarker: isEncryptedValue };
  if (from !== undefined && to !== undefined) {
    // Collection by collection, reading only those whose trees differ (snapshotPairSides).
    const [a, b] = await Promise.all([openSnapshot(repo, from, { parts: false }), openSnapshot(repo, to, { parts: false })]);
    const { names, sidesOf } = await snapshotPairSides(a, b, opts.collections);
    checkNamedCollectionsExist(opts.collections, [names.map((name) => ({ name }))], `${from} or ${to}`);
    return diffEachCollection(names, sidesOf, { ...common, fromLabel: fromLabel ?? from, toLabel: to });
  }
  if (!opts.uri) {
    throw new InvalidArgumentError('comparing with the live database needs a MongoDB URI: pass --uri or set MONGODB_URI (or give two refs).');
  }
  const { head } = await readHeadConfig(repo);
  const base = await openSnapshot(repo, from ?? head!);
  const config = await readConfigAt(base);
  const conn = await connect({ uri: opts.uri, db: opts.db });
  try {
    // A misspelt --db is not "every collection dropped".
    await assertDatabaseExists(conn);
    const [snap, { sides: live, detection }] = [
      await snapshotSides(base, opts.collections),
      await liveSides(conn, {
        config,
        key: opts.key,
        against: base,
        only: opts.collections,
        useServerHashes: opts.useServerHashes,
        useChangeStreams: opts.useChangeStreams,
        onProgress: opts.onProgress,
        signal: opts.signal,
      }),
    ];
    checkNamedCollectionsExist(opts.collections, [snap, live], `${from ?? 'HEAD'} or ${conn.dbName}`);
    const d = await diffSnapshots(snap, live, { ...common, fromLabel: from ?? 'HEAD', toLabel: `${conn.dbName} (live)` });
    return { ...d, detection };
  } finally {
    await conn.close().catch(() => {});
  }
}

/** `--collections nosuch` is a mistake to report, not "no differences". */
function checkNamedCollectionsExist(names: string[] | undefined, sides: { name: string }[][], where: string): void {
  const present = new Set(sides.flat().map((c) => c.name));
  const missing = (names ?? []).filter((n) => !present.has(n));
  if (missing.length) {
    throw new CollectionNotFoundError(
      `no collection ${missing.map((n) => `"${n}"`).join(', ')} in ${where}; check the names given to --collections.`,
      { collections: missing },
    );
  }
}
