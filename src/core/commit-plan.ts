/**
 * What a commit starts from, before the database is read: the ref it moves and its parent, the
 * snapshot and dbsnap.json it builds on, the key, and which of the listed collections it reads.
 */
import type { KeyMaterial } from '../crypto/index.js';
import { MANIFEST_FILE, type Manifest, type RepositoryConfig } from '../canonical/format.js';
import { CollectionNotFoundError } from '../errors/index.js';
import type { CollectionInfo } from '../mongo/reader.js';
import { TEMP_PREFIX } from '../mongo/writer.js';
import { branchRef, type SnapshotRepository } from '../store/index.js';
import type { CommitOptions, CommitResult } from './commit.js';
import { buildDocumentTransform } from './sensitive.js';
import { openSnapshot, readConfigAt, readHeadConfig, readManifest, type SnapshotRef } from './snapshot.js';

export interface CommitPlan {
  /** The ref the commit moves. */
  target: string;
  /** What the ref holds now: the value the update expects. */
  current: string | null;
  /** The new commit's parent. */
  head: string | null;
  headSnap: SnapshotRef | null;
  /** The snapshot whose non-data files (dbsnap.json, .gitattributes) the new tree starts from. */
  baseSnap: SnapshotRef | null;
  headManifest: Manifest | null;
  config: RepositoryConfig;
  key: ReturnType<typeof buildDocumentTransform>['key'];
  transformFor: ReturnType<typeof buildDocumentTransform>['transformFor'];
  /** The first commit with a key records its id in dbsnap.json. */
  recordKeyId: boolean;
}

/** Reads the repository side of a commit: target ref, parent, config and key. */
export async function planCommit(
  repo: SnapshotRepository,
  opts: Pick<CommitOptions, 'ref' | 'branch' | 'collections'> & { key?: KeyMaterial },
): Promise<CommitPlan> {
  const { config: headConfig, head: headCommit } = await readHeadConfig(repo);
  const target = opts.ref ?? (opts.branch !== undefined ? branchRef(opts.branch) : (await repo.head()).ref);
  // What the ref holds now: the new commit's parent and the value the update expects.
  const current = target === (await repo.head()).ref ? headCommit : ((await repo.listRefs(target)).find((r) => r.ref === target)?.oid ?? null);
  // A new branch grows from HEAD; a new safety ref starts without history.
  const head = current ?? (opts.branch !== undefined ? headCommit : null);
  if (target === (await repo.head()).ref) await repo.assertWorkTreeClean('dbsnap commit');
  // Part files are not listed: a commit compares collections by their trees (flat memory).
  const headSnap = head ? await openSnapshot(repo, head, { parts: false }) : null;
  const config = opts.branch !== undefined && headSnap && head !== headCommit ? await readConfigAt(headSnap) : headConfig;
  // A new ref starts from HEAD's non-data files (dbsnap.json, .gitattributes).
  const baseSnap = headSnap ?? (opts.ref ? await openSnapshot(repo, headCommit!, { parts: false }) : null);
  const headManifest = headSnap && headSnap.files.has(MANIFEST_FILE) ? await readManifest(headSnap) : null;
  const { key, transformFor } = buildDocumentTransform(config, opts.key, opts.collections);
  // The first commit with a key records its id, so a wrong key is a clear error later.
  const recordKeyId = Boolean(key && !config.keyId);
  if (key && recordKeyId) config.keyId = key.id;
  return { target, current, head, headSnap, baseSnap, headManifest, config, key, transformFor, recordKeyId };
}

/** The collections listCollections passed over that a user should hear about, and a line per kind. */
export function skippedCollections(names: string[], db: string): Pick<CommitResult, 'skipped' | 'warnings'> {
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

/** The listed collections this commit reads: --collections (each must exist), minus the config's and --exclude's. */
export function selectCollections(all: CollectionInfo[], config: RepositoryConfig, opts: Pick<CommitOptions, 'collections' | 'exclude'>): CollectionInfo[] {
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
