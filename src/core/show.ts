/** The `show` operation: one snapshot's commit metadata, trailers and per-collection counts. */
import { SnapshotRepository } from '../store/index.js';
import { commitSummary, parseTrailers, type CommitSummary } from './commit-summary.js';
import { hasManifest, openSnapshot, readCollectionEntry, readManifest } from './snapshot.js';

export interface ShowOptions {
  repo: string;
  /** Any commit-ish (default HEAD). */
  ref?: string;
}

export interface ShowResult extends CommitSummary {
  parents: string[];
  tree: string;
  message: string;
  tags: string[];
  trailers: Record<string, string>;
  snapshot: boolean;
  formatVersion?: number;
  documents: number;
  collections: {
    name: string;
    type: string;
    documents: number;
    parts: number;
    indexes: number;
    sha256: string;
  }[];
}

/**
 * One snapshot's metadata and per-collection counts.
 *
 * @example
 * const s = await show({ repo: 'backup-repo', ref: 'v1' });
 * console.log(s.collections.map((c) => `${c.name}: ${c.documents}`));
 */
export async function show(opts: ShowOptions): Promise<ShowResult> {
  const repo = await SnapshotRepository.open(opts.repo);
  const snap = await openSnapshot(repo, opts.ref ?? 'HEAD');
  const [c, tags] = await Promise.all([repo.readCommit(snap.commit), repo.tagsByCommit()]);
  // commit, parents and tree first, as the JSON output has always listed them.
  const { commit, ...summary } = commitSummary(c);
  const base = {
    commit,
    parents: c.parents,
    tree: c.tree,
    ...summary,
    message: c.message,
    tags: tags.get(c.oid) ?? [],
    trailers: parseTrailers(c.message),
  };
  if (!hasManifest(snap)) return { ...base, snapshot: false, documents: 0, collections: [] };
  const manifest = await readManifest(snap);
  const collections = [];
  for (const [name, m] of Object.entries(manifest.collections)) {
    const entry = await readCollectionEntry(snap, name);
    collections.push({
      name,
      type: m.type,
      documents: m.documents,
      parts: m.parts,
      indexes: entry.indexes.length,
      sha256: m.sha256,
    });
  }
  return { ...base, snapshot: true, formatVersion: manifest.formatVersion, documents: manifest.documents, collections };
}
