/**
 * Writing a snapshot's objects: one collection's documents -> part blobs + collection.json, and the
 * collections -> manifest + tree. Shared by every writer of snapshots (commit from a live database,
 * import from a backup), so the same documents give the same tree hash whichever way they came in
 * (docs/FORMAT.md).
 */
import { EJSON, type Document } from 'bson';
import { withRoom } from '../canonical/byte-buffer.js';
import { encodeCollection, type EncodedCollection, type EncodeOptions, type RawDocuments } from '../canonical/encode-collection.js';
import {
  ATTRIBUTES_FILE,
  collectionDir,
  collectionEntryBytes,
  collectionEntryWithParts,
  collectionHeadOf,
  COLLECTIONS_DIR,
  CONFIG_FILE,
  FORMAT_VERSION,
  GITATTRIBUTES,
  MANIFEST_FILE,
  PREVIOUS_GITATTRIBUTES,
  metadataText,
  type CollectionEntry,
  type PartEntries,
  type WritableCollectionEntry,
  type Manifest,
  type ManifestCollection,
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

/**
 * A collection written into the object store: its directory's tree (collection.json and parts/)
 * and what the manifest records of it. Only trees are held, never a list of its part files, so a
 * commit's memory does not grow with the number of parts.
 */
export interface WrittenCollection {
  name: string;
  record: ManifestCollection;
  /** Tree id of the collection's directory. */
  tree: string;
  /** Tree id of its parts/ directory; null when it has no parts (empty, a view). */
  partsTree: string | null;
}

export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** Encodes `_id`-ordered raw documents into part blobs and their parts/ tree (null: no documents). */
export async function writeCollectionParts(
  repo: SnapshotRepository,
  docs: RawDocuments,
  opts: EncodeOptions,
): Promise<{ encoded: EncodedCollection; partsTree: string | null }> {
  // Blob ids as bytes, in part order (beside encoded.parts' names) until the tree is written.
  let oids = Buffer.allocUnsafeSlow(256 * 20);
  let count = 0;
  const encoded = await encodeCollection(docs, opts, async (part) => {
    const oid = await repo.writeBlob(part.data);
    oids = withRoom(oids, count * 20, count * 20 + 20);
    oids.write(oid, count++ * 20, 20, 'hex');
  });
  if (count === 0) return { encoded, partsTree: null };
  const files = Array.from({ length: count }, (_, i) => ({ name: encoded.parts.name(i), oid: oids.toString('hex', i * 20, i * 20 + 20) }));
  return { encoded, partsTree: await repo.writeFileTree(files) };
}

/** The collection.json entry for a spec and its encoded documents. */
export function collectionEntry(
  spec: CollectionSpec,
  encoded: Pick<EncodedCollection, 'documents' | 'sha256' | 'bsonMd5'>,
  parts: PartEntries,
): WritableCollectionEntry {
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

/** Writes a collection's directory: collection.json from `entry`, beside the parts tree written before. */
export async function writeCollectionDir(repo: SnapshotRepository, entry: WritableCollectionEntry, partsTree: string | null): Promise<WrittenCollection> {
  const files: TreeEntryInput[] = [{ path: 'collection.json', oid: await repo.writeBlob(collectionEntryBytes(entry)) }];
  if (partsTree) files.push({ path: 'parts', oid: partsTree, mode: '40000' });
  return {
    name: entry.name,
    record: { type: entry.type, documents: entry.documents, parts: entry.parts.length, sha256: entry.sha256 },
    tree: await repo.writeTree(files),
    partsTree,
  };
}

/**
 * Writes the directory of a collection whose documents are those of a snapshot's: collection.json
 * with `spec`'s type, options and indexes and the snapshot's counts, hashes and part list, the
 * list copied from its stored bytes (collectionEntryWithParts) rather than parsed and written
 * again, beside the snapshot's parts tree. When the bytes come out as stored (nothing about the
 * collection changed), the stored blob is the file and only the small directory tree is written.
 * Null when `stored` is not laid out as dbsnap writes it: parse it and use writeCollectionDir.
 */
export async function rewriteCollectionDir(
  repo: SnapshotRepository,
  spec: CollectionSpec,
  stored: { bytes: Buffer; oid: string },
  partsTree: string | null,
): Promise<WrittenCollection | null> {
  const was = collectionHeadOf(stored.bytes);
  if (!was) return null;
  const { parts: _none, ...head } = collectionEntry(spec, was, []);
  const made = collectionEntryWithParts(head, stored.bytes);
  if (!made) return null;
  const oid = made.bytes.equals(stored.bytes) ? stored.oid : await repo.writeBlob(made.bytes);
  const files: TreeEntryInput[] = [{ path: 'collection.json', oid }];
  if (partsTree) files.push({ path: 'parts', oid: partsTree, mode: '40000' });
  return {
    name: head.name,
    record: { type: head.type, documents: head.documents, parts: made.parts, sha256: head.sha256 },
    tree: await repo.writeTree(files),
    partsTree,
  };
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
  docs: RawDocuments,
  config: Pick<RepositoryConfig, 'partBits' | 'maxPartBytes' | 'sortKeys'>,
  opts: Pick<EncodeOptions, 'transform' | 'onDocument'> = {},
): Promise<WrittenCollection> {
  if (spec.type === 'view') return writeCollectionDir(repo, collectionEntry(spec, { documents: 0, sha256: EMPTY_SHA256 }, []), null);
  const { encoded, partsTree } = await writeCollectionParts(repo, docs, {
    partBits: config.partBits,
    maxPartBytes: config.maxPartBytes,
    sortKeys: config.sortKeys,
    ...opts,
  });
  return writeCollectionDir(repo, collectionEntry(spec, encoded, encoded.parts.asEntries()), partsTree);
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
  for (const c of [...opts.collections].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    tree.push({ path: collectionDir(c.name), oid: c.tree, mode: '40000' });
    const { type, documents, parts, sha256 } = c.record;
    manifest.collections[c.name] = { type, documents, parts, sha256 };
    manifest.documents += c.record.documents;
  }
  tree.push({ path: MANIFEST_FILE, oid: await repo.writeBlob(metadataText(manifest)) });
  return { tree: await repo.writeTree(tree), manifest };
}
