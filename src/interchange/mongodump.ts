/**
 * mongodump's per-collection files: file names (collection names percent-escaped as Go's
 * url.PathEscape does, long ones cut and suffixed with a hash) and `<coll>.metadata.json`
 * (`{"options": {...}, "indexes": [...], "uuid": "...", "collectionName": "...", "type": "..."}`,
 * canonical Extended JSON). Pure.
 */
import { BSON, type Document } from 'bson';
import { serializeDocument } from '../canonical/bson-serializer.js';
import type { CollectionSpec } from '../core/snapshot-writer.js';
import { sha1Base64Url } from '../crypto/hash.js';
import { FormatError } from '../errors/index.js';
import { documentValue } from './ejson-read.js';
import { JsonObject, parseJsonText } from './json-text.js';

/** What a metadata.json says about its collection. */
export interface DumpMetadata {
  options: Document;
  indexes: Document[];
  type?: CollectionSpec['type'];
  collectionName?: string;
  uuid?: string;
}

/**
 * A typed document as the Node driver hands it to dbsnap commit (Int32/Double/Int64 promoted to
 * numbers), so an imported collection's options and indexes are recorded exactly as a live commit
 * of the same collection records them.
 */
export function asDriverDocument(doc: Map<string, unknown>): Document {
  return BSON.deserialize(serializeDocument(doc));
}

/** Parses a metadata.json text; throws the parser's errors (JsonSyntaxError, EjsonValueError). */
export function parseMetadata(text: string): DumpMetadata {
  const json = parseJsonText(text);
  if (!(json instanceof JsonObject)) throw new FormatError('metadata.json is not a JSON object');
  const doc = documentValue(json);
  const options = doc.get('options');
  const indexes = doc.get('indexes');
  const type = doc.get('type');
  const name = doc.get('collectionName') ?? doc.get('collectionname');
  const uuid = doc.get('uuid');
  const optionsDoc = options instanceof Map ? asDriverDocument(options as Map<string, unknown>) : {};
  const out: DumpMetadata = {
    options: optionsDoc,
    indexes: Array.isArray(indexes) ? indexes.filter((i): i is Map<string, unknown> => i instanceof Map).map(asDriverDocument) : [],
  };
  if (type === 'view' || type === 'timeseries' || type === 'collection') out.type = type;
  else if (optionsDoc.viewOn !== undefined) out.type = 'view';
  if (typeof name === 'string') out.collectionName = name;
  if (typeof uuid === 'string') out.uuid = uuid;
  return out;
}

/** metadata.json text for a collection, in the layout current mongodump writes. */
export function metadataJson(entry: { name: string; type: string; options: Record<string, unknown>; indexes: Record<string, unknown>[] }): string {
  return JSON.stringify({ options: entry.options, indexes: entry.indexes, collectionName: entry.name, type: entry.type });
}

// Go's url.PathEscape keeps these bytes as they are (RFC 3986 unreserved, plus what a path segment allows).
const PATH_SAFE = /[A-Za-z0-9\-_.~$&+:=@]/;

/** A collection name as mongodump names its files (`cafés` -> `caf%C3%A9s`). */
export function escapeCollectionName(name: string): string {
  let out = '';
  for (const ch of name) {
    if (ch.length === 1 && PATH_SAFE.test(ch)) out += ch;
    else for (const byte of Buffer.from(ch, 'utf8')) out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The inverse of {@link escapeCollectionName} (Go's url.PathUnescape: `+` stays `+`). */
export function unescapeCollectionName(file: string): string {
  try {
    return decodeURIComponent(file);
  } catch {
    return file;
  }
}

/** Longest file name most file systems accept, in bytes. */
const MAX_FILE_NAME = 255;

/**
 * The base file name (without extension) for a collection's files. A name too long for the file
 * system is cut and suffixed with `%24` and a hash of the full name, as mongodump does; the full
 * name is in metadata.json's `collectionName`, where mongorestore and dbsnap import read it.
 */
export function dumpFileBase(name: string, longestSuffix = '.metadata.json.gz'): string {
  const escaped = escapeCollectionName(name);
  if (escaped.length + longestSuffix.length <= MAX_FILE_NAME) return escaped;
  const hash = `%24${sha1Base64Url(name)}`;
  let cut = escaped.slice(0, MAX_FILE_NAME - longestSuffix.length - hash.length);
  cut = cut.replace(/%[0-9A-F]?$/, '');
  return cut + hash;
}
