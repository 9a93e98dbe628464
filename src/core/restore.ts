/**
 * Restoring a snapshot into a database so that nothing can be lost: the snapshot is validated
 * completely before the target is touched, what will be replaced is committed to a safety ref
 * first, and each collection is loaded and checked in a temporary collection that is only
 * renamed into place once every collection has loaded and verified.
 */
import { createHash, randomBytes } from 'node:crypto';
import { EJSON, type Document } from 'bson';
import { compareBsonValues } from '../canonical/bson-order.js';
import { DbPointer, readPartFile, serializeDocument } from '../canonical/document-reader.js';
import { encodeCollection } from '../canonical/encode-collection.js';
import { collectionDir, type CollectionEntry, type Manifest, type RepositoryConfig } from '../canonical/format.js';
import {
  CollectionNotFoundError,
  ConfirmationRequiredError,
  CorruptSnapshotError,
  DbsnapError,
  FormatError,
  InterruptedError,
  InvalidArgumentError,
  KeyError,
  ProtectedTargetError,
  RestoreFailedError,
  UnsupportedFeatureError,
} from '../errors/index.js';
import { connect, type Connection } from '../mongo/connection.js';
import { collectionHashes, listCollections, readRawDocuments } from '../mongo/reader.js';
import { formatSource, hostNames, redactUri } from '../mongo/uri.js';
import {
  countDocuments,
  createCollection,
  createIndexes,
  documentId,
  dropCollection,
  findDanglingReferences,
  findRawByIds,
  insertBatch,
  listTempCollections,
  renameCollection,
  TEMP_PREFIX,
  upsertBatch,
} from '../mongo/writer.js';
import { SnapshotRepository } from '../store/index.js';
import { commit } from './commit.js';
import type { Identity, ProgressCallback } from './progress.js';
import { parseRelationEnd } from './references.js';
import { planRestore, replacesExisting, type RestoreMode, type RestorePlan, type TargetCollection } from './restore-plan.js';
import { buildDocumentTransform, buildRestoreTransform } from './sensitive.js';
import {
  decodeMeta,
  openSnapshot,
  partBlobs,
  readCollectionEntry,
  readConfigAt,
  readHeadConfig,
  readManifest,
  type SnapshotRef,
} from './snapshot.js';

export type { RestorePlan, RestoreMode } from './restore-plan.js';

export interface RestoreOptions {
  /** Snapshot repository directory. */
  repo: string;
  /** Any commit, tag or branch (`v1`, `HEAD~2`, `refs/dbsnap/safety/...`). */
  ref: string;
  /** MongoDB connection string of the target (`mongodb+srv://` works the same). */
  uri: string;
  /** Target database; defaults to the one in the URI. */
  db?: string;
  /** Restore only these collections (views included); the rest of the target stays as it is. */
  collections?: string[];
  /** replace (default): swap whole collections in; merge: upsert documents by `_id`. */
  mode?: RestoreMode;
  /** Plan only: validate the snapshot, read the target, change nothing. */
  dryRun?: boolean;
  /** Commit what will be replaced to a safety ref first (default true). */
  backup?: boolean;
  /**
   * Verify by reading every loaded document back and re-encoding it, even where the server's
   * collection hash (`dbHash`) would do (slower; for servers you do not trust to hash).
   */
  readBack?: boolean;
  /** Restore into a host listed in `protectedHosts`. */
  force?: boolean;
  /** Key material for encrypted fields (DBSNAP_KEY or a key file's contents). */
  key?: string;
  /** Restore sensitive fields as pseudonyms instead of their real values. */
  mask?: boolean;
  /** Asked before anything existing is replaced; false cancels (ECONFIRM) with nothing changed. */
  confirm?: (plan: RestorePlan) => Promise<boolean>;
  author?: Identity;
  now?: Date;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

export interface RestoredCollection {
  name: string;
  type: 'collection' | 'view' | 'timeseries';
  action: 'create' | 'replace' | 'merge';
  documents: number;
  /**
   * How the result was checked: the server's hash of the loaded collection against the bytes sent
   * (server-hash), the collection read back and re-encoded against the snapshot's hash (hash),
   * document bytes (merge), count only (masked), view definition.
   */
  check: 'server-hash' | 'hash' | 'documents' | 'count' | 'view';
}

export interface DanglingRelation {
  /** `orders.userId -> users._id` */
  relation: string;
  from: string;
  to: string;
  /** Restored documents that reference a value the target does not have. */
  dangling: number;
  /** A few `_id`s of such documents, in `_id` order. */
  examples: unknown[];
}

export interface RestoreResult {
  ref: string;
  commit: string;
  database: string;
  /** The target, credentials removed. */
  target: string;
  mode: RestoreMode;
  dryRun: boolean;
  plan: RestorePlan;
  /** The safety snapshot of what was replaced (absent with backup: false or nothing replaced). */
  safetySnapshot?: { ref: string; commit: string; collections: string[] };
  /** Temporary collections a killed restore had left behind, dropped before starting. */
  cleanedUp: string[];
  restored: RestoredCollection[];
  verified: { collections: number; documents: number };
  /** `verified: N collections, M documents identical to <ref>` (absent for a dry run). */
  summary?: string;
  /** Partial restores: references from restored collections to ones not restored that find nothing. */
  dangling: DanglingRelation[];
  warnings: string[];
  durationMs: number;
}

/** Documents per insert batch, and a cap on the batch's text size (the driver splits further if needed). */
const BATCH_DOCS = 1000;
const BATCH_BYTES = 4 * 1024 * 1024;

interface SelectedCollection {
  entry: CollectionEntry;
  meta: { options: Document; indexes: Document[] };
}

/**
 * Restores a snapshot into a database.
 *
 * The snapshot is read from git objects and validated in full first (every part parses, counts
 * and hashes match, `_id`s increase); a bad snapshot throws CorruptSnapshotError and changes
 * nothing. In `replace` mode each collection is loaded into a temporary collection with its
 * options and indexes, re-encoded and compared with the snapshot, and only when all of them
 * match are they renamed into place; any failure before that drops the temporary collections
 * and throws RestoreFailedError with every target collection as it was.
 *
 * @example
 * const r = await restore({ repo: 'backup-repo', ref: 'v1', uri: 'mongodb://localhost/shop', confirm: async () => true });
 * console.log(r.summary); // verified: 4 collections, 1000 documents identical to v1
 */
export async function restore(opts: RestoreOptions): Promise<RestoreResult> {
  const started = performance.now();
  const mode: RestoreMode = opts.mode ?? 'replace';
  if (mode !== 'replace' && mode !== 'merge') {
    throw new InvalidArgumentError(`--mode must be replace or merge, not "${String(mode)}".`);
  }
  const repo = await SnapshotRepository.open(opts.repo);
  const { config: headConfig } = await readHeadConfig(repo);
  const snap = await openSnapshot(repo, opts.ref);
  const manifest = await readManifest(snap);
  const config = await readConfigAt(snap);

  checkProtected(opts, headConfig);

  const selected = await selectCollections(snap, manifest, opts.collections);
  const names = selected.map((s) => s.entry.name);
  const restoreTransform = buildRestoreTransform(config, opts.key, { mask: opts.mask, collections: names });

  // 1. Validate the whole selection before connecting to the target at all: every part's bytes
  // against its hash. Merge writes straight into the target, so there every document is also
  // parsed and checked now; replace checks each document as it loads it into a temporary
  // collection, which is dropped on any failure, so the target is never touched by a bad snapshot.
  for (const s of selected) {
    if (s.entry.type === 'view') continue;
    await validateCollection(snap, s.entry, manifest, restoreTransform.transformFor(s.entry.name), opts, mode === 'merge');
  }

  // 2. Plan against the target as it is now.
  opts.onProgress?.({ phase: 'connect', done: 0 });
  const conn = await connect({ uri: opts.uri, db: opts.db });
  try {
    const targetInfos = (await listCollections(conn)).filter((c) => !c.name.startsWith(TEMP_PREFIX));
    const target: TargetCollection[] = [];
    for (const info of targetInfos) {
      const counted = names.includes(info.name) && info.type !== 'view';
      target.push({ name: info.name, type: info.type, documents: counted ? await countDocuments(conn, info.name).catch(() => 0) : 0 });
    }
    const plan = planRestore({
      ref: opts.ref,
      commit: snap.commit,
      database: conn.dbName,
      mode,
      entries: selected.map((s) => s.entry),
      target,
      serverVersion: conn.server.version,
    });
    if (plan.unsupported.length > 0) {
      throw new UnsupportedFeatureError(
        `cannot restore into ${conn.dbName}: ${plan.unsupported.map((u) => `${u.collection}: ${u.reason}`).join('; ')}. Nothing was changed.`,
        { unsupported: plan.unsupported },
      );
    }
    const result: RestoreResult = {
      ref: opts.ref,
      commit: snap.commit,
      database: conn.dbName,
      target: formatSource(conn.source),
      mode,
      dryRun: Boolean(opts.dryRun),
      plan,
      cleanedUp: [],
      restored: [],
      verified: { collections: 0, documents: 0 },
      dangling: [],
      warnings: [...plan.warnings],
      durationMs: 0,
    };
    if (opts.dryRun) {
      result.durationMs = Math.round(performance.now() - started);
      return result;
    }
    if (replacesExisting(plan) && opts.confirm && !(await opts.confirm(plan))) {
      throw new ConfirmationRequiredError(`restore of ${opts.ref} into ${conn.dbName} was not confirmed; nothing was changed.`);
    }
    checkAborted(opts.signal, 'nothing was changed');

    // 3. Leftovers of a killed run, then the safety snapshot.
    for (const name of await listTempCollections(conn)) {
      await dropCollection(conn, name);
      result.cleanedUp.push(name);
    }
    if (opts.backup !== false && plan.affected.length > 0) {
      result.safetySnapshot = await safetySnapshot(repo, conn, plan, opts);
      const excluded = plan.affected.filter((n) => headConfig.exclude.includes(n));
      if (excluded.length) result.warnings.push(`not in the safety snapshot (excluded by the config): ${excluded.join(', ')}`);
    }
    checkAborted(opts.signal, 'nothing was changed');

    // 4. Load, verify, swap.
    const verifyTransform = opts.mask ? undefined : buildDocumentTransform(config, opts.key, names).transformFor;
    const ctx: LoadContext = { conn, snap, config, opts, restoreTransform: restoreTransform.transformFor, verifyTransform };
    if (mode === 'replace') await replaceCollections(ctx, selected, plan, result);
    else await mergeCollections(ctx, selected, plan, result);
    await recreateViews(ctx, selected, plan, result);

    // 5. References that now point outside what was restored.
    if (opts.collections?.length) result.dangling = await danglingReferences(conn, headConfig, plan, manifest);

    const identical = opts.mask ? `restored from ${opts.ref} (sensitive fields masked; counts checked)` : `identical to ${opts.ref}`;
    result.summary = `verified: ${result.verified.collections} collection${result.verified.collections === 1 ? '' : 's'}, ${result.verified.documents} document${result.verified.documents === 1 ? '' : 's'} ${identical}`;
    result.durationMs = Math.round(performance.now() - started);
    return result;
  } finally {
    await conn.close().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------
// Before touching the target

function checkProtected(opts: RestoreOptions, config: RepositoryConfig): void {
  const protectedHosts = (config.protectedHosts ?? []).map((h) => h.toLowerCase());
  if (protectedHosts.length === 0 || opts.force) return;
  const hits = hostNames(opts.uri).filter((h) => protectedHosts.some((p) => hostMatches(h, p)));
  if (hits.length > 0) {
    throw new ProtectedTargetError(
      `${redactUri(opts.uri)} is a protected host (${hits.join(', ')} is in protectedHosts in dbsnap.json); restore refuses to write there unless you pass --force.`,
      { hosts: hits },
    );
  }
}

/** `*.example.net` matches any subdomain; anything else matches exactly. */
function hostMatches(host: string, pattern: string): boolean {
  if (pattern.startsWith('*.')) return host.endsWith(pattern.slice(1));
  return host === pattern;
}

async function selectCollections(snap: SnapshotRef, manifest: Manifest, only: string[] | undefined): Promise<SelectedCollection[]> {
  const all = Object.keys(manifest.collections).sort();
  for (const name of only ?? []) {
    if (!manifest.collections[name]) {
      throw new CollectionNotFoundError(
        `snapshot ${snap.commit.slice(0, 7)} has no collection "${name}"; it has: ${all.join(', ') || '(none)'}.`,
        { collection: name },
      );
    }
  }
  const names = only?.length ? all.filter((n) => only.includes(n)) : all;
  const out: SelectedCollection[] = [];
  for (const name of names) {
    const entry = await readCollectionEntry(snap, name);
    const m = manifest.collections[name]!;
    if (entry.name !== name || entry.type !== m.type || entry.documents !== m.documents || entry.sha256 !== m.sha256) {
      throw corrupt(snap, `${collectionDir(name)}/collection.json`, 'does not agree with manifest.json (name, type, document count or hash)', {
        expected: m,
        found: { name: entry.name, type: entry.type, documents: entry.documents, sha256: entry.sha256 },
      });
    }
    out.push({ entry, meta: decodeMeta(entry) });
  }
  return out;
}

function corrupt(snap: SnapshotRef, path: string, what: string, data: Record<string, unknown> = {}): CorruptSnapshotError {
  const short = snap.commit.slice(0, 7);
  return new CorruptSnapshotError(
    `snapshot ${short}: ${path} ${what}. The repository may have been edited by hand; run dbsnap verify ${short} for details. Nothing was changed.`,
    { commit: snap.commit, path, ...data },
  );
}

interface LoadedPart {
  path: string;
  docs: Document[];
  documents: number;
  bytes: number;
}

/**
 * Reads the parts of a collection one at a time, checking each against collection.json; with
 * `parse: false` only the bytes are checked (the documents are not decoded).
 */
async function* readParts(
  snap: SnapshotRef,
  entry: CollectionEntry,
  opts: { parse?: boolean; hashChecked?: boolean; onBlob?: (buf: Buffer) => void } = {},
): AsyncGenerator<LoadedPart> {
  const parts = partBlobs(snap, entry);
  // The next part is read (and inflated on the thread pool) while this one is decoded.
  const read = (i: number) => {
    const p = i < parts.length ? snap.repo.readBlob(parts[i]!.oid) : null;
    p?.catch(() => {}); // a failure surfaces where it is awaited
    return p;
  };
  let next = read(0);
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    const buf = (await next)!;
    next = read(i + 1);
    opts.onBlob?.(buf);
    const sha = opts.hashChecked ? part.sha256 : createHash('sha256').update(buf).digest('hex');
    if (sha !== part.sha256) {
      throw corrupt(snap, part.path, `does not match its hash in collection.json (expected ${part.sha256.slice(0, 12)}..., found ${sha.slice(0, 12)}...)`, {
        expected: part.sha256,
        found: sha,
      });
    }
    if (opts.parse === false) {
      yield { path: part.path, docs: [], documents: part.documents, bytes: buf.length };
      continue;
    }
    let docs: Document[];
    try {
      docs = readPartFile(buf.toString('utf8'), part.path);
    } catch (err) {
      if (err instanceof FormatError) throw corrupt(snap, part.path, `does not parse (${err.message})`);
      throw err;
    }
    if (docs.length !== part.documents) {
      throw corrupt(snap, part.path, `holds ${docs.length} documents, collection.json says ${part.documents}`);
    }
    yield { path: part.path, docs, documents: docs.length, bytes: buf.length };
  }
}

/**
 * The first value (path and kind) that the driver would silently turn into something else:
 * Undefined (written as null), DBPointer (written as a DBRef document), a date beyond a JS Date.
 */
function unwritablePath(value: unknown, path: string): { path: string; what: string } | null {
  if (value === undefined) return { path, what: 'Undefined' };
  if (value instanceof DbPointer) return { path, what: 'a DBPointer' };
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? { path, what: 'a date beyond year 275760' } : null;
  if (value === null || typeof value !== 'object' || typeof (value as { _bsontype?: unknown })._bsontype === 'string') return null;
  const entries = value instanceof Map ? [...value.entries()] : Object.entries(value as object);
  for (const [k, v] of entries) {
    const found = unwritablePath(v, path ? `${path}.${k}` : String(k));
    if (found) return found;
  }
  return null;
}

/** Per-document checks, in load order: an `_id`, ascending, nothing the driver would alter. */
class DocumentChecks {
  private prev: unknown;
  private hasPrev = false;
  constructor(
    private readonly snap: SnapshotRef,
    private readonly entry: CollectionEntry,
  ) {}

  check(doc: Document, path: string, i: number): void {
    const id = documentId(doc);
    if (id === undefined) throw corrupt(this.snap, path, `document ${i} has no _id`);
    if (this.hasPrev && compareBsonValues(this.prev, id) >= 0) {
      throw corrupt(this.snap, path, `document ${i} is out of _id order (or repeats an _id): ${EJSON.stringify({ _id: id } as Document)}`);
    }
    this.prev = id;
    this.hasPrev = true;
    const unwritable = unwritablePath(doc, '');
    if (unwritable) {
      throw new UnsupportedFeatureError(
        `${this.entry.name} document ${EJSON.stringify({ _id: id } as Document)} holds ${unwritable.what} at ${unwritable.path}, ` +
          'a deprecated BSON type the MongoDB Node.js driver cannot write; nothing was changed. ' +
          'Restore this collection with mongorestore, or exclude it with --collections.',
        { collection: this.entry.name, path: unwritable.path },
      );
    }
  }
}

/**
 * Checks a collection of the snapshot before anything is written: every part's bytes against
 * collection.json, the whole against the manifest; with `parseAll`, also every document (it
 * parses, ascends by `_id`, decrypts with the key, can be written exactly).
 */
async function validateCollection(
  snap: SnapshotRef,
  entry: CollectionEntry,
  manifest: Manifest,
  transform: ((doc: Document) => Document) | undefined,
  opts: RestoreOptions,
  parseAll: boolean,
): Promise<void> {
  const whole = createHash('sha256');
  let documents = 0;
  const checks = new DocumentChecks(snap, entry);
  opts.onProgress?.({ phase: 'verify', collection: entry.name, done: 0, total: entry.documents });
  for await (const part of readParts(snap, entry, { parse: parseAll, onBlob: (buf) => whole.update(buf) })) {
    checkAborted(opts.signal, 'nothing was changed');
    for (let i = 0; i < part.docs.length; i++) {
      checks.check(part.docs[i]!, part.path, i);
      // Decrypting now proves the key fits every encrypted value before anything is written.
      if (transform) transform(part.docs[i]!);
    }
    documents += part.documents;
    opts.onProgress?.({ phase: 'verify', collection: entry.name, done: documents, total: entry.documents });
  }
  const dir = `${collectionDir(entry.name)}/collection.json`;
  if (documents !== entry.documents) throw corrupt(snap, dir, `says ${entry.documents} documents but its parts hold ${documents}`);
  const sha = whole.digest('hex');
  if (sha !== entry.sha256 || sha !== manifest.collections[entry.name]!.sha256) {
    throw corrupt(snap, dir, `has hash ${entry.sha256.slice(0, 12)}..., but its parts hash to ${sha.slice(0, 12)}...`, {
      expected: entry.sha256,
      found: sha,
    });
  }
}

function checkAborted(signal: AbortSignal | undefined, state: string): void {
  if (signal?.aborted) throw new InterruptedError(`restore interrupted; ${state}.`);
}

async function safetySnapshot(
  repo: SnapshotRepository,
  conn: Connection,
  plan: RestorePlan,
  opts: RestoreOptions,
): Promise<{ ref: string; commit: string; collections: string[] }> {
  const now = opts.now ?? new Date();
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const db = conn.dbName.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 24);
  const taken = new Set((await repo.listRefs('refs/dbsnap/safety/')).map((r) => r.ref));
  let ref = `refs/dbsnap/safety/${stamp}-${db}`;
  for (let n = 2; taken.has(ref); n++) ref = `refs/dbsnap/safety/${stamp}-${db}-${n}`;
  opts.onProgress?.({ phase: 'backup', done: 0 });
  const r = await commit({
    repo: opts.repo,
    uri: opts.uri,
    db: conn.dbName,
    ref,
    collections: plan.affected,
    message: `Safety snapshot of ${conn.dbName} before restoring ${opts.ref}`,
    allowEmpty: true,
    useServerHashes: false,
    key: opts.key,
    author: opts.author,
    now,
    signal: opts.signal,
    onProgress: opts.onProgress ? (p) => opts.onProgress!({ ...p, phase: 'backup' }) : undefined,
  });
  return { ref, commit: r.commit!, collections: r.collections.map((c) => c.name) };
}

// ---------------------------------------------------------------------------------------------
// Writing

interface LoadContext {
  conn: Connection;
  snap: SnapshotRef;
  config: RepositoryConfig;
  opts: RestoreOptions;
  restoreTransform: (collection: string) => ((doc: Document) => Document) | undefined;
  verifyTransform?: (collection: string) => ((doc: Uint8Array) => Document | Uint8Array) | undefined;
}

/**
 * Streams the snapshot's documents (checked, then decrypted/masked) into `write` in batches, in
 * `_id` order. Returns the count and the MD5 of the BSON bytes sent, in order: what the server's
 * `dbHash` reports for a collection holding exactly those documents.
 */
async function loadDocuments(
  ctx: LoadContext,
  entry: CollectionEntry,
  write: (docs: Document[]) => Promise<void>,
  onPart?: (docs: Document[]) => Promise<void>,
): Promise<{ documents: number; md5: string }> {
  const transform = ctx.restoreTransform(entry.name);
  const checks = new DocumentChecks(ctx.snap, entry);
  // Documents written unchanged are the source's own bytes, whose MD5 commit recorded; only
  // rewritten (decrypted, masked) ones need hashing here.
  const recorded = transform ? undefined : entry.bsonMd5;
  const md5 = recorded ? null : createHash('md5');
  let batch: Document[] = [];
  let bytes = 0;
  let done = 0;
  // One batch is written while the next is decoded, so the client and the server work at once.
  let inFlight: Promise<void> | null = null;
  let writeError: unknown;
  const settle = async () => {
    if (inFlight) await inFlight;
    inFlight = null;
    if (writeError) throw writeError;
  };
  const flush = async () => {
    if (batch.length === 0) return;
    checkAborted(ctx.opts.signal, 'every target collection is as it was');
    await settle();
    const docs = batch;
    batch = [];
    bytes = 0;
    inFlight = write(docs).then(
      () => {
        done += docs.length;
        ctx.opts.onProgress?.({ phase: 'restore', collection: entry.name, done, total: entry.documents });
      },
      (err: unknown) => {
        writeError ??= err;
      },
    );
  };
  ctx.opts.onProgress?.({ phase: 'restore', collection: entry.name, done: 0, total: entry.documents });
  // The bytes of every part were checked against their hashes just before (validateCollection).
  for await (const part of readParts(ctx.snap, entry, { hashChecked: true })) {
    for (let i = 0; i < part.docs.length; i++) checks.check(part.docs[i]!, part.path, i);
    const docs = transform ? part.docs.map(transform) : part.docs;
    await onPart?.(docs);
    for (const doc of docs) {
      md5?.update(serializeDocument(doc));
      batch.push(doc);
    }
    bytes += part.bytes;
    if (batch.length >= BATCH_DOCS || bytes >= BATCH_BYTES) await flush();
  }
  await flush();
  await settle();
  return { documents: done, md5: recorded ?? md5!.digest('hex') };
}

/** Re-encodes a live collection exactly as commit would and compares it with the snapshot entry. */
async function verifyLoaded(
  ctx: LoadContext,
  entry: CollectionEntry,
  live: string,
  sent: { documents: number; md5: string },
): Promise<RestoredCollection['check']> {
  ctx.opts.onProgress?.({ phase: 'verify', collection: entry.name, done: 0, total: entry.documents });
  if (sent.documents !== entry.documents) throw new Error(`${sent.documents} documents were written, the snapshot has ${entry.documents}`);
  // Where the server hashes collections, its hash of the loaded copy must equal the hash of the
  // exact bytes restore sent, which are the snapshot's documents: no read back needed.
  // A server whose hash differs (another algorithm, or a value stored differently) gets the
  // read-back check below, which says exactly what differs.
  const serverHash = ctx.opts.readBack ? undefined : (await collectionHashes(ctx.conn, [live]))?.[live];
  if (serverHash && serverHash === sent.md5) return ctx.opts.mask ? 'count' : 'server-hash';
  if (ctx.opts.mask) {
    const n = await countDocuments(ctx.conn, live);
    if (n !== entry.documents) throw new Error(`${n} documents were written, the snapshot has ${entry.documents}`);
    return 'count';
  }
  const encoded = await encodeCollection(
    readRawDocuments(ctx.conn, live, { signal: ctx.opts.signal }),
    {
      partBits: ctx.config.partBits,
      maxPartBytes: ctx.config.maxPartBytes,
      sortKeys: ctx.config.sortKeys,
      transform: ctx.verifyTransform?.(entry.name),
    },
    () => {},
  );
  checkAborted(ctx.opts.signal, 'every target collection is as it was');
  if (encoded.documents !== entry.documents || encoded.sha256 !== entry.sha256) {
    throw new Error(
      `read back ${encoded.documents} documents hashing to ${encoded.sha256.slice(0, 12)}..., ` +
        `but the snapshot has ${entry.documents} documents hashing to ${entry.sha256.slice(0, 12)}... ` +
        '(a value the server or driver cannot store exactly?)',
    );
  }
  ctx.opts.onProgress?.({ phase: 'verify', collection: entry.name, done: entry.documents, total: entry.documents });
  return 'hash';
}

async function replaceCollections(ctx: LoadContext, selected: SelectedCollection[], plan: RestorePlan, result: RestoreResult): Promise<void> {
  const runId = randomBytes(3).toString('hex');
  const byName = new Map(selected.map((s) => [s.entry.name, s]));
  // name -> where it was loaded; timeseries collections absent from the target load in place
  // (they cannot be renamed), so dropping them on failure restores "absent".
  const loaded: { name: string; live: string; inPlace: boolean }[] = [];
  let current = '';
  try {
    for (const [n, planned] of plan.collections.entries()) {
      current = planned.name;
      const s = byName.get(planned.name)!;
      const inPlace = s.entry.type === 'timeseries';
      const live = inPlace ? planned.name : `${TEMP_PREFIX}${runId}_${n}`;
      loaded.push({ name: planned.name, live, inPlace });
      await createCollection(ctx.conn, live, s.meta.options);
      const sent = await loadDocuments(ctx, s.entry, (docs) => insertBatch(ctx.conn, live, docs));
      await createIndexes(ctx.conn, live, s.meta.indexes);
      const check = await verifyLoaded(ctx, s.entry, live, sent);
      result.restored.push({ name: planned.name, type: s.entry.type, action: planned.action, documents: s.entry.documents, check });
    }
  } catch (err) {
    for (const l of loaded) await dropCollection(ctx.conn, l.live).catch(() => {});
    result.restored = [];
    throw failure(err, current, 'every target collection is as it was; the temporary copies were dropped');
  }
  // Every collection loaded and verified: swap them in.
  const swapped: string[] = [];
  for (const l of loaded) {
    if (l.inPlace) continue;
    try {
      const existing = plan.dropped.find((d) => d.name === l.name);
      // renameCollection cannot replace a view; a collection replacing one drops it first.
      if (existing && existing.type === 'view') await dropCollection(ctx.conn, l.name);
      await renameCollection(ctx.conn, l.live, l.name);
      swapped.push(l.name);
    } catch (err) {
      const rest = loaded.filter((x) => !x.inPlace && !swapped.includes(x.name) && x.name !== l.name);
      for (const x of rest) await dropCollection(ctx.conn, x.live).catch(() => {});
      throw new RestoreFailedError(
        `restore failed while swapping in "${l.name}": ${(err as Error).message}. ` +
          `Already restored: ${swapped.join(', ') || '(none)'}; not restored: ${[l.name, ...rest.map((x) => x.name)].join(', ')}` +
          (result.safetySnapshot ? `; the previous data is in ${result.safetySnapshot.ref}.` : '.'),
        { collection: l.name, swapped, temp: l.live },
      );
    }
  }
  for (const r of result.restored) {
    result.verified.collections++;
    result.verified.documents += r.documents;
  }
}

async function mergeCollections(ctx: LoadContext, selected: SelectedCollection[], plan: RestorePlan, result: RestoreResult): Promise<void> {
  const byName = new Map(selected.map((s) => [s.entry.name, s]));
  let current = '';
  try {
    for (const planned of plan.collections) {
      current = planned.name;
      const s = byName.get(planned.name)!;
      if (planned.existingDocuments === undefined) await createCollection(ctx.conn, planned.name, s.meta.options);
      await loadDocuments(ctx, s.entry, (docs) => upsertBatch(ctx.conn, planned.name, docs));
      await createIndexes(ctx.conn, planned.name, s.meta.indexes);
      // The target holds other documents too: check each restored one by its bytes.
      let checked = 0;
      await loadDocuments(ctx, s.entry, async () => {}, async (docs) => {
        const expected = docs.map((d) => Buffer.from(serializeDocument(d)));
        const found = await findRawByIds(ctx.conn, planned.name, docs.map(documentId));
        const same = found.length === expected.length && found.every((b, i) => Buffer.from(b).equals(expected[i]!));
        if (!same) throw new Error(`documents read back differ from the snapshot near _id ${EJSON.stringify({ _id: documentId(docs[0]!) } as Document)}`);
        checked += docs.length;
      });
      result.restored.push({ name: planned.name, type: s.entry.type, action: 'merge', documents: checked, check: 'documents' });
      result.verified.collections++;
      result.verified.documents += checked;
    }
  } catch (err) {
    throw failure(err, current, `collections merged before it stay merged${result.safetySnapshot ? `; the previous data is in ${result.safetySnapshot.ref}` : ''}`);
  }
}

async function recreateViews(ctx: LoadContext, selected: SelectedCollection[], plan: RestorePlan, result: RestoreResult): Promise<void> {
  const byName = new Map(selected.map((s) => [s.entry.name, s]));
  // A view on another restored view is created after it.
  const pending = [...plan.views];
  const ordered: typeof pending = [];
  while (pending.length) {
    const i = pending.findIndex((v) => !pending.some((w) => w.name === v.viewOn));
    ordered.push(...pending.splice(i === -1 ? 0 : i, 1));
  }
  for (const v of ordered) {
    const s = byName.get(v.name)!;
    try {
      if (v.action === 'replace') await dropCollection(ctx.conn, v.name);
      await createCollection(ctx.conn, v.name, s.meta.options);
      const now = (await listCollections(ctx.conn)).find((c) => c.name === v.name);
      const want = EJSON.stringify(s.meta.options, { relaxed: false });
      if (!now || EJSON.stringify(now.options, { relaxed: false }) !== want) {
        throw new Error(`the server reports its definition as ${now ? EJSON.stringify(now.options, { relaxed: false }) : '(missing)'}, not ${want}`);
      }
    } catch (err) {
      throw failure(err, v.name, 'collections were restored, views before it were recreated');
    }
    result.restored.push({ name: v.name, type: 'view', action: v.action, documents: 0, check: 'view' });
    result.verified.collections++;
  }
}

function failure(err: unknown, collection: string, state: string): DbsnapError {
  if (err instanceof InterruptedError) return new InterruptedError(`restore interrupted while restoring "${collection}"; ${state}.`, { collection });
  // A fault of the snapshot, the key or the target's abilities keeps its own code.
  if (err instanceof CorruptSnapshotError || err instanceof UnsupportedFeatureError || err instanceof KeyError) return err;
  const cause = err instanceof Error ? err.message : String(err);
  return new RestoreFailedError(`restore failed at collection "${collection}": ${cause}. ${state[0]!.toUpperCase()}${state.slice(1)}.`, {
    collection,
    cause,
    ...(err instanceof DbsnapError ? { causeCode: err.code } : {}),
  });
}

// ---------------------------------------------------------------------------------------------
// After a partial restore

async function danglingReferences(conn: Connection, config: RepositoryConfig, plan: RestorePlan, manifest: Manifest): Promise<DanglingRelation[]> {
  const restored = new Set(plan.collections.map((c) => c.name));
  const known = [...new Set([...Object.keys(manifest.collections), ...plan.untouched, ...restored])];
  const out: DanglingRelation[] = [];
  for (const r of config.relations) {
    const from = parseRelationEnd(r.from, known);
    const to = parseRelationEnd(r.to, known);
    if (!restored.has(from.collection) || restored.has(to.collection)) continue;
    const found = await findDanglingReferences(
      conn,
      { collection: from.collection, path: from.path.join('.') },
      { collection: to.collection, path: to.path.join('.') },
    );
    if (found.dangling > 0) {
      out.push({ relation: `${r.from} -> ${r.to}`, from: r.from, to: r.to, dangling: found.dangling, examples: found.examples });
    }
  }
  return out;
}
