/**
 * The one snapshot integrity checker (docs/FORMAT.md is what it checks against): a collection's
 * entry against the manifest, its parts' bytes, documents, `_id` order and hashes against the
 * entry. Problems are yielded as data; verify collects them all, restore stops at the first.
 */
import { ENCRYPTED_MARKER_FIELD } from '../crypto/field-cipher.js';
import type { Document } from 'bson';
import { compareBsonValues } from '../canonical/bson-order.js';
import { readCanonicalPart, type CanonicalPart } from '../canonical/canonical-part.js';
import { documentId } from '../canonical/document-id.js';
import { serializeDocument } from '../canonical/bson-serializer.js';
import { readPartFile } from '../canonical/document-reader.js';
import { partFileText, writeDocument } from '../canonical/document-writer.js';
import { collectionDir, COLLECTIONS_DIR, MANIFEST_FILE, type CollectionEntry, type Manifest, type ManifestCollection } from '../canonical/format.js';
import { createSha256, sha256Hex } from '../crypto/hash.js';
import { CorruptSnapshotError, DbsnapError } from '../errors/index.js';
import { SnapshotRepository } from '../store/index.js';
import { decodeMeta, withParts, type SnapshotRef } from './snapshot.js';

export type ProblemKind =
  /** A git object is missing, damaged, or does not hash to its id. */
  | 'git-object'
  /** A file the manifest or collection.json lists is not in the tree. */
  | 'missing-file'
  /** A file in a collection directory that nothing lists. */
  | 'unlisted-file'
  /** A file does not parse (JSON, Extended JSON types, metadata shape). */
  | 'parse'
  /** Part text is not what dbsnap writes for the documents it holds. */
  | 'format'
  /** Documents not in strictly increasing `_id` order, or a duplicate or missing `_id`. */
  | 'order'
  /** A document or part count differs from collection.json or manifest.json. */
  | 'count'
  /** A sha256 or byte size differs from collection.json or manifest.json. */
  | 'hash'
  /** The database differs from the snapshot. */
  | 'live'
  /** A declared relation has references that find no target. */
  | 'relation';

export interface Problem {
  kind: ProblemKind;
  collection?: string;
  /** Path inside the snapshot tree. */
  file?: string;
  message: string;
}

/** A part that was read (and, unless `parse: false`, decoded) while checking. */
export interface CheckedPart {
  index: number;
  /** Path inside the snapshot tree. */
  file: string;
  bytes: number;
  /**
   * The documents, or null when they were not decoded (`parse: false`), do not parse, or were
   * not needed: a `canonical` check of a part without encrypted values reads only their `_id`s.
   */
  docs: Document[] | null;
  /** With the `bson` option: the documents as BSON, read straight from canonical text (then `docs` is null). */
  bson?: CanonicalPart;
  /** Documents decoded, or the count collection.json gives when not decoded. */
  documents: number;
  /**
   * The text mentions `$dbsnapEncrypted`: the part may hold encrypted values (each is
   * self-describing), whatever the snapshot's config declares. Parse it to be sure.
   */
  encrypted: boolean;
}

const ENCRYPTED_MARKER_TEXT = Buffer.from(`"${ENCRYPTED_MARKER_FIELD}"`);
function mentionsEncryption(buf: Buffer): boolean {
  return buf.includes(ENCRYPTED_MARKER_TEXT);
}

/** What the checker reports, in reading order: a problem, or a part it has finished checking. */
export type IntegrityEvent = { problem: Problem; expected?: string; found?: string; cause?: DbsnapError } | { part: CheckedPart };

export interface PartCheckOptions {
  /** Decode every part and check its count and `_id` order (default true). */
  parse?: boolean;
  /** The bytes were checked against their hashes already (a second pass): skip hashing. */
  hashChecked?: boolean;
  /** Re-hash every git object against its id and report unreadable objects as problems. */
  gitObjects?: boolean;
  /** Check that each part's text is exactly what dbsnap writes for its documents. */
  canonical?: { sortKeys: boolean };
  /**
   * Give the documents of a canonical part without encrypted values as BSON (`CheckedPart.bson`)
   * instead of decoding them; other parts are decoded as usual.
   */
  bson?: boolean;
  signal?: AbortSignal;
}

/**
 * Reads a blob, turning damage into problems: an object that cannot be read (null bytes) or,
 * with `rehash`, bytes that do not hash to the object id (the bytes are still returned, so the
 * caller's checks can say more).
 */
export async function readBlobChecked(
  repo: SnapshotRepository,
  file: string,
  oid: string,
  opts: { collection?: string; rehash?: boolean } = {},
): Promise<{ buf: Buffer | null; problems: Problem[] }> {
  const where = opts.collection ? { collection: opts.collection } : {};
  let buf: Buffer;
  try {
    buf = await repo.readBlob(oid);
  } catch (err) {
    if (!(err instanceof CorruptSnapshotError)) throw err;
    return { buf: null, problems: [{ kind: 'git-object', file, ...where, message: `${file}: ${err.message}` }] };
  }
  if (opts.rehash) {
    const actual = SnapshotRepository.hashBlob(buf);
    if (actual !== oid) {
      const message = `${file}: git object ${oid} does not hash to its id (its content hashes to ${actual}); the object was altered on disk.`;
      return { buf, problems: [{ kind: 'git-object', file, ...where, message }] };
    }
  }
  return { buf, problems: [] };
}

/** Throws CorruptSnapshotError unless `v` has the shape of a collection.json. */
export function checkEntryShape(v: unknown, name: string): CollectionEntry {
  const e = v as CollectionEntry;
  const ok =
    e &&
    typeof e === 'object' &&
    typeof e.name === 'string' &&
    typeof e.documents === 'number' &&
    typeof e.sha256 === 'string' &&
    Array.isArray(e.parts) &&
    Array.isArray(e.indexes) &&
    typeof e.options === 'object' &&
    e.parts.every((p) => p && typeof p.file === 'string' && typeof p.documents === 'number' && typeof p.sha256 === 'string');
  if (!ok) throw new CorruptSnapshotError(`not a collection entry for "${name}" (name, documents, sha256, options, indexes, parts expected).`);
  return e;
}

/**
 * Checks the manifest against itself and the tree: its total equals the sum of its collections'
 * documents, and every file under collections/ belongs to a collection it lists (a directory it
 * does not list means the tree was edited, or the manifest was). One problem per stray file.
 */
export function checkManifestTotals(manifest: Manifest, files: Iterable<string>): Problem[] {
  const problems: Problem[] = [];
  const names = Object.keys(manifest.collections);
  const sum = names.reduce((n, name) => n + manifest.collections[name]!.documents, 0);
  if (manifest.documents !== sum) {
    problems.push({ kind: 'count', file: MANIFEST_FILE, message: `${MANIFEST_FILE} says ${manifest.documents} documents in all, its collections add up to ${sum}.` });
  }
  const dirs = new Set(names.map(collectionDir));
  for (const p of [...files].filter((f) => f.startsWith(`${COLLECTIONS_DIR}/`)).sort()) {
    if (dirs.has(p.split('/').slice(0, 2).join('/'))) continue;
    problems.push({ kind: 'unlisted-file', file: p, message: `${p} is in the tree but its collection is not listed in ${MANIFEST_FILE}.` });
  }
  return problems;
}

/**
 * Checks a parsed collection.json: its shape, that it agrees with the manifest's row for the
 * collection, and that its options and indexes decode. The entry is null when the shape is wrong.
 */
export function checkCollectionEntry(value: unknown, name: string, inManifest: ManifestCollection): { entry: CollectionEntry | null; problems: Problem[] } {
  const entryPath = `${collectionDir(name)}/collection.json`;
  let entry: CollectionEntry;
  try {
    entry = checkEntryShape(value, name);
  } catch (err) {
    if (!(err instanceof DbsnapError)) throw err;
    return { entry: null, problems: [{ kind: 'parse', file: entryPath, collection: name, message: `${entryPath}: ${err.message}` }] };
  }
  const problems: Problem[] = [];
  const mismatch = (kind: ProblemKind, what: string, inEntry: unknown, expected: unknown) => {
    if (inEntry !== expected) {
      problems.push({ kind, collection: name, file: entryPath, message: `${entryPath} says ${what} ${inEntry}, ${MANIFEST_FILE} says ${expected}.` });
    }
  };
  mismatch('parse', 'name', entry.name, name);
  mismatch('parse', 'type', entry.type, inManifest.type);
  mismatch('count', 'documents', entry.documents, inManifest.documents);
  mismatch('count', 'parts', entry.parts.length, inManifest.parts);
  mismatch('hash', 'sha256', entry.sha256, inManifest.sha256);
  try {
    decodeMeta(entry);
  } catch (err) {
    problems.push({ kind: 'parse', collection: name, file: entryPath, message: `${entryPath}: options or indexes are not valid Extended JSON: ${(err as Error).message}` });
  }
  return { entry, problems };
}

/**
 * Checks a collection's parts one at a time against its collection.json: each part is in the
 * tree, its bytes hash to the listed sha256 and size, it parses, holds the listed number of
 * documents, every document has an `_id` and the `_id`s strictly increase across parts; then the
 * parts together hash to the entry's sha256 and hold its document count. The next part is read
 * (and inflated on the thread pool) while this one is checked.
 */
export async function* checkParts(snap: SnapshotRef, entry: CollectionEntry, opts: PartCheckOptions = {}): AsyncGenerator<IntegrityEvent> {
  const name = entry.name;
  const dir = collectionDir(name);
  const entryPath = `${dir}/collection.json`;
  const parse = opts.parse !== false;
  // This collection's part files (listed now if `snap` was opened without them).
  const { files } = await withParts(snap, name);
  const read = (i: number) => {
    const part = entry.parts[i];
    if (!part) return null;
    const file = `${dir}/${part.file}`;
    const oid = files.get(file);
    if (!oid) return Promise.resolve({ file, missing: true as const });
    const p = readBlobChecked(snap.repo, file, oid, { collection: name, rehash: opts.gitObjects }).then((r) => ({ file, missing: false as const, ...r }));
    p.catch(() => {}); // a failure surfaces where it is awaited
    return p;
  };
  const whole = opts.hashChecked ? null : createSha256();
  let wholeKnown = true;
  let documents = 0;
  let last: { id: unknown; where: string } | undefined;
  let next = read(0);
  for (const [i, part] of entry.parts.entries()) {
    opts.signal?.throwIfAborted();
    const got = (await next)!;
    next = read(i + 1);
    const file = got.file;
    if (got.missing) {
      yield { problem: { kind: 'missing-file', collection: name, file, message: `${file} is listed in ${entryPath} but missing from the tree.` } };
      wholeKnown = false;
      last = undefined;
      continue;
    }
    for (const problem of got.problems) yield { problem };
    const buf = got.buf;
    if (!buf) {
      wholeKnown = false;
      last = undefined;
      continue;
    }
    if (!opts.hashChecked) {
      whole!.update(buf);
      const sha = sha256Hex(buf);
      if (sha !== part.sha256 || buf.length !== part.bytes) {
        yield {
          problem: {
            kind: 'hash',
            collection: name,
            file,
            message: `${file} does not match ${entryPath} (sha256 ${sha.slice(0, 12)}..., ${buf.length} bytes; expected ${part.sha256.slice(0, 12)}..., ${part.bytes} bytes). The part was changed by hand.`,
          },
          expected: part.sha256,
          found: sha,
        };
      }
    }
    if (!parse) {
      documents += part.documents;
      yield { part: { index: i, file, bytes: buf.length, docs: null, documents: part.documents, encrypted: mentionsEncryption(buf) } };
      continue;
    }
    const encrypted = mentionsEncryption(buf);
    // Verify asks only whether the text is canonical and its _ids ascend, restore for BSON: the
    // exact one-pass reader of canonical bytes answers both for ordinary parts; the reader and
    // writer run when it cannot tell (and say what is wrong), or when the documents are wanted.
    const fast = (opts.canonical || opts.bson) && !encrypted ? readCanonicalPart(buf, { bson: opts.bson === true }) : null;
    let docs: Document[] | null = null;
    let text = '';
    // The _ids to compare in order, from the part's first; `count` documents in all.
    let ids: unknown[];
    let count: number;
    if (fast) {
      count = fast.documents;
      // Without a list the reader found them strictly ascending: only the first is compared, with the part before.
      ids = fast.ids ?? (count > 0 ? [fast.firstId] : []);
    } else {
      text = buf.toString('utf8');
      try {
        docs = readPartFile(text, file);
      } catch (err) {
        if (!(err instanceof DbsnapError)) throw err;
        // The reader's own error (EFORMAT, naming line, document and field) travels with the problem.
        yield { problem: { kind: 'parse', collection: name, file, message: err.message }, cause: err };
        last = undefined;
        yield { part: { index: i, file, bytes: buf.length, docs: null, documents: 0, encrypted } };
        continue;
      }
      ids = docs.map(documentId);
      count = ids.length;
    }
    documents += count;
    if (count !== part.documents) {
      yield { problem: { kind: 'count', collection: name, file, message: `${file} holds ${count} documents, ${entryPath} says ${part.documents}.` } };
    }
    for (const [j, id] of ids.entries()) {
      const where = `${file} document ${j}`;
      if (id === undefined) {
        yield { problem: { kind: 'order', collection: name, file, message: `${where} has no _id.` } };
        continue;
      }
      if (last && compareBsonValues(last.id, id) >= 0) {
        const dup = compareBsonValues(last.id, id) === 0;
        const message = dup
          ? `${where} repeats the _id of ${last.where}: duplicate _id.`
          : `${where} has a smaller _id than ${last.where}: documents are not in _id order.`;
        yield { problem: { kind: 'order', collection: name, file, message } };
      }
      last = { id, where };
    }
    if (fast && !fast.ids && count > 1) last = { id: fast.lastId, where: `${file} document ${count - 1}` };
    if (opts.canonical && docs && !isCanonical(docs, text, opts.canonical.sortKeys)) {
      yield {
        problem: {
          kind: 'format',
          collection: name,
          file,
          message: `${file} is not in dbsnap's canonical form (its documents would be written differently); it was edited by hand.`,
        },
      };
    }
    yield { part: { index: i, file, bytes: buf.length, docs, ...(fast && opts.bson ? { bson: fast } : {}), documents: count, encrypted } };
  }
  if (!wholeKnown) return;
  if (whole) {
    const sha = whole.digestHex();
    if (sha !== entry.sha256) {
      yield {
        problem: { kind: 'hash', collection: name, file: entryPath, message: `${name}: its parts hash to ${sha.slice(0, 12)}..., ${entryPath} says ${entry.sha256.slice(0, 12)}...` },
        expected: entry.sha256,
        found: sha,
      };
    }
  }
  if (documents !== entry.documents) {
    yield { problem: { kind: 'count', collection: name, file: entryPath, message: `${name}: its parts hold ${documents} documents, ${entryPath} says ${entry.documents}.` } };
  }
}

/**
 * True when writing the documents again gives exactly `text`. A collection kept from an older
 * commit may have been written before sortKeys was switched, so either key order is accepted.
 */
function isCanonical(docs: Document[], text: string, sortKeys: boolean): boolean {
  const raws = docs.map((d) => serializeDocument(d));
  const again = (sort: boolean) => partFileText(raws.map((r) => writeDocument(r, { sortKeys: sort }).text));
  try {
    return again(sortKeys) === text || again(!sortKeys) === text;
  } catch {
    return false;
  }
}
