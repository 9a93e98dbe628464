/**
 * The two kinds of "side" a diff compares: a snapshot in the repository, and a live database
 * encoded exactly as commit would encode it (so equal data gives equal part blob ids and the
 * diff engine can skip it unread).
 */
import { basename } from 'node:path';
import type { Document } from 'bson';
import { EJSON } from 'bson';
import { readPartFile } from '../canonical/document-reader.js';
import { encodeCollection } from '../canonical/encode-collection.js';
import { partEntries } from '../canonical/part-entries.js';
import { collectionDir, type RepositoryConfig } from '../canonical/format.js';
import type { CollectionSide, DocumentEntry, PartRef } from '../diff/index.js';
import type { Connection } from '../mongo/connection.js';
import { collectionHashes, listCollections, listIndexes, readRawDocuments } from '../mongo/reader.js';
import { SnapshotRepository } from '../store/index.js';
import { configDigest, fingerprint, readServerHashCache, serverHashMatches } from './hash-cache.js';
import type { ProgressCallback } from './progress.js';
import { buildDocumentTransform } from './sensitive.js';
import { decodeMeta, loadPart, partBlobs, readCollectionEntry, readManifest, type SnapshotRef } from './snapshot.js';

function asEntry(doc: Document): DocumentEntry {
  return { id: doc._id, doc: () => doc };
}

/** A part of a snapshot, read from git only when the diff needs it. */
function snapshotPart(snap: SnapshotRef, path: string, oid: string, count: number): PartRef {
  const source = `${path} (snapshot ${snap.commit.slice(0, 7)})`;
  return {
    name: basename(path),
    blobId: oid,
    count,
    load: () => loadPart(snap, path, oid),
    loadEntries: async () => {
      const text = (await snap.repo.readBlob(oid)).toString('utf8');
      return partEntries(text, source) ?? readPartFile(text, source).map(asEntry);
    },
  };
}

/** Every collection of a snapshot (or those named) as diff sides; parts load lazily from git. */
export async function snapshotSides(snap: SnapshotRef, only?: string[]): Promise<CollectionSide[]> {
  const manifest = await readManifest(snap);
  const out: CollectionSide[] = [];
  for (const name of Object.keys(manifest.collections)) {
    if (only && !only.includes(name)) continue;
    const entry = await readCollectionEntry(snap, name);
    const meta = decodeMeta(entry);
    out.push({
      name,
      meta: { type: entry.type, options: meta.options, indexes: meta.indexes },
      parts: partBlobs(snap, entry).map((p) => snapshotPart(snap, p.path, p.oid, p.documents)),
    });
  }
  return out;
}

export interface LiveSidesOptions {
  config: RepositoryConfig;
  /** Key material for sensitive fields (so encrypted values compare equal to the snapshot's). */
  key?: string;
  /** Compare against this snapshot: its unchanged parts are not kept in memory. */
  against?: SnapshotRef | null;
  only?: string[];
  /** Skip reading collections whose server hash shows them unchanged since `against`. */
  useServerHashes?: boolean;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

/**
 * The live database as diff sides. Each collection is encoded like a commit would; a part's text
 * is kept only when the snapshot has no identical part of that name, so memory follows the size
 * of the change, not of the database.
 */
export async function liveSides(conn: Connection, opts: LiveSidesOptions): Promise<CollectionSide[]> {
  const { config } = opts;
  const infos = (await listCollections(conn)).filter(
    (c) => !config.exclude.includes(c.name) && (!opts.only || opts.only.includes(c.name)),
  );
  const { transformFor } = buildDocumentTransform(config, opts.key, opts.only);
  const snapshotParts = new Map<string, Map<string, string>>();
  if (opts.against) {
    for (const [path, oid] of opts.against.files) {
      const m = /^(collections\/.+)\/parts\/([^/]+)$/.exec(path);
      if (!m) continue;
      let parts = snapshotParts.get(m[1]!);
      if (!parts) snapshotParts.set(m[1]!, (parts = new Map()));
      parts.set(m[2]!, oid);
    }
  }
  const plain = infos.filter((c) => c.type === 'collection').map((c) => c.name);
  const hashes = opts.useServerHashes !== false && opts.against ? await collectionHashes(conn, plain) : null;
  const cache = hashes ? await readServerHashCache(opts.against!.repo.dir) : {};
  const configKey = configDigest(config);

  const out: CollectionSide[] = [];
  for (const info of infos) {
    const indexes = info.type === 'view' ? [] : await listIndexes(conn, info.name);
    const meta = {
      type: info.type,
      // Round-trip through canonical Extended JSON, as the snapshot stores them, so types compare alike.
      options: EJSON.deserialize(EJSON.serialize(info.options, { relaxed: false }), { relaxed: false }) as Document,
      indexes: indexes.map((i) => EJSON.deserialize(EJSON.serialize(i, { relaxed: false }), { relaxed: false }) as Document),
    };
    const dir = collectionDir(info.name);
    const theirs = snapshotParts.get(dir) ?? new Map<string, string>();
    if (info.type === 'view') {
      out.push({ name: info.name, meta, parts: [] });
      continue;
    }
    const headFiles = opts.against
      ? [...opts.against.files].filter(([p]) => p.startsWith(`${dir}/`)).map(([path, oid]) => ({ path, oid }))
      : [];
    if (hashes && serverHashMatches(cache, info.name, hashes[info.name], configKey, fingerprint(headFiles, false))) {
      // Unchanged per the server's hash: the snapshot's own parts stand for the live data.
      const entry = await readCollectionEntry(opts.against!, info.name);
      out.push({
        name: info.name,
        meta,
        parts: partBlobs(opts.against!, entry).map((p) => snapshotPart(opts.against!, p.path, p.oid, p.documents)),
      });
      continue;
    }
    const parts: PartRef[] = [];
    opts.onProgress?.({ phase: 'read', collection: info.name, done: 0 });
    await encodeCollection(
      readRawDocuments(conn, info.name, { signal: opts.signal }),
      { partBits: config.partBits, maxPartBytes: config.maxPartBytes, sortKeys: config.sortKeys, transform: transformFor(info.name) },
      (part) => {
        const blobId = SnapshotRepository.hashBlob(part.text);
        const same = theirs.get(part.name) === blobId;
        const text = same ? null : part.text;
        const source = `${dir}/parts/${part.name} (live ${conn.dbName})`;
        if (text === null) {
          // Identical to the snapshot's part: read it from there when needed.
          parts.push(snapshotPart(opts.against!, `${dir}/parts/${part.name}`, blobId, part.documents));
        } else {
          parts.push({
            name: part.name,
            blobId,
            count: part.documents,
            load: async () => readPartFile(text, source),
            loadEntries: async () => partEntries(text, source) ?? (await readPartFile(text, source)).map(asEntry),
          });
        }
      },
    );
    out.push({ name: info.name, meta, parts });
  }
  return out;
}
