/**
 * The snapshot repository's files as data (docs/FORMAT.md is the public contract; bump
 * FORMAT_VERSION when a reader of an older version could misread what a newer writer wrote).
 *
 *   dbsnap.json                         repository config (RepositoryConfig)
 *   .gitattributes                      line endings and diff hints for the data files
 *   manifest.json                       what the snapshot holds (Manifest)
 *   collections/<dir>/collection.json   one collection's type, options, indexes and parts (CollectionEntry)
 *   collections/<dir>/parts/<name>.json documents, `_id`-ordered, as a JSON array
 *
 * Everything in the tree is a function of the data and the config alone, so the same data gives
 * the same tree hash anywhere; when, from where and by which server lives in the commit message.
 */
import { parseSensitiveFields } from '../crypto/paths.js';
import { withRoom } from './byte-buffer.js';
import { validateConfig } from './config-schema.js';
import { CorruptSnapshotError, InvalidArgumentError, UnsupportedFormatError } from '../errors/index.js';
import type { CollectionType } from '../mongo/reader.js';

/** `collection`, `view` or `timeseries`: the kinds of collection a server lists (one definition, in src/mongo). */
export type { CollectionType } from '../mongo/reader.js';

export const FORMAT_VERSION = 1;
export const CONFIG_FILE = 'dbsnap.json';
export const MANIFEST_FILE = 'manifest.json';
export const ATTRIBUTES_FILE = '.gitattributes';
export const COLLECTIONS_DIR = 'collections';

export interface Relation {
  /** `orders.userId`, `orders.items.productId` (array elements are descended into). */
  from: string;
  /** `users._id`, `accounts.account_id`. */
  to: string;
}

/** dbsnap.json (its schema: canonical/config-schema.ts, published as docs/dbsnap.schema.json). */
export interface RepositoryConfig {
  /** Where an editor finds the JSON Schema; ignored by dbsnap. */
  $schema?: string;
  format: 'dbsnap';
  formatVersion: number;
  /** Write document keys sorted (never `_id` values, index keys, validators or pipelines). */
  sortKeys: boolean;
  /** A part holds 2^partBits documents on average. */
  partBits: number;
  /** Parts are cut early at this size so every file stays diffable on GitHub (~500 KB). */
  maxPartBytes: number;
  /** Collections never snapshotted. */
  exclude: string[];
  /** Declared references checked by `verify` and reported by partial restores. */
  relations: Relation[];
  /** Sensitive fields per collection (`{ "users": ["email", "address.phone"] }`), stored encrypted. */
  sensitive: Record<string, string[]>;
  /** Key id of the key sensitive fields are encrypted with (never the key itself). */
  keyId?: string;
  /** Host names restore refuses without --force (production clusters). */
  protectedHosts: string[];
  /**
   * May commit/status/diff/watch ask the server for dbHash (a shared lock that blocks writes while
   * it runs)? Absent: only when the server is on this machine. --server-hashes overrides it.
   */
  serverHashes?: boolean;
}

export function defaultConfig(): RepositoryConfig {
  return {
    format: 'dbsnap',
    formatVersion: FORMAT_VERSION,
    sortKeys: false,
    partBits: 5,
    maxPartBytes: 256 * 1024,
    exclude: [],
    relations: [],
    sensitive: {},
    protectedHosts: [],
  };
}

/**
 * Validates a parsed dbsnap.json against its schema (unknown keys, wrong types and a malformed
 * keyId are refused with the key's path and the expected shape), filling defaults for keys it lacks.
 */
export function parseConfig(value: unknown, source = CONFIG_FILE): RepositoryConfig {
  if (!value || typeof value !== 'object' || (value as { format?: unknown }).format !== 'dbsnap') {
    throw new InvalidArgumentError(`${source} is not a dbsnap config (missing "format": "dbsnap").`);
  }
  const v = value as Partial<RepositoryConfig>;
  if (typeof v.formatVersion === 'number' && v.formatVersion > FORMAT_VERSION) {
    throw new UnsupportedFormatError(
      `${source} is format version ${v.formatVersion}, newer than this dbsnap understands (${FORMAT_VERSION}); upgrade dbsnap.`,
    );
  }
  const cfg = validateConfig(value, source);
  // Field paths have rules of their own (no empty segments, no $ operators, not under _id).
  parseSensitiveFields(cfg.sensitive);
  return cfg;
}

export interface ManifestCollection {
  type: CollectionType;
  documents: number;
  parts: number;
  /** SHA-256 of the collection's part files concatenated in order (hex). */
  sha256: string;
}

export interface Manifest {
  format: 'dbsnap';
  formatVersion: number;
  documents: number;
  collections: Record<string, ManifestCollection>;
}

export interface PartEntry {
  /** Path relative to the collection directory: `parts/first.json`. */
  file: string;
  documents: number;
  bytes: number;
  sha256: string;
}

/** A list of part entries as collectionEntryBytes takes it: an array, or a compact list read in order. */
export interface PartEntries {
  readonly length: number;
  [Symbol.iterator](): Iterator<PartEntry>;
}

/** A collection.json entry about to be written: its parts may be a compact list (PartEntries). */
export type WritableCollectionEntry = Omit<CollectionEntry, 'parts'> & { parts: PartEntries };

export interface CollectionEntry {
  name: string;
  type: CollectionType;
  /** Create options exactly as the server reported them, as canonical Extended JSON. */
  options: Record<string, unknown>;
  /** Index specs exactly as listIndexes reported them, as canonical Extended JSON. */
  indexes: Record<string, unknown>[];
  documents: number;
  sha256: string;
  /** MD5 of the documents' BSON bytes in `_id` order (what `dbHash` reports); absent for encrypted collections. */
  bsonMd5?: string;
  parts: PartEntry[];
}

export function checkManifest(value: unknown, source: string): Manifest {
  const m = value as Manifest;
  if (!m || m.format !== 'dbsnap' || typeof m.collections !== 'object') {
    throw new CorruptSnapshotError(`${source} is not a dbsnap manifest.`);
  }
  if (m.formatVersion > FORMAT_VERSION) {
    throw new UnsupportedFormatError(
      `${source} is format version ${m.formatVersion}, newer than this dbsnap understands (${FORMAT_VERSION}); upgrade dbsnap.`,
    );
  }
  return m;
}

/**
 * Directory name of a collection. Collection names may hold dots, spaces and any unicode; only
 * characters that are unsafe in a path on some system (and `%` itself) are percent-encoded, so
 * the mapping is reversible and readable.
 */
export function collectionDir(name: string): string {
  let out = name.replace(/[%/\\:*?"<>|\x00-\x1f\x7f]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0'));
  if (out.startsWith('.')) out = '%2E' + out.slice(1);
  return `${COLLECTIONS_DIR}/${out}`;
}

export const GITATTRIBUTES = [
  '# dbsnap data files: always LF, always diffed as text (GitHub ignores custom diff drivers).',
  '*.json text eol=lf diff',
  '# A pull request shows the part files that hold changed documents; dbsnap\'s own metadata',
  '# (counts, hashes, part lists) is marked generated, so GitHub collapses it.',
  'collections/** linguist-generated=false',
  'manifest.json linguist-generated=true',
  'collections/*/collection.json linguist-generated=true',
  '',
].join('\n');

/**
 * Earlier versions of GITATTRIBUTES. A commit replaces one of these verbatim (never a file the
 * user edited), so existing repositories get quiet pull requests from their next snapshot on.
 */
export const PREVIOUS_GITATTRIBUTES = [
  ['# dbsnap data files: always LF, always diffed as text (GitHub ignores custom diff drivers).', '*.json text eol=lf diff', 'collections/** linguist-generated=false', ''].join('\n'),
];

/** Stable JSON for dbsnap's own metadata files: 2-space indent, trailing newline. */
export function metadataText(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

/** A collection.json entry without its part list (what collectionHeadOf reads). */
export type CollectionHead = Omit<CollectionEntry, 'parts'>;

const PARTS_KEY = Buffer.from('\n  "parts": [');

/**
 * collection.json without its part list, parsed from the bytes before the top-level `"parts"`
 * key, which dbsnap writes last (collectionEntryBytes). A collection of millions of documents
 * lists ~100,000 parts; a caller that needs its counts, options and indexes need not build an
 * object per part. No string value can hold the marker (JSON escapes newlines) and nested keys
 * are indented deeper, so the last match is the top-level key. Returns null when the bytes are
 * not laid out that way or the head lacks a field; the caller then parses the whole file.
 */
export function collectionHeadOf(bytes: Buffer): CollectionHead | null {
  const at = bytes.lastIndexOf(PARTS_KEY);
  if (at < 0) return null;
  let head: unknown;
  try {
    head = JSON.parse(`${bytes.toString('utf8', 0, at + 1)}  "parts": []\n}`);
  } catch {
    return null;
  }
  const h = head as Partial<CollectionEntry> | null;
  if (!h || typeof h !== 'object' || typeof h.name !== 'string' || typeof h.type !== 'string' || typeof h.documents !== 'number') return null;
  if (!h.options || typeof h.options !== 'object' || !Array.isArray(h.indexes)) return null;
  const { parts: _parts, ...rest } = h as CollectionEntry;
  return rest;
}

const EMPTY_PARTS = '  "parts": []\n}\n';

/** collection.json's text up to its part list (which dbsnap writes last): every line before `  "parts": [`. */
function entryHeadText(head: CollectionHead): string {
  const text = metadataText({ ...head, parts: [] });
  return text.slice(0, text.length - EMPTY_PARTS.length);
}

/**
 * collection.json's bytes: `metadataText(entry)` byte for byte, but written part by part into
 * one buffer. A collection of millions of documents lists ~100,000 parts: neither a string of
 * the whole file nor one object per part beyond `entry.parts` is built.
 */
export function collectionEntryBytes(entry: WritableCollectionEntry): Buffer {
  const { parts, ...rest } = entry;
  // `parts` last, as dbsnap writes it; anything else is written the plain way.
  if (Object.keys(entry).at(-1) !== 'parts' || parts.length === 0) return Buffer.from(metadataText({ ...entry, parts: [...parts] }), 'utf8');
  const head = entryHeadText(rest);
  let out = Buffer.allocUnsafe(head.length + parts.length * 200);
  let at = 0;
  const put = (text: string) => {
    out = withRoom(out, at, at + Buffer.byteLength(text, 'utf8'));
    at += out.write(text, at, 'utf8');
  };
  put(head);
  put('  "parts": [\n');
  let i = 0;
  for (const part of parts) {
    put(`    ${JSON.stringify(part, null, 2).replace(/\n/g, '\n    ')}${++i === parts.length ? '\n' : ',\n'}`);
  }
  put('  ]\n}\n');
  return out.subarray(0, at);
}

const ENTRY_OPEN = Buffer.from('    {\n      "file": "');
const ENTRY_DOCUMENTS = Buffer.from('",\n      "documents": ');
const ENTRY_BYTES = Buffer.from(',\n      "bytes": ');
const ENTRY_SHA256 = Buffer.from(',\n      "sha256": "');
const ENTRY_CLOSE = Buffer.from('"\n    }');
const LIST_END = Buffer.from('\n  ]\n}\n');
const EMPTY_LIST_END = Buffer.from(`\n${EMPTY_PARTS}`);

/**
 * collection.json with `head`'s fields and the part list of `stored` (a collection.json as
 * collectionEntryBytes writes it) copied as it is: for a collection whose documents are those
 * of `stored`, without parsing and writing again a list of ~100,000 parts. The bytes are those
 * collectionEntryBytes writes from `head` and `stored`'s parts; `parts` counts them. Null when
 * `stored` is not laid out that way (then parse it).
 */
export function collectionEntryWithParts(head: CollectionHead, stored: Buffer): { bytes: Buffer; parts: number } | null {
  const at = stored.lastIndexOf(PARTS_KEY);
  if (at < 0) return null;
  const empty = stored.length - at === EMPTY_LIST_END.length && stored.compare(EMPTY_LIST_END, 0, EMPTY_LIST_END.length, at) === 0;
  if (!empty && !(stored.length - at > LIST_END.length && stored.compare(LIST_END, 0, LIST_END.length, stored.length - LIST_END.length) === 0)) return null;
  let parts = 0;
  for (let p = stored.indexOf(ENTRY_OPEN, at); p >= 0; p = stored.indexOf(ENTRY_OPEN, p + ENTRY_OPEN.length)) parts++;
  if (empty !== (parts === 0)) return null;
  return { bytes: Buffer.concat([Buffer.from(entryHeadText(head), 'utf8'), stored.subarray(at + 1)]), parts };
}

/**
 * Reads collection.json's part list from its bytes without an object per part: calls `each`
 * with every part's file (`parts/<name>`), document count and size in bytes, in list order.
 * Only the layout collectionEntryBytes writes is read (keys in its order, no escapes in file
 * names); for any other returns false, possibly after some calls, and the caller parses the file
 * whole.
 */
export function scanPartList(bytes: Buffer, each: (file: string, documents: number, size: number) => void): boolean {
  const key = bytes.lastIndexOf(PARTS_KEY);
  if (key < 0) return false;
  let p = key + PARTS_KEY.length;
  const at = (literal: Buffer): boolean => {
    if (p + literal.length > bytes.length || bytes.compare(literal, 0, literal.length, p, p + literal.length) !== 0) return false;
    p += literal.length;
    return true;
  };
  const digits = (): number => {
    const start = p;
    let n = 0;
    while (p < bytes.length && bytes[p]! >= 0x30 && bytes[p]! <= 0x39 && p - start < 16) n = n * 10 + (bytes[p++]! - 0x30);
    return p === start || (bytes[start] === 0x30 && p - start > 1) ? -1 : n;
  };
  if (bytes[p] === 0x5d) return bytes.toString('latin1', p) === ']\n}\n';
  if (bytes[p++] !== 0x0a) return false;
  for (;;) {
    if (!at(ENTRY_OPEN)) return false;
    const start = p;
    while (p < bytes.length && bytes[p] !== 0x22 && bytes[p] !== 0x5c && bytes[p]! >= 0x20) p++;
    if (bytes[p] !== 0x22) return false;
    const file = bytes.toString('utf8', start, p);
    if (!at(ENTRY_DOCUMENTS)) return false;
    const documents = digits();
    if (documents < 0 || !at(ENTRY_BYTES)) return false;
    const size = digits();
    if (size < 0 || !at(ENTRY_SHA256)) return false;
    for (const stop = p + 64; p < stop; p++) {
      const c = bytes[p];
      if (c === undefined || !((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
    }
    if (!at(ENTRY_CLOSE)) return false;
    each(file, documents, size);
    if (bytes[p] === 0x2c && bytes[p + 1] === 0x0a) {
      p += 2;
      continue;
    }
    return at(LIST_END) && p === bytes.length;
  }
}
