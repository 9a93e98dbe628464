/**
 * Reading snapshots back out of the repository: manifest, collection entries and part files,
 * straight from git objects (nothing is checked out).
 */
import type { Document } from 'bson';
import { EJSON } from 'bson';
import { readPartFile } from '../canonical/document-reader.js';
import {
  checkManifest,
  collectionDir,
  collectionHeadOf,
  COLLECTIONS_DIR,
  CONFIG_FILE,
  defaultConfig,
  MANIFEST_FILE,
  parseConfig,
  type CollectionEntry,
  type CollectionHead,
  type Manifest,
  type RepositoryConfig,
} from '../canonical/format.js';
import { CorruptSnapshotError, NotADbsnapRepositoryError, RefNotFoundError } from '../errors/index.js';
import { SnapshotRepository } from '../store/index.js';

export interface SnapshotRef {
  repo: SnapshotRepository;
  commit: string;
  /** path -> blob oid of every file in the snapshot (part files: see `partsListed`). */
  files: Map<string, string>;
  /**
   * False when opened with `{ parts: false }`: `files` then holds no part files, and a
   * collection's parts are known only by their tree (partsTreeOf), which keeps memory flat
   * in database size for an operation that does not read them all at once. withParts() lists
   * one collection's when it is its turn.
   */
  partsListed: boolean;
  /** Set by withParts(): `files` lists the part files of this collection only. */
  partsOnlyOf?: string;
}

/**
 * Opens a snapshot by any ref git accepts (hash, short hash, tag, branch, HEAD~2). With
 * `parts: false`, part files are not listed (see SnapshotRef.partsListed).
 */
export async function openSnapshot(repo: SnapshotRepository, ref: string, opts: { parts?: boolean } = {}): Promise<SnapshotRef> {
  const commit = await repo.resolveCommit(ref);
  const partsListed = opts.parts !== false;
  const files = await repo.listFiles(commit, '', partsListed ? undefined : isPartsDir);
  return { repo, commit, files, partsListed };
}

/** `collections/<dir>/parts`: where a collection's part files are. */
function isPartsDir(path: string): boolean {
  return path.startsWith(`${COLLECTIONS_DIR}/`) && path.endsWith('/parts') && path.split('/').length === 3;
}

function assertPartsListed(s: SnapshotRef, name: string): void {
  if (!s.partsListed || (s.partsOnlyOf !== undefined && s.partsOnlyOf !== name)) {
    throw new Error(`internal: snapshot ${s.commit.slice(0, 7)} was opened without the part files of ${name}; use withParts().`);
  }
}

/**
 * The snapshot with collection `name`'s part files listed: `s` itself when they are, else a
 * copy of `s` (opened with `{ parts: false }`) listing that collection's parts only, so a
 * caller going collection by collection holds one collection's part list at a time.
 * @throws CorruptSnapshotError when the collection's parts tree cannot be read.
 */
export async function withParts(s: SnapshotRef, name: string): Promise<SnapshotRef> {
  if (s.partsListed && (s.partsOnlyOf === undefined || s.partsOnlyOf === name)) return s;
  const files = new Map(s.files);
  if (s.partsOnlyOf !== undefined) {
    const other = `${collectionDir(s.partsOnlyOf)}/parts/`;
    for (const p of s.files.keys()) if (p.startsWith(other)) files.delete(p);
  }
  for (const [p, oid] of await s.repo.listFiles(s.commit, `${collectionDir(name)}/parts/`)) files.set(p, oid);
  return { repo: s.repo, commit: s.commit, files, partsListed: true, partsOnlyOf: name };
}

const dirTrees = new WeakMap<SnapshotRef, Promise<Map<string, string>>>();

/** Every directory under `collections/` in a snapshot (`collections/<dir>` -> tree id), read once per ref. */
export function collectionTrees(s: SnapshotRef): Promise<Map<string, string>> {
  let trees = dirTrees.get(s);
  if (!trees) {
    trees = (async () => {
      const map = new Map<string, string>();
      const root = await s.repo.treeOid(s.commit, COLLECTIONS_DIR);
      if (root) for (const e of await s.repo.readTree(root)) if (e.type === 'tree') map.set(`${COLLECTIONS_DIR}/${e.name}`, e.oid);
      return map;
    })();
    dirTrees.set(s, trees);
  }
  return trees;
}

/**
 * The tree id of a collection's directory in a snapshot (collection.json and parts/), or null
 * when the snapshot has no such collection. Equal ids: the same collection.json and the same parts.
 */
export async function collectionTreeOf(s: SnapshotRef, name: string): Promise<string | null> {
  return (await collectionTrees(s)).get(collectionDir(name)) ?? null;
}

/**
 * The tree id of a collection's parts/ directory in a snapshot: null when the collection has no
 * parts (empty, a view) or is not in the snapshot. Equal ids: the same part files.
 */
export async function partsTreeOf(s: SnapshotRef, name: string): Promise<string | null> {
  const dir = await collectionTreeOf(s, name);
  if (!dir) return null;
  const parts = (await s.repo.readTree(dir)).find((e) => e.name === 'parts' && e.type === 'tree');
  return parts?.oid ?? null;
}

/**
 * The paths checkManifestTotals looks through for files of collections the manifest does not
 * list: the snapshot's files, and every file of a `collections/` directory not in `names`
 * (listed in full even when `s` was opened without part files: strays are rare and small).
 */
export async function filesBesideManifest(s: SnapshotRef, names: string[]): Promise<Set<string>> {
  const dirs = new Set(names.map(collectionDir));
  const out = new Set(s.files.keys());
  for (const [dir] of await collectionTrees(s)) {
    if (!dirs.has(dir)) for (const p of (await s.repo.listFiles(s.commit, `${dir}/`)).keys()) out.add(p);
  }
  return out;
}

/** True when the snapshot holds the collection (its collection.json). */
export function hasCollection(s: SnapshotRef, name: string): boolean {
  return s.files.has(`${collectionDir(name)}/collection.json`);
}

export function hasManifest(s: SnapshotRef): boolean {
  return s.files.has(MANIFEST_FILE);
}

async function readJson(s: SnapshotRef, path: string): Promise<unknown> {
  const oid = s.files.get(path);
  if (!oid) throw new CorruptSnapshotError(`snapshot ${s.commit.slice(0, 7)}: ${path} is missing.`, { commit: s.commit, path });
  const buf = await s.repo.readBlob(oid);
  try {
    return JSON.parse(buf.toString('utf8'));
  } catch (err) {
    throw new CorruptSnapshotError(
      `snapshot ${s.commit.slice(0, 7)}: ${path} is not valid JSON (${(err as Error).message}). ` +
        `The repository may have been edited by hand; run dbsnap verify ${s.commit.slice(0, 7)}.`,
      { commit: s.commit, path },
    );
  }
}

export async function readManifest(s: SnapshotRef): Promise<Manifest> {
  if (!hasManifest(s)) {
    throw new RefNotFoundError(
      `commit ${s.commit.slice(0, 7)} holds no snapshot (no ${MANIFEST_FILE}); pick a snapshot commit from dbsnap log.`,
      { commit: s.commit },
    );
  }
  return checkManifest(await readJson(s, MANIFEST_FILE), `snapshot ${s.commit.slice(0, 7)}: ${MANIFEST_FILE}`);
}

export async function readConfigAt(s: SnapshotRef): Promise<RepositoryConfig> {
  if (!s.files.has(CONFIG_FILE)) return defaultConfig();
  return parseConfig(await readJson(s, CONFIG_FILE), `${CONFIG_FILE} at ${s.commit.slice(0, 7)}`);
}

/** Reads the repository config at HEAD; a repository without one was not made by dbsnap. */
export async function readHeadConfig(repo: SnapshotRepository): Promise<{ config: RepositoryConfig; head: string | null }> {
  const head = (await repo.head()).oid;
  if (!head) {
    throw new NotADbsnapRepositoryError(
      `${repo.dir} is a git repository without commits, not a dbsnap repository; run dbsnap init --repo ${repo.dir}.`,
    );
  }
  const buf = await repo.readFile(head, CONFIG_FILE);
  if (!buf) {
    throw new NotADbsnapRepositoryError(
      `${repo.dir} is not a dbsnap repository (no ${CONFIG_FILE} at HEAD); run dbsnap init in an empty directory.`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(buf.toString('utf8'));
  } catch (err) {
    throw new NotADbsnapRepositoryError(`${repo.dir}: ${CONFIG_FILE} is not valid JSON (${(err as Error).message}).`);
  }
  return { config: parseConfig(parsed, `${repo.dir}/${CONFIG_FILE}`), head };
}

export async function readCollectionEntry(s: SnapshotRef, name: string): Promise<CollectionEntry> {
  return (await readJson(s, `${collectionDir(name)}/collection.json`)) as CollectionEntry;
}

/** A collection's collection.json as stored, or null when the snapshot lacks it. */
export async function readCollectionBytes(s: SnapshotRef, name: string): Promise<Buffer | null> {
  const oid = s.files.get(`${collectionDir(name)}/collection.json`);
  return oid ? s.repo.readBlob(oid) : null;
}

/**
 * A collection's collection.json without its part list (collectionHeadOf), for a caller that
 * needs its counts, options and indexes only; a file laid out otherwise is parsed whole.
 */
export async function readCollectionHead(s: SnapshotRef, name: string): Promise<CollectionHead> {
  const bytes = await readCollectionBytes(s, name);
  const head = bytes ? collectionHeadOf(bytes) : null;
  if (head) return head;
  const { parts: _parts, ...rest } = await readCollectionEntry(s, name);
  return rest;
}

/** Decoded options and index specs of a collection entry (stored as canonical Extended JSON). */
export function decodeMeta(entry: Pick<CollectionEntry, 'options' | 'indexes'>): { options: Document; indexes: Document[] } {
  return {
    options: EJSON.deserialize(entry.options as Document, { relaxed: false }) as Document,
    indexes: entry.indexes.map((i) => EJSON.deserialize(i as Document, { relaxed: false }) as Document),
  };
}

/** Blob oid and path (`file`: relative to the collection directory) of each part of a collection, in `_id` order. */
export function partBlobs(s: SnapshotRef, entry: CollectionEntry): { path: string; file: string; oid: string; documents: number; sha256: string }[] {
  assertPartsListed(s, entry.name);
  const dir = collectionDir(entry.name);
  return entry.parts.map((p) => {
    const path = `${dir}/${p.file}`;
    const oid = s.files.get(path);
    if (!oid) throw missingPart(s, path);
    return { path, file: p.file, oid, documents: p.documents, sha256: p.sha256 };
  });
}

/** The error for a part file collection.json lists and the snapshot's tree lacks (`path` from the root). */
export function missingPart(s: SnapshotRef, path: string): CorruptSnapshotError {
  return new CorruptSnapshotError(
    `snapshot ${s.commit.slice(0, 7)}: ${path} is listed in collection.json but missing from the tree; run dbsnap verify ${s.commit.slice(0, 7)}.`,
    { commit: s.commit, path },
  );
}

/** Reads and decodes one part file. */
export async function loadPart(s: SnapshotRef, path: string, oid: string): Promise<Document[]> {
  const buf = await s.repo.readBlob(oid);
  return readPartFile(buf.toString('utf8'), `${path} (snapshot ${s.commit.slice(0, 7)})`);
}
