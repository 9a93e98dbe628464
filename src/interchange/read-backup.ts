/**
 * Reading a backup someone else wrote into collections of raw BSON documents: the format is
 * detected from the content (or forced), every file is parsed completely before anything is
 * written, and every problem is a {@link FormatError} naming the file and the byte offset or line.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { BSON } from 'bson';
import { serializeDocument } from '../canonical/bson-serializer.js';
import type { CollectionSpec } from '../core/snapshot-writer.js';
import { FormatError, InvalidArgumentError, UnsupportedFeatureError } from '../errors/index.js';
import { isArchive, readArchive, type ArchiveNamespace } from './archive.js';
import { BsonStreamError, splitDocuments } from './bson-stream.js';
import { documentValue, EjsonValueError } from './ejson-read.js';
import { JsonObject, JsonSyntaxError, parseJsonRecords, type JsonValue } from './json-text.js';
import { parseMetadata, unescapeCollectionName, type DumpMetadata } from './mongodump.js';
import { inferTypes, type FieldConversion } from './type-inference.js';

export type BackupFormat = 'mongodump' | 'archive' | 'ejson' | 'json';
export const BACKUP_FORMATS: readonly BackupFormat[] = ['mongodump', 'archive', 'ejson', 'json'];

/** One raw document and where it came from (for error messages). */
export interface SourceDocument {
  raw: Uint8Array;
  /** `byte offset 1234` or `line 17`. */
  at: string;
}

export interface BackupCollection {
  spec: CollectionSpec;
  /** The file the documents came from. */
  file: string;
  documents: SourceDocument[];
  /** Plain JSON: the fields whose type was inferred. */
  conversions?: FieldConversion[];
}

export interface Backup {
  format: BackupFormat;
  /** The database the backup names (mongodump), if any. */
  database?: string;
  collections: BackupCollection[];
  /** What was skipped and why (oplog, system collections ...). */
  notes: string[];
}

export interface ReadBackupOptions {
  format?: BackupFormat;
  /** Database to take from a dump holding several. */
  db?: string;
  /** Plain JSON: infer ObjectIds, dates and Int64s (default) or keep the values as JSON has them. */
  types?: 'infer' | 'keep';
  /** Collections left out (not read, not refused). */
  skip?: (name: string) => boolean;
}

const SYSTEM_DBS = new Set(['admin', 'config', 'local']);

function formatError(file: string, what: string, data: Record<string, unknown> = {}): FormatError {
  return new FormatError(`${file}: ${what}; nothing was imported.`, { file, ...data });
}

async function readMaybeGzip(file: string): Promise<Buffer> {
  const buf = await readFile(file);
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) {
    try {
      return gunzipSync(buf);
    } catch (err) {
      throw formatError(file, `corrupt gzip data (${(err as Error).message})`);
    }
  }
  return buf;
}

function stripExt(name: string): string {
  return name.replace(/\.gz$/, '').replace(/\.(json|jsonl|ndjson|bson|metadata\.json)$/, '');
}

// ---------------------------------------------------------------------------------------------
// BSON (mongodump directories, archives)

function bsonDocuments(buf: Buffer, file: string): SourceDocument[] {
  const out: SourceDocument[] = [];
  try {
    for (const { doc, offset } of splitDocuments(buf)) out.push({ raw: doc, at: `byte offset ${offset}` });
  } catch (err) {
    if (err instanceof BsonStreamError) throw formatError(file, err.message, { offset: err.offset });
    throw err;
  }
  return out;
}

function metadataOf(text: string, file: string): DumpMetadata {
  try {
    return parseMetadata(text);
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw formatError(file, `invalid JSON: ${err.message}`, { line: err.line, offset: err.offset });
    if (err instanceof EjsonValueError) throw formatError(file, `${err.message}${err.path.length ? ` (at ${err.path.join('.')})` : ''}`);
    throw formatError(file, (err as Error).message);
  }
}

function specFrom(name: string, meta: DumpMetadata | undefined): CollectionSpec {
  return { name, type: meta?.type ?? 'collection', options: meta?.options ?? {}, indexes: meta?.indexes ?? [] };
}

/** Refusals and skips shared by directory dumps and archives. */
function checkCollectionName(name: string, meta: DumpMetadata | undefined, file: string, notes: string[]): 'skip' | 'keep' {
  if (name.startsWith('system.buckets.')) {
    const ts = name.slice('system.buckets.'.length);
    throw new UnsupportedFeatureError(
      `${file}: "${ts}" is a time-series collection, dumped as its internal buckets (${name}), which dbsnap cannot unpack into measurements; ` +
        `import the rest with --exclude ${ts}, or commit it from a live server. Nothing was imported.`,
      { file, collection: ts },
    );
  }
  if (meta?.type === 'timeseries') return 'keep';
  if (name.startsWith('system.')) {
    notes.push(`skipped ${name}: system collections are not snapshotted (dbsnap commit skips them too)`);
    return 'skip';
  }
  return 'keep';
}

function pickDatabase(dbs: string[], wanted: string | undefined, where: string, notes: string[]): string {
  if (wanted) {
    if (SYSTEM_DBS.has(wanted)) {
      throw new UnsupportedFeatureError(`${where}: database "${wanted}" holds MongoDB's own users, roles, sessions or replication state, not application data; dbsnap does not import it. Nothing was imported.`, { database: wanted });
    }
    if (!dbs.includes(wanted)) throw new InvalidArgumentError(`${where} holds no database "${wanted}"; it holds: ${dbs.join(', ') || '(none)'}.`, { database: wanted });
    return wanted;
  }
  const data = dbs.filter((d) => !SYSTEM_DBS.has(d));
  for (const d of dbs.filter((x) => SYSTEM_DBS.has(x))) notes.push(`skipped database ${d}: MongoDB's own users, roles and server state, not application data`);
  if (data.length === 0) throw formatError(where, `no application database in the dump (only ${dbs.join(', ') || 'nothing'})`);
  if (data.length > 1) throw new InvalidArgumentError(`${where} holds several databases (${data.join(', ')}); pick one with --db.`, { databases: data });
  return data[0]!;
}

async function readDumpDatabase(dir: string, database: string, notes: string[], skip?: (name: string) => boolean): Promise<BackupCollection[]> {
  const names = (await readdir(dir)).sort();
  const metas = new Map<string, { meta: DumpMetadata; file: string }>();
  const datas = new Map<string, string>();
  for (const f of names) {
    const full = join(dir, f);
    if (/\.metadata\.json(\.gz)?$/.test(f)) {
      const meta = metadataOf((await readMaybeGzip(full)).toString('utf8'), full);
      const base = f.replace(/\.metadata\.json(\.gz)?$/, '');
      metas.set(meta.collectionName ?? unescapeCollectionName(base), { meta, file: full });
      if (meta.collectionName && meta.collectionName !== unescapeCollectionName(base)) datas.set(`\u0000alias:${base}`, meta.collectionName);
    }
  }
  for (const f of names) {
    if (!/\.bson(\.gz)?$/.test(f)) continue;
    const base = f.replace(/\.bson(\.gz)?$/, '');
    const name = datas.get(`\u0000alias:${base}`) ?? unescapeCollectionName(base);
    datas.set(name, join(dir, f));
  }
  // Views defined the old way: documents of system.views ({_id: "db.name", viewOn, pipeline}).
  const viewsFile = datas.get('system.views');
  if (viewsFile) {
    for (const d of bsonDocuments(await readMaybeGzip(viewsFile), viewsFile)) {
      const v = BSON.deserialize(d.raw);
      const name = String(v._id).slice(database.length + 1);
      const m = metas.get(name)?.meta ?? { options: {}, indexes: [] };
      m.type = 'view';
      m.options = { viewOn: v.viewOn, pipeline: v.pipeline, ...(v.collation ? { collation: v.collation } : {}) };
      metas.set(name, { meta: m, file: viewsFile });
    }
  }
  const out: BackupCollection[] = [];
  const all = new Set([...metas.keys(), ...[...datas.keys()].filter((k) => !k.startsWith('\u0000'))]);
  for (const name of [...all].sort()) {
    if (skip?.(name) || (name.startsWith('system.buckets.') && skip?.(name.slice(15)))) continue;
    const m = metas.get(name);
    const dataFile = datas.get(name);
    if (checkCollectionName(name, m?.meta, dataFile ?? m!.file, notes) === 'skip') continue;
    if (m?.meta.type === 'timeseries' && !dataFile) {
      throw new UnsupportedFeatureError(
        `${m.file}: "${name}" is a time-series collection whose data mongodump wrote as internal buckets, which dbsnap cannot unpack; import the rest with --exclude ${name}. Nothing was imported.`,
        { collection: name },
      );
    }
    const spec = specFrom(name, m?.meta);
    const documents = dataFile && spec.type !== 'view' ? bsonDocuments(await readMaybeGzip(dataFile), dataFile) : [];
    out.push({ spec, file: dataFile ?? m!.file, documents });
  }
  return out;
}

async function isDumpDatabaseDir(dir: string): Promise<boolean> {
  // A dump root holds oplog.bson (mongodump --oplog) beside the database folders.
  return (await readdir(dir)).some((f) => /\.(bson|metadata\.json)(\.gz)?$/.test(f) && !/^oplog\.bson(\.gz)?$/.test(f));
}

async function readDumpDirectory(path: string, opts: ReadBackupOptions, notes: string[]): Promise<Backup> {
  if (await isDumpDatabaseDir(path)) {
    const database = opts.db ?? basename(path);
    return { format: 'mongodump', database, collections: await readDumpDatabase(path, database, notes, opts.skip), notes };
  }
  const entries = await readdir(path, { withFileTypes: true });
  if (entries.some((e) => e.isFile() && /^oplog\.bson(\.gz)?$/.test(e.name))) {
    notes.push('oplog.bson (mongodump --oplog) was not replayed: the snapshot holds the collections as they were dumped, without the writes made during the dump');
  }
  const dbs: string[] = [];
  for (const e of entries) if (e.isDirectory() && (await isDumpDatabaseDir(join(path, e.name)))) dbs.push(e.name);
  const database = pickDatabase(dbs.sort(), opts.db, path, notes);
  return { format: 'mongodump', database, collections: await readDumpDatabase(join(path, database), database, notes, opts.skip), notes };
}

function readArchiveBackup(buf: Buffer, file: string, opts: ReadBackupOptions, notes: string[]): Backup {
  let archive;
  try {
    archive = readArchive(buf);
  } catch (err) {
    if (err instanceof BsonStreamError) throw formatError(file, `corrupt archive: ${err.message}`, { offset: err.offset });
    throw err;
  }
  const byDb = new Map<string, ArchiveNamespace[]>();
  for (const ns of archive.namespaces) {
    if (ns.db === '' && ns.collection === 'oplog') {
      notes.push('the oplog in the archive (mongodump --oplog) was not replayed: the snapshot holds the collections as they were dumped');
      continue;
    }
    let list = byDb.get(ns.db);
    if (!list) byDb.set(ns.db, (list = []));
    list.push(ns);
  }
  const database = pickDatabase([...byDb.keys()].sort(), opts.db, file, notes);
  const collections: BackupCollection[] = [];
  const where = `${file} (${database})`;
  const namespaces = byDb.get(database)!;
  const buckets = new Map(namespaces.filter((n) => n.collection.startsWith('system.buckets.')).map((n) => [n.collection.slice(15), n]));
  for (const ns of [...namespaces].sort((a, b) => (a.collection < b.collection ? -1 : 1))) {
    if (opts.skip?.(ns.collection) || (ns.collection.startsWith('system.buckets.') && opts.skip?.(ns.collection.slice(15)))) continue;
    const meta = ns.metadata ? metadataOf(ns.metadata, `${where} metadata of ${ns.collection}`) : undefined;
    if (meta && ns.type === 'timeseries') meta.type = 'timeseries';
    if (meta?.type === 'timeseries' || buckets.has(ns.collection)) {
      throw new UnsupportedFeatureError(
        `${where}: "${ns.collection}" is a time-series collection, archived as internal buckets that dbsnap cannot unpack; import the rest with --exclude ${ns.collection}. Nothing was imported.`,
        { collection: ns.collection },
      );
    }
    if (checkCollectionName(ns.collection, meta, where, notes) === 'skip') continue;
    const spec = specFrom(ns.collection, meta);
    const documents: SourceDocument[] = [];
    for (const d of ns.documents) documents.push({ raw: d, at: `byte offset ${d.byteOffset - buf.byteOffset}` });
    collections.push({ spec, file: `${where} ${ns.collection}`, documents: spec.type === 'view' ? [] : documents });
  }
  return { format: 'archive', database, collections, notes };
}

// ---------------------------------------------------------------------------------------------
// JSON (mongoexport, plain arrays)

function hasTypeWrapper(v: JsonValue, depth = 0): boolean {
  if (depth > 50 || v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.some((x) => hasTypeWrapper(x, depth + 1));
  if (!(v instanceof JsonObject)) return false;
  const k = v.entries[0]?.[0];
  if (k === '$oid' || k === '$date') return true;
  return v.entries.some(([, x]) => hasTypeWrapper(x, depth + 1));
}

function readJsonCollection(text: string, file: string, format: 'ejson' | 'json' | undefined, types: 'infer' | 'keep'): { collection: BackupCollection; format: 'ejson' | 'json' } {
  let parsed;
  try {
    parsed = parseJsonRecords(text);
  } catch (err) {
    if (err instanceof JsonSyntaxError) throw formatError(file, `invalid JSON: ${err.message}`, { line: err.line, offset: err.offset });
    throw err;
  }
  const detected: 'ejson' | 'json' = format ?? (parsed.shape === 'lines' || parsed.records.some((r) => hasTypeWrapper(r.value)) ? 'ejson' : 'json');
  const docs: Map<string, unknown>[] = [];
  for (const r of parsed.records) {
    try {
      docs.push(documentValue(r.value));
    } catch (err) {
      if (err instanceof EjsonValueError) {
        throw formatError(file, `line ${r.line}: ${err.message}${err.path.length ? ` (field ${err.path.join('.')})` : ''}`, { line: r.line });
      }
      throw err;
    }
  }
  const inferred = detected === 'json' && types === 'infer' ? inferTypes(docs) : { documents: docs, conversions: [] };
  const documents: SourceDocument[] = inferred.documents.map((d, i) => ({ raw: serializeDocument(d), at: `line ${parsed.records[i]!.line}` }));
  const name = unescapeCollectionName(stripExt(basename(file)));
  return {
    collection: {
      spec: { name, type: 'collection', options: {}, indexes: [] },
      file,
      documents,
      ...(detected === 'json' ? { conversions: inferred.conversions } : {}),
    },
    format: detected,
  };
}

const JSON_FILE = /\.(json|jsonl|ndjson)(\.gz)?$/;

// ---------------------------------------------------------------------------------------------

/**
 * Reads one backup at `path` (a directory or a file), detecting its format from the content.
 *
 * @example
 * const backup = await readBackup('dump/');            // mongodump directory
 * const seed = await readBackup('backup/2025-08-21');  // plain JSON arrays, types inferred
 */
export async function readBackup(path: string, opts: ReadBackupOptions = {}): Promise<Backup> {
  const notes: string[] = [];
  let info;
  try {
    info = await stat(path);
  } catch (err) {
    throw new InvalidArgumentError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}.`, { file: path });
  }
  const types = opts.types ?? 'infer';
  if (info.isDirectory()) {
    const files = (await readdir(path)).sort();
    const jsonFiles = files.filter((f) => JSON_FILE.test(f) && !/\.metadata\.json(\.gz)?$/.test(f));
    const wantsJson = opts.format === 'ejson' || opts.format === 'json';
    const hasBson = files.some((f) => /\.bson(\.gz)?$/.test(f) && !/^oplog\.bson(\.gz)?$/.test(f));
    if (!wantsJson && (opts.format === 'mongodump' || hasBson || jsonFiles.length === 0)) {
      const backup = await readDumpDirectory(path, opts, notes);
      if (backup.collections.length === 0 && jsonFiles.length === 0) throw formatError(path, 'no mongodump files (.bson, .metadata.json) and no JSON files found; not a known backup format');
      return backup;
    }
    if (jsonFiles.length === 0) throw formatError(path, 'no JSON files (.json, .jsonl, .ndjson) found');
    const collections: BackupCollection[] = [];
    let format: 'ejson' | 'json' = 'json';
    // A metadata.json beside a JSON file (as dbsnap export writes) brings options, indexes and views.
    const metas = new Map<string, { meta: DumpMetadata; file: string }>();
    for (const f of files.filter((x) => /\.metadata\.json$/.test(x))) {
      const full = join(path, f);
      const meta = metadataOf((await readFile(full)).toString('utf8'), full);
      metas.set(meta.collectionName ?? unescapeCollectionName(f.replace(/\.metadata\.json$/, '')), { meta, file: full });
    }
    for (const f of jsonFiles) {
      const full = join(path, f);
      const r = readJsonCollection((await readMaybeGzip(full)).toString('utf8'), full, wantsJson ? (opts.format as 'ejson' | 'json') : undefined, types);
      if (r.format === 'ejson') format = 'ejson';
      const m = metas.get(r.collection.spec.name);
      if (m) {
        r.collection.spec = specFrom(r.collection.spec.name, m.meta);
        metas.delete(r.collection.spec.name);
      }
      collections.push(r.collection);
    }
    for (const [name, m] of metas) {
      if (m.meta.type === 'view') collections.push({ spec: specFrom(name, m.meta), file: m.file, documents: [] });
    }
    return { format, ...(opts.db ? { database: opts.db } : {}), collections, notes };
  }
  const buf = await readMaybeGzip(path);
  if (opts.format === 'archive' || (!opts.format && isArchive(buf))) return readArchiveBackup(buf, path, opts, notes);
  const first = buf.subarray(0, 64).toString('utf8').replace(/^\uFEFF/, '').trimStart()[0];
  if (opts.format === 'ejson' || opts.format === 'json' || (!opts.format && (first === '[' || first === '{'))) {
    const r = readJsonCollection(buf.toString('utf8'), path, opts.format as 'ejson' | 'json' | undefined, types);
    return { format: r.format, ...(opts.db ? { database: opts.db } : {}), collections: [r.collection], notes };
  }
  if (opts.format === 'mongodump' || /\.bson(\.gz)?$/.test(path)) {
    const name = unescapeCollectionName(stripExt(basename(path)));
    return { format: 'mongodump', collections: [{ spec: specFrom(name, undefined), file: path, documents: bsonDocuments(buf, path) }], notes };
  }
  throw formatError(path, `not a known backup format (not a mongodump directory, archive, .bson file or JSON; ${extname(path) || 'no extension'}, starts with byte 0x${(buf[0] ?? 0).toString(16).padStart(2, '0')})`, { offset: 0 });
}
