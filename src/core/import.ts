/**
 * `dbsnap import`: commits backups made by other tools (mongodump directories and archives,
 * mongoexport files, plain JSON arrays) as snapshots, with no MongoDB server. The documents go
 * through the same writer as `dbsnap commit`, so the same data gives the same tree hash.
 */
import { stat, readdir } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { BSON, type Document } from 'bson';
import { compareBsonValues } from '../canonical/bson-order.js';
import { EXACT_DECODE_OPTIONS, type KeyMaterial } from '../crypto/index.js';
import { FormatError, InvalidArgumentError } from '../errors/index.js';
import {
  readBackup,
  type Backup,
  type BackupCollection,
  type BackupFormat,
  type SourceDocument,
} from '../interchange/read-backup.js';
import type { FieldConversion } from '../interchange/type-inference.js';
import { acquireLock, SnapshotRepository } from '../store/index.js';
import { commitMessage } from './commit-message.js';
import { commitTree } from './commit-tree.js';
import type { Identity, ProgressCallback } from './progress.js';
import { buildDocumentTransform } from './sensitive.js';
import { collectionTreeOf, openSnapshot, readHeadConfig } from './snapshot.js';
import { writeCollection, writeSnapshotTree, type WrittenCollection } from './snapshot-writer.js';

export interface ImportOptions {
  /** Snapshot repository directory. */
  repo: string;
  /** Backups to import: directories or files. */
  paths: string[];
  /** Force a format instead of detecting it. */
  format?: BackupFormat;
  /** Database name recorded in the commit (and the one picked from a dump holding several). */
  db?: string;
  /** First line of the commit message. */
  message?: string;
  /** Author date of the commit (default: now). With `asHistory`, ignored: each folder has its own. */
  date?: Date;
  /** One commit per path, oldest first, each dated from its name or its files' times. */
  asHistory?: boolean;
  /** Plain JSON: infer ObjectIds, dates and Int64s (default) or keep strings as strings. */
  types?: 'infer' | 'keep';
  /** Import only these collections. */
  collections?: string[];
  /** Leave these collections out. */
  exclude?: string[];
  /** Key material, needed when dbsnap.json declares sensitive fields (they are encrypted). */
  key?: KeyMaterial;
  /** Commit even when the snapshot equals HEAD. */
  allowEmpty?: boolean;
  author?: Identity;
  now?: Date;
  onProgress?: ProgressCallback;
}

export interface ImportedCollection {
  name: string;
  type: WrittenCollection['record']['type'];
  documents: number;
  parts: number;
  /** Fields whose type was inferred (plain JSON). */
  conversions?: FieldConversion[];
}

export interface ImportedSnapshot {
  path: string;
  format: BackupFormat;
  database: string;
  committed: boolean;
  /** The new commit, or HEAD when the snapshot equalled it. */
  commit: string | null;
  tree: string;
  date: string;
  /** Where the date came from. */
  dateSource: 'option' | 'name' | 'files' | 'now';
  message: string;
  documents: number;
  collections: ImportedCollection[];
  notes: string[];
}

export interface ImportResult {
  snapshots: ImportedSnapshot[];
}

const NAME_DATE = /(\d{4})-(\d{2})-(\d{2})(?:[T_ ](\d{2})[:-]?(\d{2})(?:[:-]?(\d{2}))?)?/;

/** A date in a folder or file name (`backup-2025-08-21`, `2025-08-21T14-30`), as UTC. */
export function dateFromName(name: string): Date | undefined {
  const m = NAME_DATE.exec(name);
  if (!m) return undefined;
  const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0)));
  return Number.isNaN(d.getTime()) || d.getUTCDate() !== +m[3]! ? undefined : d;
}

async function newestFileTime(path: string): Promise<Date> {
  const s = await stat(path);
  if (!s.isDirectory()) return s.mtime;
  let newest = 0;
  for (const f of await readdir(path, { withFileTypes: true })) {
    if (f.isFile()) newest = Math.max(newest, (await stat(join(path, f.name))).mtimeMs);
  }
  return new Date(newest || s.mtimeMs);
}

/** The documents in `_id` order (mongod's BSON order), each checked: readable, with an `_id`, unique. */
function sortedDocuments(c: BackupCollection): Uint8Array[] {
  const keyed: { id: unknown; d: SourceDocument }[] = [];
  for (const d of c.documents) {
    let doc: Document;
    try {
      doc = BSON.deserialize(d.raw, EXACT_DECODE_OPTIONS);
    } catch (err) {
      throw new FormatError(`${c.file}: unreadable BSON document at ${d.at} (${(err as Error).message}); nothing was imported.`, { file: c.file });
    }
    if (!('_id' in doc)) {
      throw new FormatError(`${c.file}: the document at ${d.at} has no _id; dbsnap keys documents by _id (give every document one). Nothing was imported.`, { file: c.file });
    }
    keyed.push({ id: doc._id, d });
  }
  keyed.sort((a, b) => compareBsonValues(a.id, b.id));
  for (let i = 1; i < keyed.length; i++) {
    if (compareBsonValues(keyed[i - 1]!.id, keyed[i]!.id) === 0) {
      throw new FormatError(
        `${c.file}: the documents at ${keyed[i - 1]!.d.at} and ${keyed[i]!.d.at} have the same _id; a collection holds each _id once. Nothing was imported.`,
        { file: c.file },
      );
    }
  }
  return keyed.map((k) => k.d.raw);
}

function selectCollections(backup: Backup, opts: ImportOptions): BackupCollection[] {
  const names = backup.collections.map((c) => c.spec.name);
  for (const n of opts.collections ?? []) {
    if (!names.includes(n)) throw new InvalidArgumentError(`--collections: the backup has no collection "${n}"; it has: ${names.join(', ') || '(none)'}.`, { collection: n });
  }
  return backup.collections.filter(
    (c) => (!opts.collections?.length || opts.collections.includes(c.spec.name)) && !(opts.exclude ?? []).includes(c.spec.name),
  );
}

/** Reads all paths (everything parsed before anything is written) and merges those imported together. */
async function readAll(opts: ImportOptions): Promise<{ path: string; backup: Backup }[]> {
  const out: { path: string; backup: Backup }[] = [];
  for (const path of opts.paths) {
    const backup = await readBackup(path, {
      ...(opts.format ? { format: opts.format } : {}),
      ...(opts.db ? { db: opts.db } : {}),
      ...(opts.types ? { types: opts.types } : {}),
      skip: (name) => (opts.exclude ?? []).includes(name) || Boolean(opts.collections?.length && !opts.collections.includes(name)),
    });
    backup.collections = selectCollections(backup, opts);
    out.push({ path, backup });
  }
  if (opts.asHistory || out.length <= 1) return out;
  const merged: Backup = { format: out[0]!.backup.format, collections: [], notes: [] };
  const seen = new Map<string, string>();
  for (const { backup } of out) {
    merged.database ??= backup.database;
    merged.notes.push(...backup.notes);
    for (const c of backup.collections) {
      const prior = seen.get(c.spec.name);
      if (prior) throw new InvalidArgumentError(`collection "${c.spec.name}" is in both ${prior} and ${c.file}; import them as separate commits with --as-history, or drop one.`, { collection: c.spec.name });
      seen.set(c.spec.name, c.file);
      merged.collections.push(c);
    }
  }
  return [{ path: opts.paths.join(' '), backup: merged }];
}

/**
 * Imports backups as snapshot commits. Every input is read and checked before the first object is
 * written; bad input is a FormatError naming the file and byte offset or line, and the repository
 * is left as it was.
 *
 * @example
 * const r = await importBackup({ repo: 'backup-repo', paths: ['backup/'], message: 'from the old backups' });
 * for (const c of r.snapshots[0].collections) console.log(c.name, c.conversions);
 *
 * // An existing series of backups becomes history, oldest first:
 * await importBackup({ repo: 'backup-repo', paths: ['backups/2025-08-01', 'backups/2025-08-02'], asHistory: true });
 */
export async function importBackup(opts: ImportOptions): Promise<ImportResult> {
  if (opts.paths.length === 0) throw new InvalidArgumentError('dbsnap import needs at least one path (a mongodump directory, an archive, or JSON files).');
  const repo = await SnapshotRepository.open(opts.repo);
  const lock = await acquireLock(repo.dir, 'import');
  try {
    opts.onProgress?.({ phase: 'list', done: 0 });
    const inputs = await readAll(opts);
    const dated: { path: string; backup: Backup; date: Date; dateSource: ImportedSnapshot['dateSource']; sorted: Map<BackupCollection, Uint8Array[]> }[] = [];
    for (const { path, backup } of inputs) {
      const sorted = new Map<BackupCollection, Uint8Array[]>();
      for (const c of backup.collections) sorted.set(c, c.spec.type === 'view' ? [] : sortedDocuments(c));
      let date: Date;
      let dateSource: ImportedSnapshot['dateSource'];
      const fromName = opts.asHistory ? dateFromName(basename(resolve(path))) : undefined;
      if (opts.date && !opts.asHistory) [date, dateSource] = [opts.date, 'option'];
      else if (fromName) [date, dateSource] = [fromName, 'name'];
      else if (opts.asHistory) [date, dateSource] = [await newestFileTime(path), 'files'];
      else [date, dateSource] = [opts.now ?? new Date(), 'now'];
      dated.push({ path, backup, date, dateSource, sorted });
    }
    if (opts.asHistory) dated.sort((a, b) => a.date.getTime() - b.date.getTime());

    const snapshots: ImportedSnapshot[] = [];
    for (const item of dated) {
      const started = performance.now();
      const { config, head } = await readHeadConfig(repo);
      const { ref: headRef } = await repo.head();
      const baseSnap = head ? await openSnapshot(repo, head, { parts: false }) : null;
      // As commit does: collections dbsnap.json excludes are never snapshotted.
      const excluded = item.backup.collections.filter((c) => config.exclude.includes(c.spec.name));
      const included = item.backup.collections.filter((c) => !config.exclude.includes(c.spec.name));
      const notes = [...item.backup.notes, ...excluded.map((c) => `left out ${c.spec.name}: dbsnap.json excludes it`)];
      const names = included.map((c) => c.spec.name);
      const { key, transformFor } = buildDocumentTransform(config, opts.key, names);
      const recordKeyId = Boolean(key && !config.keyId);
      if (key && recordKeyId) config.keyId = key.id;
      const written: WrittenCollection[] = [];
      const collections: ImportedCollection[] = [];
      for (const c of included) {
        const docs = item.sorted.get(c)!;
        opts.onProgress?.({ phase: 'read', collection: c.spec.name, done: 0, total: docs.length });
        const transform = transformFor(c.spec.name);
        const w = await writeCollection(repo, c.spec, docs, config, transform ? { transform } : {});
        opts.onProgress?.({ phase: 'read', collection: c.spec.name, done: docs.length, total: docs.length });
        written.push(w);
        collections.push({
          name: c.spec.name,
          type: c.spec.type,
          documents: w.record.documents,
          parts: w.record.parts,
          ...(c.conversions ? { conversions: c.conversions } : {}),
        });
      }
      opts.onProgress?.({ phase: 'commit', done: 0 });
      const { tree, manifest } = await writeSnapshotTree(repo, {
        baseFiles: baseSnap?.files ?? [],
        ...(recordKeyId ? { config } : {}),
        collections: written,
      });
      const database = opts.db ?? item.backup.database ?? basename(resolve(item.path.split(' ')[0]!));
      const headTree = head ? (await repo.readCommit(head)).tree : null;
      const base = {
        path: item.path,
        format: item.backup.format,
        database,
        tree,
        date: item.date.toISOString(),
        dateSource: item.dateSource,
        documents: manifest.documents,
        collections: collections.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
        notes,
      };
      if (tree === headTree && !opts.allowEmpty) {
        snapshots.push({ ...base, committed: false, commit: head, message: '' });
        continue;
      }
      const message = commitMessage(opts.message ?? `Import ${FORMAT_NAMES[item.backup.format]} ${item.path}`, {
        database,
        source: `${FORMAT_NAMES[item.backup.format]} ${item.path} (dbsnap import)`,
        server: 'none (imported from a backup)',
        pointInTime: false,
        read: `imported from a ${FORMAT_NAMES[item.backup.format]} dated ${item.date.toISOString()} (${item.dateSource === 'name' ? 'from its name' : item.dateSource === 'files' ? "from its files' times" : item.dateSource === 'option' ? 'from --date' : 'import time'})`,
        collections: await Promise.all(
          written.map(async (w) => ({ name: w.name, changed: w.tree !== (baseSnap ? await collectionTreeOf(baseSnap, w.name) : null) })),
        ),
        documents: manifest.documents,
        durationMs: Math.round(performance.now() - started),
      });
      const commitOid = await commitTree(repo, { ref: headRef, parent: head, tree, message, author: opts.author, now: item.date });
      snapshots.push({ ...base, committed: true, commit: commitOid, message });
    }
    return { snapshots };
  } finally {
    await lock.release();
  }
}

const FORMAT_NAMES: Record<BackupFormat, string> = {
  mongodump: 'mongodump directory',
  archive: 'mongodump archive',
  ejson: 'mongoexport (Extended JSON)',
  json: 'plain JSON backup',
};
