/**
 * The two kinds of "side" a diff compares: a snapshot in the repository, and a live database
 * encoded exactly as commit would encode it (so equal data gives equal part blob ids and the
 * diff engine can skip it unread). diff, status and verify all build their sides here.
 */
import type { KeyMaterial } from '../crypto/index.js';
import { basename } from 'node:path';
import type { Document } from 'bson';
import { EJSON } from 'bson';
import { documentId } from '../canonical/document-id.js';
import { readPartFile } from '../canonical/document-reader.js';
import { encodeCollection } from '../canonical/encode-collection.js';
import { collectionDir, collectionHeadOf, scanPartList, type CollectionEntry, type CollectionHead, type Manifest, type RepositoryConfig } from '../canonical/format.js';
import { partEntries, type PartBytes } from '../canonical/part-entries.js';
import { InternalError } from '../errors/index.js';
import type { CollectionSide, DocumentEntry, PartRef, SidesOf } from '../diff/index.js';
import type { Connection } from '../mongo/connection.js';
import { estimatedCount, listCollections, listIndexes, readRawDocuments, type CollectionInfo } from '../mongo/reader.js';
import { SnapshotRepository, TreeIndex } from '../store/index.js';
import { unchangedCollections, type ChangeDetection } from './unchanged-collections.js';
import type { ProgressCallback } from './progress.js';
import { buildDocumentTransform } from './sensitive.js';
import {
  collectionTreeOf,
  decodeMeta,
  hasManifest,
  missingPart,
  partBlobs,
  partsTreeOf,
  readCollectionBytes,
  readCollectionEntry,
  readCollectionHead,
  readManifest,
  withParts,
  type SnapshotRef,
} from './snapshot.js';

function asEntry(doc: Document): DocumentEntry {
  return { id: documentId(doc), doc: () => doc };
}

/** Where a collection's parts are: one object shared by all of them. */
interface PartsSource {
  repo: SnapshotRepository;
  commit: string;
  /** `collections/<dir>/` */
  dir: string;
}

/**
 * A part of a snapshot, read from git only when the diff needs it. A class holding its name, blob
 * id and count and one shared PartsSource, not closures or paths: a collection of a few million
 * documents has ~100,000 parts on each side of a diff. It holds no SnapshotRef, so the listing of
 * the parts tree it was made from is not kept alive by it.
 */
class SnapshotPart implements PartRef {
  /** The file name, taken once: the diff engine compares and looks parts up by it. */
  readonly name: string;

  constructor(
    private readonly source: PartsSource,
    /** Path relative to the collection directory, as collection.json lists it (`parts/<name>`). */
    private readonly file: string,
    readonly blobId: string,
    readonly count: number,
    readonly size?: number,
  ) {
    this.name = basename(file);
  }

  private get where(): string {
    return `${this.source.dir}${this.file} (snapshot ${this.source.commit.slice(0, 7)})`;
  }

  async load(): Promise<Document[]> {
    return readPartFile((await this.source.repo.readBlob(this.blobId)).toString('utf8'), this.where);
  }

  async loadEntries(): Promise<DocumentEntry[]> {
    const text = (await this.source.repo.readBlob(this.blobId)).toString('utf8');
    return partEntries(text, this.where) ?? readPartFile(text, this.where).map(asEntry);
  }

  async loadBytes(): Promise<PartBytes> {
    return { bytes: await this.source.repo.readBlob(this.blobId), source: this.where };
  }
}

function partsSource(snap: SnapshotRef, collection: string): PartsSource {
  return { repo: snap.repo, commit: snap.commit, dir: `${collectionDir(collection)}/` };
}

/** A collection.json entry's type, options and indexes as a diff side's meta. */
function sideMeta(entry: CollectionHead): CollectionSide['meta'] {
  const { options, indexes } = decodeMeta(entry);
  return { type: entry.type, options, indexes };
}

/** One collection of a snapshot as a diff side; its parts load lazily from git. */
export function snapshotSide(snap: SnapshotRef, entry: CollectionEntry): CollectionSide {
  const source = partsSource(snap, entry.name);
  return {
    name: entry.name,
    meta: sideMeta(entry),
    parts: partBlobs(snap, entry).map((p) => new SnapshotPart(source, p.file, p.oid, p.documents)),
  };
}

/**
 * Every collection of a snapshot (or those named) as diff sides. A commit without a snapshot
 * (the `dbsnap init` commit) is an empty one: everything in the other side is new.
 */
export async function snapshotSides(snap: SnapshotRef, only?: string[]): Promise<CollectionSide[]> {
  if (!hasManifest(snap)) return [];
  const manifest = await readManifest(snap);
  const out: CollectionSide[] = [];
  for (const name of Object.keys(manifest.collections)) {
    if (only && !only.includes(name)) continue;
    out.push(snapshotSide(snap, await readCollectionEntry(snap, name)));
  }
  return out;
}

/**
 * All of a collection's documents as one part that is never read: the side of a collection that
 * exists in one snapshot only, for a diff that keeps no documents (limit 0). Such a diff counts
 * a one-sided part by its `count` and never loads it.
 */
class CountedPart implements PartRef {
  readonly name = '';
  readonly blobId = '';
  constructor(readonly count: number) {}

  load(): Promise<Document[]> {
    return Promise.reject(new InternalError('a counted part has no documents to load: it serves diffs with limit 0 only.'));
  }
}

/**
 * Two snapshots as the names of their collections and each collection's pair of sides, for
 * diffEachCollection. A collection whose directory tree is the same in both is unchanged without
 * reading anything; otherwise each side lists only that collection's part files. So snapshots
 * opened with `{ parts: false }` suffice, and memory follows one collection.
 *
 * With `counts` (for a diff with limit 0, which keeps no documents), a collection in one
 * snapshot only is read from its collection.json's head alone: neither its part list nor its
 * parts tree (a first commit's summary lists no part at all).
 */
export async function snapshotPairSides(
  a: SnapshotRef | null,
  b: SnapshotRef,
  only?: string[],
  opts: { counts?: boolean } = {},
): Promise<{ names: string[]; sidesOf: SidesOf }> {
  const [ma, mb] = await Promise.all([a && hasManifest(a) ? readManifest(a) : null, hasManifest(b) ? readManifest(b) : null]);
  const names = [...new Set([...Object.keys(ma?.collections ?? {}), ...Object.keys(mb?.collections ?? {})])].filter(
    (n) => !only || only.includes(n),
  );
  const sideIn = async (s: SnapshotRef | null, m: Manifest | null, name: string): Promise<CollectionSide | null> => {
    if (!s || !m?.collections[name]) return null;
    const one = await withParts(s, name);
    return snapshotSide(one, await readCollectionEntry(one, name));
  };
  const countedIn = async (s: SnapshotRef, name: string): Promise<CollectionSide> => {
    const head = await readCollectionHead(s, name);
    return { name, meta: sideMeta(head), parts: head.documents > 0 ? [new CountedPart(head.documents)] : [] };
  };
  const sidesOf: SidesOf = async (name) => {
    const inA = Boolean(a && ma?.collections[name]);
    const inB = Boolean(mb?.collections[name]);
    if (opts.counts && inA !== inB) return inA ? [await countedIn(a!, name), null] : [null, await countedIn(b, name)];
    const treeA = inA ? await collectionTreeOf(a!, name) : null;
    const treeB = inB ? await collectionTreeOf(b, name) : null;
    if (treeA !== null && treeA === treeB) {
      // Same collection.json and parts: nothing to compare.
      const meta = { type: mb!.collections[name]!.type, options: {}, indexes: [] };
      return [{ name, meta, parts: [] }, { name, meta, parts: [] }];
    }
    if (inA && inB) {
      const differing = await differingSides(a!, b, name);
      if (differing) return differing;
    }
    return [await sideIn(a, ma, name), await sideIn(b, mb, name)];
  };
  return { names, sidesOf };
}

/** One side's collection.json and parts tree, for differingSides. */
interface RawSide {
  snap: SnapshotRef;
  head: CollectionHead;
  tree: TreeIndex;
  /** Per listed part, in list order: its entry in this side's tree, in the other's (-1: none), its count. */
  own: number[];
  other: number[];
  documents: number[];
  sizes: number[];
  /** Which entries of this side's tree collection.json lists. */
  listed: Uint8Array;
}

/**
 * Both sides of a collection that both snapshots hold, with only the parts that differ. A part of
 * the same name and blob id on both sides (listed on both) holds the same documents on both, and
 * the diff engine skips such a pair unread anyway; leaving it out is the same diff. Read from
 * collection.json's bytes and the raw parts trees, so no object or string is made per unchanged
 * part: a collection of millions of documents lists ~100,000 parts on each side, and a commit's
 * summary sees a few of them changed. Null when a collection.json is not laid out as dbsnap
 * writes it (the caller then lists both sides whole).
 * @throws CorruptSnapshotError when collection.json lists a part its parts tree lacks.
 */
async function differingSides(a: SnapshotRef, b: SnapshotRef, name: string): Promise<[CollectionSide, CollectionSide] | null> {
  const open = async (s: SnapshotRef): Promise<{ bytes: Buffer; head: CollectionHead; tree: TreeIndex } | null> => {
    const bytes = await readCollectionBytes(s, name);
    if (!bytes) return null;
    const head = collectionHeadOf(bytes);
    if (!head) return null;
    const treeOid = await partsTreeOf(s, name);
    const tree = new TreeIndex(treeOid ? (await s.repo.readObject(treeOid, 'tree')).content : Buffer.alloc(0), treeOid ?? '');
    return { bytes, head, tree };
  };
  const [oa, ob] = await Promise.all([open(a), open(b)]);
  if (!oa || !ob) return null;
  const scan = (s: SnapshotRef, mine: { bytes: Buffer; head: CollectionHead; tree: TreeIndex }, theirs: TreeIndex): RawSide | null => {
    const side: RawSide = { snap: s, head: mine.head, tree: mine.tree, own: [], other: [], documents: [], sizes: [], listed: new Uint8Array(mine.tree.size) };
    let missing: string | undefined;
    const ok = scanPartList(mine.bytes, (file, documents, size) => {
      const part = file.startsWith('parts/') ? file.slice(6) : '';
      const i = part ? mine.tree.find(part) : -1;
      if (i < 0) {
        missing ??= file;
        return;
      }
      side.own.push(i);
      side.other.push(theirs.find(part));
      side.documents.push(documents);
      side.sizes.push(size);
      side.listed[i] = 1;
    });
    if (!ok) return null;
    if (missing !== undefined) throw missingPart(s, `${collectionDir(name)}/${missing}`);
    return side;
  };
  const sa = scan(a, oa, ob.tree);
  const sb = scan(b, ob, oa.tree);
  if (!sa || !sb) return null;
  const sideOf = (mine: RawSide, theirs: RawSide): CollectionSide => {
    const source = partsSource(mine.snap, name);
    const parts: PartRef[] = [];
    for (let k = 0; k < mine.own.length; k++) {
      const i = mine.own[k]!;
      const j = mine.other[k]!;
      if (j >= 0 && theirs.listed[j] === 1 && mine.tree.sameOid(i, theirs.tree, j)) continue;
      parts.push(new SnapshotPart(source, `parts/${mine.tree.name(i)}`, mine.tree.oid(i), mine.documents[k]!, mine.sizes[k]!));
    }
    return { name, meta: sideMeta(mine.head), parts };
  };
  return [sideOf(sa, sb), sideOf(sb, sa)];
}

export interface LiveSideOptions {
  config: RepositoryConfig;
  /** The rewrite commit applies (field encryption), so encrypted values compare equal. */
  transform?: (doc: Uint8Array) => Document | Uint8Array;
  /** Compare against this snapshot: parts identical to its parts are not kept in memory. */
  against?: SnapshotRef | null;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

/**
 * One collection of the live database as a diff side, encoded as commit would. A part's text is
 * kept only when the snapshot has no identical part of that name, so memory follows the size of
 * the change, not of the collection.
 */
export async function liveSide(conn: Connection, info: CollectionInfo, opts: LiveSideOptions): Promise<CollectionSide> {
  const { config, against } = opts;
  const meta = await liveMeta(conn, info);
  if (info.type === 'view') return { name: info.name, meta, parts: [] };
  const dir = collectionDir(info.name);
  const prefix = `${dir}/parts/`;
  const parts: PartRef[] = [];
  let inSnapshot: PartsSource | undefined;
  const total = opts.onProgress ? await estimatedCount(conn, info.name) : 0;
  opts.onProgress?.({ phase: 'read', collection: info.name, done: 0, total });
  const encoded = await encodeCollection(
    readRawDocuments(conn, info.name, { signal: opts.signal }),
    {
      partBits: config.partBits,
      maxPartBytes: config.maxPartBytes,
      sortKeys: config.sortKeys,
      transform: opts.transform,
      onDocument: (n) => {
        if (n % 1000 === 0) opts.onProgress?.({ phase: 'read', collection: info.name, done: n, total: Math.max(total, n) });
      },
    },
    (part) => {
      const blobId = SnapshotRepository.hashBlob(part.data);
      const path = `${prefix}${part.name}`;
      if (against && against.files.get(path) === blobId) {
        // Identical to the snapshot's part: read it from there if the diff ever needs it.
        parts.push(new SnapshotPart((inSnapshot ??= partsSource(against, info.name)), `parts/${part.name}`, blobId, part.documents));
        return;
      }
      const text = part.text;
      const source = `${path} (live ${conn.dbName})`;
      parts.push({
        name: part.name,
        blobId,
        count: part.documents,
        load: async () => readPartFile(text, source),
        loadEntries: async () => partEntries(text, source) ?? readPartFile(text, source).map(asEntry),
      });
    },
  );
  opts.signal?.throwIfAborted();
  opts.onProgress?.({ phase: 'read', collection: info.name, done: encoded.documents, total: encoded.documents });
  return { name: info.name, meta, parts };
}

/** A live collection's type, options and indexes, typed as the snapshot stores them. */
async function liveMeta(conn: Connection, info: CollectionInfo): Promise<CollectionSide['meta']> {
  const indexes = info.type === 'view' ? [] : await listIndexes(conn, info.name);
  // Round-trip through canonical Extended JSON, as the snapshot stores them, so types compare alike.
  const asStored = (d: Document) => EJSON.deserialize(EJSON.serialize(d, { relaxed: false }), { relaxed: false }) as Document;
  return { type: info.type, options: asStored(info.options), indexes: indexes.map(asStored) };
}

export interface LiveSidesOptions {
  config: RepositoryConfig;
  /** Key material for sensitive fields (so encrypted values compare equal to the snapshot's). */
  key?: KeyMaterial;
  /** Compare against this snapshot: its unchanged parts are not kept in memory. */
  against?: SnapshotRef | null;
  only?: string[];
  /** dbHash allowed (see CommitOptions.useServerHashes). */
  useServerHashes?: boolean;
  /** Ask a change stream what changed since the last commit's read. Default true. */
  useChangeStreams?: boolean;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

/**
 * Every collection of the live database (or those named) as diff sides, and how the unchanged
 * ones were recognised without reading them (unchanged-collections.ts).
 */
export async function liveSides(conn: Connection, opts: LiveSidesOptions): Promise<{ sides: CollectionSide[]; detection: ChangeDetection }> {
  const { config, against } = opts;
  const infos = (await listCollections(conn)).filter(
    (c) => !config.exclude.includes(c.name) && (!opts.only || opts.only.includes(c.name)),
  );
  const { key, transformFor } = buildDocumentTransform(config, opts.key, opts.only);
  const { detection, unchanged } = await unchangedCollections({
    conn,
    repoDir: against?.repo.dir ?? '',
    config,
    against: against ?? null,
    collections: infos,
    serverHashes: opts.useServerHashes,
    changeStreams: opts.useChangeStreams,
    key,
    sensitive: (n) => transformFor(n) !== undefined,
  });

  const out: CollectionSide[] = [];
  for (const info of infos) {
    if (against && unchanged.has(info.name)) {
      // Unchanged since the snapshot: its parts stand for the live data.
      const side = snapshotSide(against, await readCollectionEntry(against, info.name));
      out.push({ ...side, meta: await liveMeta(conn, info) });
      continue;
    }
    out.push(await liveSide(conn, info, { config, transform: transformFor(info.name), against, onProgress: opts.onProgress, signal: opts.signal }));
  }
  return { sides: out, detection };
}
