/**
 * `verify`: is a snapshot intact, does a database still hold what it holds, and do the declared
 * relations between its collections hold? Every check that fails becomes a Problem in the report;
 * only conditions that stop the check itself (no repository, unknown ref, unreachable server)
 * are thrown.
 */
import { fieldsForCollection, findEncryptedFields, parseSensitiveFields } from '../crypto/index.js';
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
  type RepositoryConfig,
} from '../canonical/format.js';
import { CorruptSnapshotError, DbsnapError, RefNotFoundError } from '../errors/index.js';
import { SnapshotRepository } from '../store/index.js';
import { parseRelationEnd } from './references.js';
import { permissionWarnings } from './repository-permissions.js';
import { checkCollectionEntry, checkManifestTotals, checkParts, readBlobChecked, type Problem } from './snapshot-integrity.js';
import { filesBesideManifest, openSnapshot, withParts, type SnapshotRef } from './snapshot.js';
import { compareLive } from './verify-live.js';
import type { VerifyOptions, VerifyReport } from './verify-report.js';
import { checkRelations } from './verify-relations.js';

export type {
  Problem,
  ProblemKind,
  VerifyCollection,
  VerifyOptions,
  VerifyRelation,
  VerifyReport,
} from './verify-report.js';

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

  // Part files are listed one collection at a time (withParts), so memory follows one collection.
  let snap: SnapshotRef;
  try {
    snap = await openSnapshot(repo, commit, { parts: false });
  } catch (err) {
    if (!(err instanceof CorruptSnapshotError)) throw err;
    problem({ kind: 'git-object', message: `commit ${short}: its tree cannot be read: ${err.message}` });
    return finish(report);
  }
  const { files } = snap;
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

  // Entries (with their part lists) are kept only for the checks that need them after the loop.
  const keepEntries = Boolean(opts.uri) || config.relations.length > 0;
  const entries = new Map<string, CollectionEntry>();
  const corrupt = new Set<string>();
  const unlisted: Problem[] = [];
  let documents = 0;
  const names = Object.keys(manifestValue.collections).sort();
  for (const name of names) {
    opts.signal?.throwIfAborted();
    const before = report.problems.length;
    const entry = await checkCollectionFiles(snap, reader, manifestValue, name, config, problem, unlisted, opts);
    if (entry && keepEntries) entries.set(name, entry);
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
  // The manifest's own total, and files of collections it does not list (the same check restore
  // stops at): the directories it does not list are listed in full, they are strays.
  checkManifestTotals(manifestValue, await filesBesideManifest(snap, names)).forEach(problem);
  for (const p of unlisted.sort((a, b) => (a.file! < b.file! ? -1 : a.file! > b.file! ? 1 : 0))) {
    problem(p);
    corrupt.add(p.collection!);
    report.collections.find((c) => c.name === p.collection)!.snapshot = 'corrupt';
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
    const { buf, problems } = await readBlobChecked(this.repo, file, oid, { collection, rehash: true });
    problems.forEach(this.problem);
    return buf;
  }

  /** The blob parsed as JSON and passed through `check`, or null (with a problem) if it does not parse. */
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

/**
 * Checks one collection with its part files listed (withParts): entry and parts, and files in its
 * directory that collection.json does not list (added to `unlisted`, reported after the loop).
 */
async function checkCollectionFiles(
  shallow: SnapshotRef,
  reader: BlobReader,
  manifest: Manifest,
  name: string,
  config: RepositoryConfig,
  problem: (p: Problem) => void,
  unlisted: Problem[],
  opts: VerifyOptions,
): Promise<CollectionEntry | null> {
  let snap: SnapshotRef;
  try {
    snap = await withParts(shallow, name);
  } catch (err) {
    if (!(err instanceof CorruptSnapshotError)) throw err;
    problem({ kind: 'git-object', collection: name, message: `${collectionDir(name)}/parts: its tree cannot be read: ${err.message}` });
    return null;
  }
  const listed = new Set<string>();
  const entry = await checkCollection(snap, reader, manifest, name, config, listed, problem, opts);
  const dir = collectionDir(name);
  for (const p of snap.files.keys()) {
    if (p.startsWith(`${dir}/`) && !listed.has(p)) {
      unlisted.push({ kind: 'unlisted-file', file: p, collection: name, message: `${p} is in the tree but not listed in ${dir}/collection.json.` });
    }
  }
  return entry;
}

/** Checks one collection's entry and parts with the integrity checker; returns the entry when it could be read. */
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
  const oid = snap.files.get(entryPath);
  if (!oid) {
    problem({ kind: 'missing-file', collection: name, file: entryPath, message: `${entryPath} is listed in ${MANIFEST_FILE} but missing from the tree.` });
    return null;
  }
  listed.add(entryPath);
  const parsed = await reader.json(entryPath, oid, (value) => ({ value }), name);
  if (!parsed) return null;
  const { entry, problems } = checkCollectionEntry(parsed.value, name, manifest.collections[name]!);
  problems.forEach(problem);
  if (!entry) return null;
  for (const part of entry.parts) listed.add(`${dir}/${part.file}`);
  const checks = checkParts(snap, entry, { gitObjects: true, canonical: { sortKeys: config.sortKeys }, signal: opts.signal });
  // Encrypted values are self-describing: every one must sit where the snapshot's own config
  // declares a sensitive field, or a restore guided by that config would write ciphertext.
  const declared = new Set(fieldsForCollection(parseSensitiveFields(config.sensitive ?? {}), name));
  const undeclared = new Map<string, string>();
  for await (const event of checks) {
    if ('problem' in event) problem(event.problem);
    else {
      if (event.part.encrypted) {
        for (const doc of event.part.docs ?? []) {
          for (const p of findEncryptedFields(doc)) if (!declared.has(p) && !undeclared.has(p)) undeclared.set(p, event.part.file);
        }
      }
      opts.onProgress?.({ phase: 'verify', collection: name, done: event.part.index + 1, total: entry.parts.length });
    }
  }
  for (const [path, file] of undeclared) {
    problem({
      kind: 'format',
      collection: name,
      file,
      message:
        `${name}.${path} holds encrypted values, but this snapshot's dbsnap.json does not declare it sensitive ` +
        '(the config was changed after the commit?). dbsnap restore decrypts them with the key all the same; ' +
        `declare it again (dbsnap config sensitive.${name} ...) to keep the config truthful.`,
    });
  }
  return entry;
}
