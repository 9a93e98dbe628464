/**
 * The tree step of a commit: the collections read now plus those kept from HEAD (outside this
 * read's scope), written as the snapshot tree with its manifest; and which of them differ from HEAD.
 */
import { collectionDir, MANIFEST_FILE, type Manifest } from '../canonical/format.js';
import { CorruptSnapshotError } from '../errors/index.js';
import type { SnapshotRepository } from '../store/index.js';
import type { CommitOptions, CommittedCollection } from './commit.js';
import type { CommitPlan } from './commit-plan.js';
import type { CollectionResult } from './commit-read.js';
import { collectionTreeOf, partsTreeOf, type SnapshotRef } from './snapshot.js';
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
    const headTree = headSnap ? await collectionTreeOf(headSnap, name) : null;
    const r = results.get(name);
    const w = r ?? (await keptFromHead(headSnap!, headManifest!, name, headTree));
    written.push(w);
    collections.push({
      name,
      type: w.record.type,
      documents: w.record.documents,
      parts: w.record.parts,
      changed: w.tree !== headTree,
      source: r?.source ?? 'kept',
    });
  }
  const { tree, manifest } = await writeSnapshotTree(repo, {
    baseFiles: plan.baseSnap?.files ?? [],
    ...(plan.recordKeyId ? { config } : {}),
    collections: written,
  });
  return { tree, manifest, collections };
}

/** A collection outside this read's scope, as HEAD has it. */
async function keptFromHead(headSnap: SnapshotRef, headManifest: Manifest, name: string, tree: string | null): Promise<WrittenCollection> {
  const record = headManifest.collections[name]!;
  if (!tree) {
    throw new CorruptSnapshotError(
      `snapshot ${headSnap.commit.slice(0, 7)}: ${collectionDir(name)} is listed in ${MANIFEST_FILE} but missing from the tree; run dbsnap verify ${headSnap.commit.slice(0, 7)}.`,
      { commit: headSnap.commit, path: collectionDir(name) },
    );
  }
  return { name, record, tree, partsTree: await partsTreeOf(headSnap, name) };
}
