/**
 * `verify`: is a snapshot intact, does a database still hold what it holds, and do the declared
 * relations between its collections hold? Every check that fails becomes a Problem in the report;
 * only conditions that stop the check itself (no repository, unknown ref, unreachable server)
 * are thrown.
 */
import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import type { Document } from 'bson';
import { compareBsonValues } from '../canonical/bson-order.js';
import { readPartFile, serializeDocument } from '../canonical/document-reader.js';
import { partFileText, writeDocument } from '../canonical/document-writer.js';
import {
  checkManifest,
  collectionDir,
  COLLECTIONS_DIR,
  CONFIG_FILE,
  defaultConfig,
  MANIFEST_FILE,
  parseConfig,
  type CollectionEntry,
  type Manifest,
  type Relation,
  type RepositoryConfig,
} from '../canonical/format.js';
import { diffCollection } from '../diff/index.js';
import { CorruptSnapshotError, DbsnapError, RefNotFoundError } from '../errors/index.js';
import { assertDatabaseExists, connect, type Connection } from '../mongo/connection.js';
import { listCollections, type CollectionInfo } from '../mongo/reader.js';
import { SnapshotRepository } from '../store/index.js';
import type { ProgressCallback } from './progress.js';
import { findDanglingReferences, parseRelationEnd, type DanglingReport } from './references.js';
import { buildDocumentTransform } from './sensitive.js';
import { decodeMeta, type SnapshotRef } from './snapshot.js';
import { liveSide, snapshotSide } from './sides.js';

export interface VerifyOptions {
  /** Snapshot repository directory. */
  repo: string;
  /** Commit, tag or branch to verify (default HEAD). */
  ref?: string;
  /** A database to compare with the snapshot; without it only the snapshot is checked. */
  uri?: string;
  /** Database name (default: the one in the URI). */
  db?: string;
  /** Key for sensitive fields, needed to compare collections that have them with a database. */
  key?: string;
  /** Example `_id`s per dangling relation (default 5). */
  examples?: number;
  /** Warn when the repository is readable by others (default true). */
  checkPermissions?: boolean;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

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

export interface VerifyCollection {
  name: string;
  type: CollectionEntry['type'];
  /** Documents and parts the snapshot lists (0 for a collection only in the database). */
  documents: number;
  parts: number;
  /** `ok`, `corrupt` (a problem names why), or `absent` (only in the database). */
  snapshot: 'ok' | 'corrupt' | 'absent';
  /**
   * Against the database, when one was given: `identical`; `differs`; `missing` (in the snapshot,
   * not the database); `extra` (in the database, not the snapshot); `skipped` (snapshot corrupt).
   */
  live?: 'identical' | 'differs' | 'missing' | 'extra' | 'skipped';
  /** Documents in the database and not the snapshot (added), the other way (removed), or different (changed). */
  counts?: { added: number; removed: number; changed: number };
  /** Index names that differ (added/removed = in the database only / in the snapshot only). */
  indexes?: { added: string[]; removed: string[]; changed: string[] };
  /** Paths of collection options that differ. */
  options?: string[];
}

export interface VerifyRelation extends DanglingReport {
  /** Why a relation was not checked (status `skipped`). */
  reason?: string;
}

export interface VerifyReport {
  /** The ref as given, and the commit it names. */
  ref: string;
  commit: string;
  /** True when there is no problem (warnings do not count). */
  ok: boolean;
  /** Database compared with, when one was given. */
  database?: string;
  documents: number;
  problems: Problem[];
  collections: VerifyCollection[];
  relations: VerifyRelation[];
  warnings: string[];
}

/**
 * Verifies a snapshot: every git object re-hashed, every file parsed, documents in strictly
 * increasing `_id` order, counts and hashes equal to collection.json and manifest.json, no file
 * missing or unlisted, part text in canonical form, declared relations without dangling
 * references. With `uri`, also compares that database with the snapshot per collection (added,
 * removed, changed documents; index and option differences). `ok` is false when anything fails;
 * `problems` names each failure. Reads one part at a time.
 *
 * @throws RepositoryNotFoundError, RefNotFoundError (also for a commit that holds no snapshot),
 *   ConnectionError / DatabaseNotFoundError for the database, KeyError when sensitive fields must
 *   be compared without a key.
 * @example
 * const r = await verify({ repo: 'backup-repo', ref: 'v1', uri: 'mongodb://localhost/shop' });
 * if (!r.ok) for (const p of r.problems) console.log(p.message);
 */
export async function verify(opts: VerifyOptions): Promise<VerifyReport> {
  const ref = opts.ref ?? 'HEAD';
  const repo = await SnapshotRepository.open(opts.repo);
  const commit = await repo.resolveCommit(ref);
  const report: VerifyReport = { ref, commit, ok: true, documents: 0, problems: [], collections: [], relations: [], warnings: [] };
  const short = commit.slice(0, 7);
  const problem = (p: Problem) => report.problems.push(p);
  if (opts.checkPermissions !== false) report.warnings.push(...(await permissionWarnings(repo.dir)));

  let files: Map<string, string>;
  try {
    files = await repo.listFiles(commit);
  } catch (err) {
    if (!(err instanceof CorruptSnapshotError)) throw err;
    problem({ kind: 'git-object', message: `commit ${short}: its tree cannot be read: ${err.message}` });
    return finish(report);
  }
  const snap: SnapshotRef = { repo, commit, files };
  const reader = new BlobReader(repo, problem);

  const manifestOid = files.get(MANIFEST_FILE);
  if (!manifestOid) {
    throw new RefNotFoundError(
      `commit ${short} holds no snapshot (no ${MANIFEST_FILE}); pick a snapshot commit from dbsnap log.`,
      { commit },
    );
  }
  const manifestValue = await reader.json(MANIFEST_FILE, manifestOid, (v) => checkManifest(v, `snapshot ${short}: ${MANIFEST_FILE}`));
  const config = await readConfig(reader, files, short);
  for (const [p, oid] of files) {
    if (p !== MANIFEST_FILE && p !== CONFIG_FILE && !p.startsWith(`${COLLECTIONS_DIR}/`)) await reader.read(p, oid);
  }
  if (!manifestValue) return finish(report);

  const entries = new Map<string, CollectionEntry>();
  const corrupt = new Set<string>();
  const listed = new Set<string>();
  let documents = 0;
  const names = Object.keys(manifestValue.collections).sort();
  for (const name of names) {
    opts.signal?.throwIfAborted();
    const before = report.problems.length;
    const entry = await checkCollection(snap, reader, manifestValue, name, config, listed, problem, opts);
    if (entry) entries.set(name, entry);
    if (!entry || report.problems.length > before) corrupt.add(name);
    const m = manifestValue.collections[name]!;
    documents += m.documents;
    report.collections.push({
      name,
      type: m.type,
      documents: m.documents,
      parts: m.parts,
      snapshot: corrupt.has(name) ? 'corrupt' : 'ok',
    });
  }
  report.documents = documents;
  if (manifestValue.documents !== documents) {
    problem({
      kind: 'count',
      file: MANIFEST_FILE,
      message: `${MANIFEST_FILE} says ${manifestValue.documents} documents in all, its collections add up to ${documents}.`,
    });
  }
  for (const p of [...files.keys()].filter((p) => p.startsWith(`${COLLECTIONS_DIR}/`) && !listed.has(p)).sort()) {
    const dir = p.split('/').slice(0, 2).join('/');
    const owner = names.find((n) => collectionDir(n) === dir);
    problem({
      kind: 'unlisted-file',
      file: p,
      ...(owner ? { collection: owner } : {}),
      message: owner
        ? `${p} is in the tree but not listed in ${dir}/collection.json.`
        : `${p} is in the tree but its collection is not listed in ${MANIFEST_FILE}.`,
    });
    if (owner) {
      corrupt.add(owner);
      report.collections.find((c) => c.name === owner)!.snapshot = 'corrupt';
    }
  }

  if (opts.uri) await compareLive(report, snap, entries, corrupt, config, opts);
  report.relations = await checkRelations(snap, entries, corrupt, config.relations, opts);
  for (const r of report.relations) {
    if (r.status === 'dangling') {
      problem({
        kind: 'relation',
        collection: parseRelationEnd(r.relation.from, names).collection,
        message:
          `${r.relation.from} -> ${r.relation.to}: ${r.dangling} of ${r.references} references dangle in ${r.documents} document${r.documents === 1 ? '' : 's'}` +
          (r.targetMissing ? ` (${parseRelationEnd(r.relation.to, names).collection} is not in the snapshot)` : '') +
          `, e.g. _id ${r.examples.join(', ')}.`,
      });
    } else if (r.status === 'skipped' && r.reason) {
      report.warnings.push(`relation ${r.relation.from} -> ${r.relation.to} not checked: ${r.reason}`);
    }
  }
  return finish(report);
}

function finish(report: VerifyReport): VerifyReport {
  report.ok = report.problems.length === 0;
  return report;
}

/** Reads blobs, re-hashing each, and turns damage into problems instead of exceptions. */
class BlobReader {
  constructor(
    private readonly repo: SnapshotRepository,
    private readonly problem: (p: Problem) => void,
  ) {}

  /** The blob's bytes (also when they do not hash to `oid`: the caller's checks then say more), or null if unreadable. */
  async read(file: string, oid: string, collection?: string): Promise<Buffer | null> {
    let buf: Buffer;
    try {
      buf = await this.repo.readBlob(oid);
    } catch (err) {
      if (!(err instanceof CorruptSnapshotError)) throw err;
      this.problem({ kind: 'git-object', file, ...(collection ? { collection } : {}), message: `${file}: ${err.message}` });
      return null;
    }
    const actual = SnapshotRepository.hashBlob(buf);
    if (actual !== oid) {
      this.problem({
        kind: 'git-object',
        file,
        ...(collection ? { collection } : {}),
        message: `${file}: git object ${oid} does not hash to its id (its content hashes to ${actual}); the object was altered on disk.`,
      });
    }
    return buf;
  }

  async json<T>(file: string, oid: string, check: (v: unknown) => T, collection?: string): Promise<T | null> {
    const buf = await this.read(file, oid, collection);
    if (!buf) return null;
    try {
      return check(JSON.parse(buf.toString('utf8')));
    } catch (err) {
      if (!(err instanceof SyntaxError) && !(err instanceof DbsnapError)) throw err;
      this.problem({ kind: 'parse', file, ...(collection ? { collection } : {}), message: `${file}: ${err.message}` });
      return null;
    }
  }
}

async function readConfig(reader: BlobReader, files: Map<string, string>, short: string): Promise<RepositoryConfig> {
  const oid = files.get(CONFIG_FILE);
  if (!oid) return defaultConfig();
  return (await reader.json(CONFIG_FILE, oid, (v) => parseConfig(v, `${CONFIG_FILE} at ${short}`))) ?? defaultConfig();
}

function checkEntryShape(v: unknown, name: string): CollectionEntry {
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

/** Checks one collection's entry and parts; returns the entry when it could be read. */
async function checkCollection(
  snap: SnapshotRef,
  reader: BlobReader,
  manifest: Manifest,
  name: string,
  config: RepositoryConfig,
  listed: Set<string>,
  problem: (p: Problem) => void,
  opts: VerifyOptions,
): Promise<CollectionEntry | null> {
  const dir = collectionDir(name);
  const entryPath = `${dir}/collection.json`;
  const m = manifest.collections[name]!;
  const oid = snap.files.get(entryPath);
  if (!oid) {
    problem({ kind: 'missing-file', collection: name, file: entryPath, message: `${entryPath} is listed in ${MANIFEST_FILE} but missing from the tree.` });
    return null;
  }
  listed.add(entryPath);
  const entry = await reader.json(entryPath, oid, (v) => checkEntryShape(v, name), name);
  if (!entry) return null;
  const mismatch = (kind: ProblemKind, what: string, inEntry: unknown, inManifest: unknown) => {
    if (inEntry !== inManifest) {
      problem({ kind, collection: name, file: entryPath, message: `${entryPath} says ${what} ${inEntry}, ${MANIFEST_FILE} says ${inManifest}.` });
    }
  };
  mismatch('parse', 'name', entry.name, name);
  mismatch('parse', 'type', entry.type, m.type);
  mismatch('count', 'documents', entry.documents, m.documents);
  mismatch('count', 'parts', entry.parts.length, m.parts);
  mismatch('hash', 'sha256', entry.sha256, m.sha256);
  try {
    decodeMeta(entry);
  } catch (err) {
    problem({ kind: 'parse', collection: name, file: entryPath, message: `${entryPath}: options or indexes are not valid Extended JSON: ${(err as Error).message}` });
  }

  const whole = createHash('sha256');
  let wholeKnown = true;
  let documents = 0;
  let last: { id: unknown; where: string } | undefined;
  for (const [i, part] of entry.parts.entries()) {
    opts.signal?.throwIfAborted();
    const file = `${dir}/${part.file}`;
    listed.add(file);
    const partOid = snap.files.get(file);
    const buf = partOid ? await reader.read(file, partOid, name) : null;
    if (!partOid) problem({ kind: 'missing-file', collection: name, file, message: `${file} is listed in ${entryPath} but missing from the tree.` });
    if (!buf) {
      wholeKnown = false;
      last = undefined;
      continue;
    }
    whole.update(buf);
    const sha = createHash('sha256').update(buf).digest('hex');
    if (sha !== part.sha256 || buf.length !== part.bytes) {
      problem({
        kind: 'hash',
        collection: name,
        file,
        message: `${file} does not match ${entryPath} (sha256 ${sha.slice(0, 12)}..., ${buf.length} bytes; expected ${part.sha256.slice(0, 12)}..., ${part.bytes} bytes). The part was changed by hand.`,
      });
    }
    const text = buf.toString('utf8');
    let docs: Document[];
    try {
      docs = readPartFile(text, file);
    } catch (err) {
      if (!(err instanceof DbsnapError)) throw err;
      problem({ kind: 'parse', collection: name, file, message: err.message });
      last = undefined;
      continue;
    }
    documents += docs.length;
    if (docs.length !== part.documents) {
      problem({ kind: 'count', collection: name, file, message: `${file} holds ${docs.length} documents, ${entryPath} says ${part.documents}.` });
    }
    for (const [j, doc] of docs.entries()) {
      const id = doc instanceof Map ? doc.get('_id') : doc._id;
      const where = `${file} document ${j}`;
      if (id === undefined) {
        problem({ kind: 'order', collection: name, file, message: `${where} has no _id.` });
        continue;
      }
      if (last && compareBsonValues(last.id, id) >= 0) {
        const dup = compareBsonValues(last.id, id) === 0;
        problem({
          kind: 'order',
          collection: name,
          file,
          message: dup
            ? `${where} repeats the _id of ${last.where}: duplicate _id.`
            : `${where} has a smaller _id than ${last.where}: documents are not in _id order.`,
        });
      }
      last = { id, where };
    }
    if (!isCanonical(docs, text, config.sortKeys)) {
      problem({
        kind: 'format',
        collection: name,
        file,
        message: `${file} is not in dbsnap's canonical form (its documents would be written differently); it was edited by hand.`,
      });
    }
    opts.onProgress?.({ phase: 'verify', collection: name, done: i + 1, total: entry.parts.length });
  }
  if (wholeKnown) {
    const sha = whole.digest('hex');
    if (sha !== entry.sha256) {
      problem({ kind: 'hash', collection: name, file: entryPath, message: `${name}: its parts hash to ${sha.slice(0, 12)}..., ${entryPath} says ${entry.sha256.slice(0, 12)}...` });
    }
    if (documents !== entry.documents) {
      problem({ kind: 'count', collection: name, file: entryPath, message: `${name}: its parts hold ${documents} documents, ${entryPath} says ${entry.documents}.` });
    }
  }
  return entry;
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

async function compareLive(
  report: VerifyReport,
  snap: SnapshotRef,
  entries: Map<string, CollectionEntry>,
  corrupt: Set<string>,
  config: RepositoryConfig,
  opts: VerifyOptions,
): Promise<void> {
  opts.onProgress?.({ phase: 'connect', done: 0 });
  const conn: Connection = await connect({ uri: opts.uri!, db: opts.db });
  try {
    await assertDatabaseExists(conn);
    report.database = conn.dbName;
    const live = new Map<string, CollectionInfo>();
    for (const info of await listCollections(conn)) if (!config.exclude.includes(info.name)) live.set(info.name, info);
    const names = [...report.collections.map((c) => c.name), ...[...live.keys()].filter((n) => !report.collections.some((c) => c.name === n))].sort();
    const compared = names.filter((n) => live.has(n) && entries.has(n) && !corrupt.has(n));
    const { transformFor } = buildDocumentTransform(config, opts.key, compared);
    for (const name of names) {
      opts.signal?.throwIfAborted();
      const info = live.get(name);
      let row = report.collections.find((c) => c.name === name);
      if (!row) {
        row = { name, type: info!.type, documents: 0, parts: 0, snapshot: 'absent' };
        report.collections.push(row);
      }
      if (!info) {
        row.live = 'missing';
        report.problems.push({ kind: 'live', collection: name, message: `${name}: in the snapshot but not in database ${conn.dbName}.` });
        continue;
      }
      if (row.snapshot === 'absent') {
        row.live = 'extra';
        report.problems.push({ kind: 'live', collection: name, message: `${name}: in database ${conn.dbName} but not in the snapshot.` });
        continue;
      }
      const entry = entries.get(name);
      if (!entry || corrupt.has(name)) {
        row.live = 'skipped';
        continue;
      }
      const from = snapshotSide(snap, entry);
      const to = await liveSide(conn, info, { config, transform: transformFor(name), against: snap, signal: opts.signal });
      const delta = await diffCollection(from, to, { limit: 0 });
      row.counts = delta.counts;
      row.indexes = {
        added: delta.indexes.added.map((i) => String(i.name)),
        removed: delta.indexes.removed.map((i) => String(i.name)),
        changed: delta.indexes.changed.map((i) => i.name),
      };
      row.options = delta.options.map((o) => o.path);
      row.live = delta.status === 'unchanged' ? 'identical' : 'differs';
      if (row.live === 'differs') {
        const what: string[] = [];
        const c = delta.counts;
        if (c.added + c.removed + c.changed > 0) what.push(`${c.added} added, ${c.removed} removed, ${c.changed} changed documents`);
        for (const [k, v] of Object.entries(row.indexes)) if (v.length) what.push(`index${v.length === 1 ? '' : 'es'} ${k}: ${v.join(', ')}`);
        if (row.options.length) what.push(`options differ: ${row.options.join(', ')}`);
        if (delta.type.old !== delta.type.new) what.push(`type ${delta.type.new} instead of ${delta.type.old}`);
        report.problems.push({ kind: 'live', collection: name, message: `${name}: database ${conn.dbName} differs from the snapshot: ${what.join('; ')}.` });
      }
    }
    report.collections.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } finally {
    await conn.close().catch(() => {});
  }
}

async function* snapshotDocuments(snap: SnapshotRef, entry: CollectionEntry): AsyncGenerator<Document> {
  for (const p of snapshotSide(snap, entry).parts) yield* await p.load();
}

async function checkRelations(
  snap: SnapshotRef,
  entries: Map<string, CollectionEntry>,
  corrupt: Set<string>,
  relations: Relation[],
  opts: VerifyOptions,
): Promise<VerifyRelation[]> {
  const names = [...entries.keys()];
  const out: (VerifyRelation | null)[] = [];
  const checkable: Relation[] = [];
  for (const relation of relations) {
    const bad = [parseRelationEnd(relation.from, names).collection, parseRelationEnd(relation.to, names).collection].filter((c) => corrupt.has(c));
    if (bad.length) {
      out.push({ relation, status: 'skipped', targetMissing: false, references: 0, dangling: 0, documents: 0, examples: [], reason: `${bad.join(' and ')} failed verification` });
    } else {
      out.push(null);
      checkable.push(relation);
    }
  }
  const checked = await findDanglingReferences(
    checkable,
    (name) => {
      const entry = entries.get(name);
      return entry ? snapshotDocuments(snap, entry) : null;
    },
    { collections: names, examples: opts.examples, signal: opts.signal },
  );
  let k = 0;
  return out.map((r) => {
    if (r) return r;
    const c = checked[k++]!;
    return c.status === 'skipped' ? { ...c, reason: `${parseRelationEnd(c.relation.from, names).collection} is not in the snapshot` } : c;
  });
}

/** Entries of the repository directory readable or writable by group or others (POSIX only). */
async function permissionWarnings(dir: string): Promise<string[]> {
  if (process.platform === 'win32') return [];
  const loose: string[] = [];
  let count = 0;
  const visit = async (p: string, rel: string) => {
    const st = await fsp.lstat(p);
    if (st.isSymbolicLink()) return;
    if ((st.mode & 0o077) !== 0) {
      count++;
      if (loose.length < 3) loose.push(`${rel || '.'} (${(st.mode & 0o777).toString(8).padStart(4, '0')})`);
    }
    if (st.isDirectory()) {
      for (const name of await fsp.readdir(p)) await visit(path.join(p, name), rel ? `${rel}/${name}` : name);
    }
  };
  await visit(dir, '');
  if (count === 0) return [];
  return [
    `${count} entr${count === 1 ? 'y' : 'ies'} of the repository ${dir} ${count === 1 ? 'is' : 'are'} accessible to other users ` +
      `(e.g. ${loose.join(', ')}); snapshots hold your data: run chmod -R go-rwx ${dir}`,
  ];
}
