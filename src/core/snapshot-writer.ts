/**
 * Writing a snapshot's objects: one collection's documents -> part blobs + collection.json, and the
 * collections -> manifest + tree. Shared by every writer of snapshots (commit from a live database,
 * import from a backup), so the same documents give the same tree hash whichever way they came in
 * (docs/FORMAT.md).
 */
import { EJSON, type Document } from 'bson';
import { encodeCollection, type EncodedCollection, type EncodeOptions } from '../canonical/encode-collection.js';
import {
  ATTRIBUTES_FILE,
  collectionDir,
  COLLECTIONS_DIR,
  CONFIG_FILE,
  FORMAT_VERSION,
  GITATTRIBUTES,
  MANIFEST_FILE,
  PREVIOUS_GITATTRIBUTES,
  metadataText,
  type CollectionEntry,
  type Manifest,
  type RepositoryConfig,
} from '../canonical/format.js';
import { SnapshotRepository, type TreeEntryInput } from '../store/index.js';

/** A collection as a snapshot records it, before its documents are encoded. */
export interface CollectionSpec {
  name: string;
  type: CollectionEntry['type'];
  /** Create options as the server reports them (typed BSON values, field order kept). */
  options: Document;
  /** Index specs as listIndexes reports them. */
  indexes: Document[];
}

/** A collection written into the object store: its entry and its files (parts + collection.json). */
export interface WrittenCollection {
  entry: CollectionEntry;
  files: TreeEntryInput[];
}

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Encodes `_id`-ordered raw documents into part blobs; views have none. */
export async function writeCollectionParts(
  repo: SnapshotRepository,
  name: string,
  docs: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: EncodeOptions,
): Promise<{ encoded: EncodedCollection; files: TreeEntryInput[] }> {
  const dir = collectionDir(name);
  const files: TreeEntryInput[] = [];
  const encoded = await encodeCollection(docs, opts, async (part) => {
    files.push({ path: `${dir}/parts/${part.name}`, oid: await repo.writeBlob(part.data) });
  });
  return { encoded, files };
}

/** The collection.json entry for a spec and its encoded documents. */
export function collectionEntry(
  spec: CollectionSpec,
  encoded: Pick<EncodedCollection, 'documents' | 'sha256' | 'bsonMd5'>,
  parts: CollectionEntry['parts'],
): CollectionEntry {
  return {
    name: spec.name,
    type: spec.type,
    options: EJSON.serialize(spec.options, { relaxed: false }) as Record<string, unknown>,
    indexes: spec.indexes.map((i) => EJSON.serialize(i, { relaxed: false }) as Record<string, unknown>),
    documents: encoded.documents,
    sha256: encoded.sha256,
    ...(encoded.bsonMd5 ? { bsonMd5: encoded.bsonMd5 } : {}),
    parts,
  };
}

/** Part entries of collection.json from an encoding's parts. */
export function partEntriesOf(encoded: EncodedCollection): CollectionEntry['parts'] {
  return encoded.parts.map((p) => ({ file: `parts/${p.name}`, documents: p.documents, bytes: p.bytes, sha256: p.sha256 }));
}

/** Writes collection.json and returns its tree entry. */
export async function writeCollectionEntry(repo: SnapshotRepository, entry: CollectionEntry): Promise<TreeEntryInput> {
  return { path: `${collectionDir(entry.name)}/collection.json`, oid: await repo.writeBlob(metadataText(entry)) };
}

/**
 * Writes one whole collection: parts from the documents (none for a view), then collection.json.
 *
 * @example
 * const c = await writeCollection(repo, { name: 'users', type: 'collection', options: {}, indexes }, rawDocs, config);
 */
export async function writeCollection(
  repo: SnapshotRepository,
  spec: CollectionSpec,
  docs: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  config: Pick<RepositoryConfig, 'partBits' | 'maxPartBytes' | 'sortKeys'>,
  opts: Pick<EncodeOptions, 'transform' | 'onDocument'> = {},
): Promise<WrittenCollection> {
  if (spec.type === 'view') {
    const entry = collectionEntry(spec, { documents: 0, sha256: EMPTY_SHA256 }, []);
    return { entry, files: [await writeCollectionEntry(repo, entry)] };
  }
  const { encoded, files } = await writeCollectionParts(repo, spec.name, docs, {
    partBits: config.partBits,
    maxPartBytes: config.maxPartBytes,
    sortKeys: config.sortKeys,
    ...opts,
  });
  const entry = collectionEntry(spec, encoded, partEntriesOf(encoded));
  files.push(await writeCollectionEntry(repo, entry));
  return { entry, files };
}

/** Blob ids of .gitattributes files an earlier dbsnap wrote, replaced by the current one on commit. */
const OLD_ATTRIBUTES = new Set(PREVIOUS_GITATTRIBUTES.map((text) => SnapshotRepository.hashBlob(text)));

/**
 * Writes manifest.json and the tree: the base snapshot's non-data files (dbsnap.json,
 * .gitattributes; dbsnap.json rewritten when `config` is given, a .gitattributes an older dbsnap
 * wrote upgraded) plus the collections' files.
 */
export async function writeSnapshotTree(
  repo: SnapshotRepository,
  opts: {
    baseFiles: Iterable<[string, string]>;
    config?: RepositoryConfig;
    collections: WrittenCollection[];
  },
): Promise<{ tree: string; manifest: Manifest }> {
  const manifest: Manifest = { format: 'dbsnap', formatVersion: FORMAT_VERSION, documents: 0, collections: {} };
  const tree: TreeEntryInput[] = [];
  for (const [path, oid] of opts.baseFiles) {
    if (path === CONFIG_FILE && opts.config) tree.push({ path, oid: await repo.writeBlob(metadataText(opts.config)) });
    else if (path === ATTRIBUTES_FILE && OLD_ATTRIBUTES.has(oid)) tree.push({ path, oid: await repo.writeBlob(GITATTRIBUTES) });
    else if (path !== MANIFEST_FILE && !path.startsWith(`${COLLECTIONS_DIR}/`)) tree.push({ path, oid });
  }
  for (const { entry, files } of [...opts.collections].sort((a, b) => (a.entry.name < b.entry.name ? -1 : a.entry.name > b.entry.name ? 1 : 0))) {
    tree.push(...files);
    manifest.collections[entry.name] = {
      type: entry.type,
      documents: entry.documents,
      parts: entry.parts.length,
      sha256: entry.sha256,
    };
    manifest.documents += entry.documents;
  }
  tree.push({ path: MANIFEST_FILE, oid: await repo.writeBlob(metadataText(manifest)) });
  return { tree: await repo.writeTree(tree), manifest };
}
