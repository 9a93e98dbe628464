/**
 * `dbsnap export`: a snapshot handed to tools that do not know dbsnap: a mongodump directory or
 * archive (mongorestore), canonical Extended JSON lines (mongoimport, people), or plain JSON
 * arrays (scripts; lossy, see src/interchange/ejson-write.ts).
 */
import type { KeyMaterial } from '../crypto/index.js';
import { mkdir, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { serializeDocument } from '../canonical/bson-serializer.js';
import type { CollectionEntry } from '../canonical/format.js';
import { CollectionNotFoundError, InvalidArgumentError, KeyError } from '../errors/index.js';
import { writeArchive, type ArchiveNamespace } from '../interchange/archive.js';
import { documentJson } from '../interchange/ejson-write.js';
import { dumpFileBase, metadataJson } from '../interchange/mongodump.js';
import { SnapshotRepository } from '../store/index.js';
import { parseTrailers } from './commit-summary.js';
import type { ProgressCallback } from './progress.js';
import { buildRestoreTransform, sensitiveFieldNames } from './sensitive.js';
import { loadPart, openSnapshot, partBlobs, readCollectionEntry, readConfigAt, readManifest } from './snapshot.js';
import { DBSNAP_VERSION } from './version.js';

export type ExportFormat = 'mongodump' | 'ejson' | 'json';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['mongodump', 'ejson', 'json'];

export interface ExportOptions {
  repo: string;
  /** Snapshot to export (hash, tag, branch, HEAD~2). */
  ref: string;
  /** Output directory (mongodump: the dump root, holding `<db>/`). Not used with `archive`. */
  dir?: string;
  format: ExportFormat;
  /** mongodump: write one archive file instead of a directory. */
  archive?: string;
  /** mongodump: gzip every file (or the archive), as mongodump --gzip. */
  gzip?: boolean;
  /** Only these collections. */
  collections?: string[];
  /** Database name for the dump (default: the one the snapshot was taken from). */
  db?: string;
  /** Key material: sensitive fields are decrypted with it. */
  key?: KeyMaterial;
  /** Without a key, write sensitive fields as dbsnap's encrypted marker documents instead of refusing. */
  keepEncrypted?: boolean;
  /** Replace sensitive values with pseudonyms (needs the key). */
  mask?: boolean;
  /**
   * Replace what is at the output: a non-empty directory's contents are deleted first (so no file
   * of an earlier export stays mixed in), an existing archive file is replaced. Without it such an
   * output is refused (`EINVALIDARG`) and nothing is written.
   */
  force?: boolean;
  onProgress?: ProgressCallback;
}

export interface ExportedCollection {
  name: string;
  type: CollectionEntry['type'];
  documents: number;
  /** Files written, relative to the output directory (or the archive name). */
  files: string[];
  /** Sensitive fields: how they were written. */
  sensitive?: 'decrypted' | 'masked' | 'encrypted';
}

export interface ExportResult {
  commit: string;
  format: ExportFormat;
  database: string;
  /** Where the output went: a directory or an archive file. */
  output: string;
  documents: number;
  collections: ExportedCollection[];
  notes: string[];
}

/** Writes a file so that a crash never leaves a half-written one under its real name. */
async function writeOut(path: string, data: string | Buffer, gzip: boolean): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, gzip ? gzipSync(bytes) : bytes);
  await rename(tmp, path);
}

/**
 * Exports a snapshot. Documents are written from the snapshot's exact bytes; sensitive fields are
 * decrypted with the key (or masked), or with `keepEncrypted` written as visible
 * `{"$dbsnapEncrypted": ...}` markers, never silently as ciphertext.
 *
 * @example
 * await exportSnapshot({ repo: 'backup-repo', ref: 'v1', dir: 'dump', format: 'mongodump', gzip: true });
 * // then: mongorestore --gzip dump/
 */
export async function exportSnapshot(opts: ExportOptions): Promise<ExportResult> {
  if (opts.format === 'mongodump' ? !opts.dir && !opts.archive : !opts.dir) {
    throw new InvalidArgumentError(`dbsnap export needs an output ${opts.format === 'mongodump' ? 'directory or --archive FILE' : 'directory'}.`);
  }
  if (opts.archive && opts.format !== 'mongodump') throw new InvalidArgumentError('--archive needs --format mongodump.');
  const repo = await SnapshotRepository.open(opts.repo);
  const snap = await openSnapshot(repo, opts.ref);
  const manifest = await readManifest(snap);
  const config = await readConfigAt(snap);
  const commitInfo = await repo.readCommit(snap.commit);
  const database = opts.db ?? parseTrailers(commitInfo.message).Database ?? 'db';
  const all = Object.keys(manifest.collections).sort();
  for (const n of opts.collections ?? []) {
    if (!all.includes(n)) throw new CollectionNotFoundError(`snapshot ${snap.commit.slice(0, 7)} has no collection "${n}"; it has: ${all.join(', ')}.`, { collection: n });
  }
  const names = all.filter((n) => !opts.collections?.length || opts.collections.includes(n));
  const sensitive = sensitiveFieldNames(config, names);
  let transformFor: (c: string) => ((d: import('bson').Document) => import('bson').Document) | undefined = () => undefined;
  if (sensitive.length > 0 && !opts.key) {
    if (opts.mask) throw new KeyError(`--mask needs the key (pseudonyms are derived from the real values of ${sensitive.join(', ')}); set DBSNAP_KEY or pass --key-file.`, { fields: sensitive });
    if (!opts.keepEncrypted) {
      throw new KeyError(
        `the snapshot holds encrypted fields (${sensitive.join(', ')}); pass --key-file (or set DBSNAP_KEY) to export them decrypted, --mask with the key for pseudonyms, or --keep-encrypted to write them as dbsnap's {"$dbsnapEncrypted": ...} markers. Nothing was written.`,
        { fields: sensitive },
      );
    }
  } else if (sensitive.length > 0) {
    transformFor = buildRestoreTransform(config, opts.key, { mask: opts.mask ?? false, collections: names }).transformFor;
  }

  const notes: string[] = [];
  const replaced = await existingOutput(opts.archive ?? opts.dir!, Boolean(opts.archive));
  if (replaced && !opts.force) {
    throw new InvalidArgumentError(
      opts.archive
        ? `${opts.archive} already exists; nothing was written. Choose a new file name, or pass --force to replace it.`
        : `${opts.dir} is not empty (${replaced}); nothing was written. Choose an empty or new directory, or pass --force to delete its contents and export into it.`,
      { path: opts.archive ?? opts.dir },
    );
  }
  if (replaced && !opts.archive) {
    const held = await readdir(opts.dir!);
    if (held.includes('.git') || (held.includes('HEAD') && held.includes('objects'))) {
      throw new InvalidArgumentError(`${opts.dir} holds a git repository; --force does not delete that. Nothing was written. Choose another directory.`, { path: opts.dir });
    }
    for (const e of await readdir(opts.dir!)) await rm(join(opts.dir!, e), { recursive: true, force: true });
    notes.push(`--force: deleted the earlier contents of ${opts.dir} (${replaced})`);
  } else if (replaced) notes.push(`--force: replaced the existing file ${opts.archive}`);
  const collections: ExportedCollection[] = [];
  const namespaces: ArchiveNamespace[] = [];
  const gz = opts.gzip && !opts.archive ? '.gz' : '';
  let documents = 0;
  for (const name of names) {
    const entry = await readCollectionEntry(snap, name);
    if (opts.format === 'mongodump' && entry.type === 'timeseries') {
      notes.push(`skipped ${name}: a time-series collection; mongorestore expects its internal buckets, which a snapshot does not hold (export it with --format ejson and mongoimport it into a time-series collection)`);
      continue;
    }
    const transform = transformFor(name);
    const hasSensitive = sensitive.some((f) => f.startsWith(`${name}.`));
    const raws: Buffer[] = [];
    for (const part of partBlobs(snap, entry)) {
      for (const doc of await loadPart(snap, part.path, part.oid)) {
        const out = transform ? transform(doc) : doc;
        raws.push(Buffer.from(serializeDocument(out)));
      }
      opts.onProgress?.({ phase: 'read', collection: name, done: raws.length, total: entry.documents });
    }
    documents += raws.length;
    const base = dumpFileBase(name);
    const meta = metadataJson(entry);
    const files: string[] = [];
    if (opts.format === 'mongodump' && opts.archive) {
      namespaces.push({ db: database, collection: name, metadata: meta, type: entry.type, documents: raws });
      files.push(opts.archive);
    } else if (opts.format === 'mongodump') {
      const dir = join(opts.dir!, database);
      if (entry.type !== 'view') {
        await writeOut(join(dir, `${base}.bson${gz}`), Buffer.concat(raws), Boolean(gz));
        files.push(join(database, `${base}.bson${gz}`));
      }
      await writeOut(join(dir, `${base}.metadata.json${gz}`), meta, Boolean(gz));
      files.push(join(database, `${base}.metadata.json${gz}`));
    } else {
      // Metadata beside the documents, so a re-import keeps indexes, options and views (mongoimport ignores it).
      if (entry.type !== 'view') {
        const flavour = opts.format === 'ejson' ? 'canonical' : 'plain';
        const lines = raws.map((r) => documentJson(r, flavour));
        const text = opts.format === 'ejson' ? lines.map((l) => `${l}\n`).join('') : lines.length ? `[\n${lines.join(',\n')}\n]\n` : '[]\n';
        await writeOut(join(opts.dir!, `${base}.json`), text, false);
        files.push(`${base}.json`);
      }
      await writeOut(join(opts.dir!, `${base}.metadata.json`), meta, false);
      files.push(`${base}.metadata.json`);
    }
    collections.push({
      name,
      type: entry.type,
      documents: raws.length,
      files,
      ...(hasSensitive ? { sensitive: opts.mask ? ('masked' as const) : opts.key ? ('decrypted' as const) : ('encrypted' as const) } : {}),
    });
  }
  if (opts.archive) {
    const bytes = writeArchive({ header: { version: '0.1', server_version: serverVersion(commitInfo.message), tool_version: `dbsnap ${DBSNAP_VERSION}` }, namespaces });
    await writeOut(opts.archive, bytes, Boolean(opts.gzip)).catch(async (err) => {
      await rm(`${opts.archive}.tmp-${process.pid}`, { force: true });
      throw err;
    });
  }
  return {
    commit: snap.commit,
    format: opts.format,
    database,
    output: opts.archive ?? opts.dir!,
    documents,
    collections,
    notes,
  };
}

/** What an export would replace at `path`: a description of a non-empty directory's entries, 'a file' for an existing archive, or null. */
async function existingOutput(path: string, archive: boolean): Promise<string | null> {
  const st = await stat(path).catch(() => null);
  if (!st) return null;
  if (archive) return st.isFile() ? 'a file' : null;
  if (!st.isDirectory()) return null; // a file where the directory should be: the write names it
  const entries = await readdir(path);
  if (entries.length === 0) return null;
  const shown = entries.sort().slice(0, 3).join(', ');
  return `${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}: ${shown}${entries.length > 3 ? ', ...' : ''}`;
}

/** The server version a snapshot was read from (`7.0.2` from `Dbsnap-Server: 7.0.2 standalone`). */
function serverVersion(message: string): string {
  const m = /^(\d+\.\d+\.\d+)/.exec(parseTrailers(message).Server ?? '');
  return m ? m[1]! : '0.0.0';
}
