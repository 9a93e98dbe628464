/**
 * The tree step of a commit: the collections read now plus those kept from HEAD (outside this
 * read's scope), written as the snapshot tree with its manifest; and which of them differ from HEAD.
 */
import type { Manifest } from '../canonical/format.js';
import type { SnapshotRepository } from '../store/index.js';
import type { CommitOptions, CommittedCollection } from './commit.js';
import type { CommitPlan } from './commit-plan.js';
import type { CollectionResult } from './commit-read.js';
import { fingerprint } from './hash-cache.js';
import { collectionFiles, readCollectionEntry } from './snapshot.js';
import { writeSnapshotTree, type WrittenCollection } from './snapshot-writer.js';

/** Writes the new snapshot's tree; returns its id, its manifest and each collection's outcome. */
export async function writeCommitTree(
  repo: SnapshotRepository,
  plan: CommitPlan,
  results: Map<string, CollectionResult>,
  opts: Pick<CommitOptions, 'collections' | 'exclude'>,
): Promise<{ tree: string; manifest: Manifest; collections: CommittedCollection[] }> {
  const { config, headSnap, headManifest } = plan;
  // Collections outside this read's scope (--collections, --exclude) keep what HEAD has, unless
  // the config excludes them for good; one in scope that was not read has been dropped.
  const inScope = (name: string) =>
    (!opts.collections?.length || opts.collections.includes(name)) && !(opts.exclude ?? []).includes(name);
  const kept: string[] = [];
  for (const name of Object.keys(headManifest?.collections ?? {})) {
    if (!results.has(name) && !config.exclude.includes(name) && !inScope(name)) kept.push(name);
  }

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
  const { tree, manifest } = await writeSnapshotTree(repo, {
    baseFiles: plan.baseSnap?.files ?? [],
    ...(plan.recordKeyId ? { config } : {}),
    collections: written,
  });
  return { tree, manifest, collections };
}
