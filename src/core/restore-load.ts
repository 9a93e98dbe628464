/**
 * Restore's writing steps: documents streamed from the snapshot into the target in batches
 * (replace: into temporary collections that are verified and then swapped in; merge: upserted),
 * each loaded collection verified against the snapshot, and views recreated after.
 */
import { randomBytes } from 'node:crypto';
import { EJSON, type Document } from 'bson';
import { serializeDocument } from '../canonical/bson-serializer.js';
import { documentId } from '../canonical/document-id.js';
import { partFileText, writeDocument, writeDocumentObject } from '../canonical/document-writer.js';
import { encodeCollection } from '../canonical/encode-collection.js';
import type { CollectionEntry, RepositoryConfig } from '../canonical/format.js';
import { createMd5, sha256Hex } from '../crypto/hash.js';
import {
  CorruptSnapshotError,
  DbsnapError,
  FormatError,
  InterruptedError,
  KeyError,
  RestoreFailedError,
  UnsupportedFeatureError,
} from '../errors/index.js';
import type { Connection } from '../mongo/connection.js';
import { collectionHashes, listCollections, readRawDocuments } from '../mongo/reader.js';
import { isLocalSource } from '../mongo/uri.js';
import {
  countDocuments,
  createCollection,
  createIndexes,
  dropCollection,
  findRawByIds,
  insertBatch,
  insertRawBatch,
  listTempCollections,
  rawInsertAvailable,
  renameCollection,
  type BsonDocuments,
  TEMP_PREFIX,
  upsertBatch,
} from '../mongo/writer.js';
import type { RestorePlan } from './restore-plan.js';
import type { RestoredCollection, RestoreOptions, RestoreResult } from './restore-report.js';
import { checkAborted, checkedParts, checkWritable, type SelectedCollection } from './restore-validate.js';
import type { SnapshotRef } from './snapshot.js';

/** Documents per insert batch, and a cap on the batch's text size (the driver splits further if needed). */
const BATCH_DOCS = 1000;
const BATCH_BYTES = 4 * 1024 * 1024;

export interface LoadContext {
  conn: Connection;
  snap: SnapshotRef;
  config: RepositoryConfig;
  opts: RestoreOptions;
  restoreTransform: (collection: string) => ((doc: Document) => Document) | undefined;
  verifyTransform?: (collection: string) => ((doc: Uint8Array) => Document | Uint8Array) | undefined;
}

/** Where loaded batches go: documents for the driver to serialise, or ready BSON. */
type BatchSink = { bson: false; write: (docs: Document[]) => Promise<void> } | { bson: true; write: (runs: BsonDocuments[]) => Promise<void> };

/**
 * Streams the snapshot's documents (checked, then decrypted/masked) into `sink` in batches, in
 * `_id` order. Returns the count and the MD5 of the BSON bytes sent, in order: what the server's
 * `dbHash` reports for a collection holding exactly those documents.
 *
 * A BSON sink gets each canonical part's documents as the bytes read straight from its text
 * (readCanonicalPart), with no decoding into values and no serialising by the driver; other parts
 * (encrypted values, rare types, or a snapshot written otherwise) are decoded and serialised here.
 */
async function loadDocuments(ctx: LoadContext, entry: CollectionEntry, sink: BatchSink): Promise<{ documents: number; md5: string }> {
  const transform = ctx.restoreTransform(entry.name);
  // Documents written unchanged are the source's own bytes, whose MD5 commit recorded; only
  // rewritten (decrypted, masked) ones need hashing here.
  const recorded = transform ? undefined : entry.bsonMd5;
  const md5 = recorded ? null : createMd5();
  // Documents (for the driver) or runs of BSON documents (for a BSON sink), and how many documents.
  let batch: (Document | BsonDocuments)[] = [];
  let batchDocuments = 0;
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
    if (batchDocuments === 0) return;
    checkAborted(ctx.opts.signal, 'every target collection is as it was');
    await settle();
    const items = batch;
    const count = batchDocuments;
    batch = [];
    batchDocuments = 0;
    bytes = 0;
    const written = sink.bson ? sink.write(items as BsonDocuments[]) : sink.write(items as Document[]);
    inFlight = written.then(
      () => {
        done += count;
        ctx.opts.onProgress?.({ phase: 'restore', collection: entry.name, done, total: entry.documents });
      },
      (err: unknown) => {
        writeError ??= err;
      },
    );
  };
  ctx.opts.onProgress?.({ phase: 'restore', collection: entry.name, done: 0, total: entry.documents });
  // The bytes of every part were checked against their hashes just before (validateCollection).
  for await (const part of checkedParts(ctx.snap, entry, { hashChecked: true, bson: sink.bson && !transform })) {
    if (part.bson) {
      if (md5) md5.update(part.bson.bson);
      batch.push(part.bson);
      batchDocuments += part.bson.documents;
    } else {
      // Ready BSON is written exactly, deprecated types too; the driver would alter them.
      if (!sink.bson) for (const doc of part.docs!) checkWritable(entry, doc);
      const docs = transform ? part.docs!.map(transform) : part.docs!;
      for (const doc of docs) {
        const serialized = md5 || sink.bson ? serializeDocument(doc) : undefined;
        if (md5) md5.update(serialized!);
        batch.push(sink.bson ? { bson: serialized!, starts: [0, serialized!.length] } : doc);
      }
      batchDocuments += docs.length;
    }
    bytes += part.bytes;
    if (batchDocuments >= BATCH_DOCS || bytes >= BATCH_BYTES) await flush();
  }
  await flush();
  await settle();
  return { documents: done, md5: recorded ?? md5!.digestHex() };
}

/** The target holds another number of documents than the snapshot after loading. */
function countMismatch(entry: CollectionEntry, written: number): RestoreFailedError {
  return new RestoreFailedError(`${written} documents were written, the snapshot has ${entry.documents}`, { collection: entry.name, expected: entry.documents, found: written });
}

/** Re-encodes a live collection exactly as commit would and compares it with the snapshot entry. */
async function verifyLoaded(
  ctx: LoadContext,
  entry: CollectionEntry,
  live: string,
  sent: { documents: number; md5: string },
): Promise<RestoredCollection['check']> {
  ctx.opts.onProgress?.({ phase: 'verify', collection: entry.name, done: 0, total: entry.documents });
  if (sent.documents !== entry.documents) throw countMismatch(entry, sent.documents);
  // Where the server hashes collections, its hash of the loaded copy must equal the hash of the
  // exact bytes restore sent, which are the snapshot's documents: no read back needed.
  // A server whose hash differs (another algorithm, or a value stored differently) gets the
  // read-back check below, which says exactly what differs.
  // dbHash locks the target database against writes while it runs: only where allowed
  // (README "Knowing that nothing changed"); elsewhere the read-back below checks the same.
  const hashAllowed =
    !ctx.opts.readBack && (ctx.opts.useServerHashes ?? ctx.config.serverHashes ?? isLocalSource(ctx.conn.source.hosts, ctx.conn.source.scheme));
  const serverHash = hashAllowed ? (await collectionHashes(ctx.conn, [live]))?.[live] : undefined;
  if (serverHash && serverHash === sent.md5) return ctx.opts.mask ? 'count' : 'server-hash';
  if (ctx.opts.mask) {
    const n = await countDocuments(ctx.conn, live);
    if (n !== entry.documents) throw countMismatch(entry, n);
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
    throw new RestoreFailedError(
      `read back ${encoded.documents} documents hashing to ${encoded.sha256.slice(0, 12)}..., ` +
        `but the snapshot has ${entry.documents} documents hashing to ${entry.sha256.slice(0, 12)}... ` +
        '(a value the server or driver cannot store exactly?)',
      { collection: entry.name, expected: { documents: entry.documents, sha256: entry.sha256 }, found: { documents: encoded.documents, sha256: encoded.sha256 } },
    );
  }
  ctx.opts.onProgress?.({ phase: 'verify', collection: entry.name, done: entry.documents, total: entry.documents });
  return 'hash';
}

export async function replaceCollections(ctx: LoadContext, selected: SelectedCollection[], plan: RestorePlan, result: RestoreResult): Promise<void> {
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
      const sink: BatchSink =
        ctx.opts.rawInsert !== false && rawInsertAvailable()
          ? { bson: true, write: (docs) => insertRawBatch(ctx.conn, live, docs) }
          : { bson: false, write: (docs) => insertBatch(ctx.conn, live, docs) };
      const sent = await loadDocuments(ctx, s.entry, sink);
      await createIndexes(ctx.conn, live, s.meta.indexes);
      const check = await verifyLoaded(ctx, s.entry, live, sent);
      result.restored.push({ name: planned.name, type: s.entry.type, action: planned.action, documents: s.entry.documents, check });
    }
  } catch (err) {
    const left = await dropTemporaries(ctx, loaded.map((l) => l.live));
    result.restored = [];
    throw failure(err, current, `every target collection is as it was; ${left.text}`, left.left);
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
      const left = await dropTemporaries(ctx, [l.live, ...rest.map((x) => x.live)]);
      throw new RestoreFailedError(
        `restore failed while swapping in "${l.name}": ${(err as Error).message}. ` +
          `Already restored: ${swapped.join(', ') || '(none)'}; not restored: ${[l.name, ...rest.map((x) => x.name)].join(', ')}` +
          (result.safetySnapshot ? `; the previous data is in ${result.safetySnapshot.ref}` : '') +
          `; ${left.text}.`,
        { collection: l.name, swapped, temp: l.live, temporariesLeft: left.left },
      );
    }
  }
  for (const r of result.restored) {
    result.verified.collections++;
    result.verified.documents += r.documents;
  }
}

export async function mergeCollections(ctx: LoadContext, selected: SelectedCollection[], plan: RestorePlan, result: RestoreResult): Promise<void> {
  const byName = new Map(selected.map((s) => [s.entry.name, s]));
  let current = '';
  try {
    for (const planned of plan.collections) {
      current = planned.name;
      const s = byName.get(planned.name)!;
      if (planned.existingDocuments === undefined) await createCollection(ctx.conn, planned.name, s.meta.options);
      await loadDocuments(ctx, s.entry, { bson: false, write: (docs) => upsertBatch(ctx.conn, planned.name, docs, docs.map(documentId)) });
      await createIndexes(ctx.conn, planned.name, s.meta.indexes);
      // The target holds other documents too: check the restored ones, part by part, against
      // the snapshot's own bytes (read back, written as commit writes them, hashed), never
      // against a re-serialised copy of what was sent, which can agree with a wrong result.
      const checked = await verifyMerged(ctx, s.entry, planned.name);
      const total = await countDocuments(ctx.conn, planned.name);
      result.restored.push({ name: planned.name, type: s.entry.type, action: 'merge', documents: checked, check: ctx.opts.mask ? 'count' : 'documents', kept: total - checked });
      result.verified.collections++;
      result.verified.documents += checked;
    }
  } catch (err) {
    // Merge writes in place: what was upserted before the failure stays, this collection's too.
    const done = result.restored.map((r) => r.name);
    throw failure(
      err,
      current,
      `documents already upserted stay: into "${current}"${done.length ? ` and ${done.join(', ')}` : ''}${result.safetySnapshot ? `; the previous data is in ${result.safetySnapshot.ref}` : ''}`,
    );
  }
}

/** Reads back the documents of each snapshot part and checks them against the part's hash. */
async function verifyMerged(ctx: LoadContext, entry: CollectionEntry, name: string): Promise<number> {
  const transform = ctx.verifyTransform?.(entry.name);
  let checked = 0;
  for await (const part of checkedParts(ctx.snap, entry, { hashChecked: true })) {
    checkAborted(ctx.opts.signal, 'collections merged before it stay merged');
    const ids = part.docs!.map(documentId);
    const found = await findRawByIds(ctx.conn, name, ids);
    const where = `${entry.name} near _id ${EJSON.stringify(ids[0] as Document)}`;
    if (found.length !== ids.length) throw new RestoreFailedError(`${where}: ${found.length} of the ${ids.length} restored documents are there`, { collection: entry.name, part: part.file, expected: ids.length, found: found.length });
    if (!ctx.opts.mask) {
      const texts = found.map((raw) => {
        const source = transform ? transform(raw) : raw;
        return (source instanceof Uint8Array ? writeDocument(source, { sortKeys: ctx.config.sortKeys }) : writeDocumentObject(source, { sortKeys: ctx.config.sortKeys })).text;
      });
      const sha = sha256Hex(Buffer.from(partFileText(texts), 'utf8'));
      const expected = entry.parts[part.index]!.sha256;
      if (sha !== expected) {
        throw new RestoreFailedError(`${where}: the documents read back are not the snapshot's (part ${part.file} hashes to ${sha.slice(0, 12)}..., the snapshot's to ${expected.slice(0, 12)}...)`, { collection: entry.name, part: part.file, expected, found: sha });
      }
    }
    checked += ids.length;
  }
  return checked;
}

export async function recreateViews(ctx: LoadContext, selected: SelectedCollection[], plan: RestorePlan, result: RestoreResult): Promise<void> {
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
        throw new RestoreFailedError(`the server reports its definition as ${now ? EJSON.stringify(now.options, { relaxed: false }) : '(missing)'}, not ${want}`, { collection: v.name });
      }
    } catch (err) {
      throw failure(err, v.name, 'collections were restored, views before it were recreated');
    }
    result.restored.push({ name: v.name, type: 'view', action: v.action, documents: 0, check: 'view' });
    result.verified.collections++;
  }
}

/**
 * Drops temporary collections after a failure and says exactly what happened: dropped (checked
 * by listing them again), or which are left and how to remove them. The connection may be the
 * reason for the failure, so none of this may throw.
 */
async function dropTemporaries(ctx: LoadContext, names: string[]): Promise<{ text: string; left: string[] }> {
  if (names.length === 0) return { text: 'no temporary collection had been created', left: [] };
  for (const n of names) await dropCollection(ctx.conn, n).catch(() => {});
  let left: string[];
  try {
    const now = new Set(await listTempCollections(ctx.conn));
    left = names.filter((n) => now.has(n));
  } catch {
    left = names;
  }
  if (left.length === 0) return { text: `its temporary collection${names.length === 1 ? ' was' : 's were'} dropped`, left };
  return {
    text:
      `${left.length} temporary collection${left.length === 1 ? '' : 's'} could not be dropped or checked (${left.join(', ')}); ` +
      `the next dbsnap restore into ${ctx.conn.dbName} drops ${left.length === 1 ? 'it' : 'them'}, or run: dbsnap restore --cleanup --db ${ctx.conn.dbName}`,
    left,
  };
}

// What an error raised before the target was touched claims; once writing has begun, the state
// found after the failure replaces it.
const NOTHING_CHANGED = /nothing was changed/i;

/**
 * The error a failed load ends with: `state` is what is true of the target now (checked), so the
 * message says it, in place of any "nothing was changed" the original error assumed.
 */
function failure(err: unknown, collection: string, state: string, temporariesLeft: string[] = []): DbsnapError {
  const left = temporariesLeft.length ? { temporariesLeft } : {};
  if (err instanceof InterruptedError) return new InterruptedError(`restore interrupted while restoring "${collection}"; ${state}.`, { collection, ...left });
  // A fault of the snapshot, the key or the target's abilities keeps its own code (and class).
  if (err instanceof CorruptSnapshotError || err instanceof FormatError || err instanceof UnsupportedFeatureError || err instanceof KeyError) {
    const Err = err.constructor as new (message: string, data: Record<string, unknown>, options?: { cause?: unknown }) => DbsnapError;
    const sentence = (at: number) => at === 0 || /[.!?]\s*$/.test(err.message.slice(0, at));
    const at = err.message.search(NOTHING_CHANGED);
    const message =
      at === -1
        ? `${err.message.replace(/[.\s]*$/, '')}. ${capitalised(state)}.`
        : err.message.slice(0, at) + (sentence(at) ? capitalised(state) : state) + err.message.slice(at + 'nothing was changed'.length);
    return new Err(message, { ...err.data, ...left }, { cause: err });
  }
  const cause = err instanceof Error ? err.message : String(err);
  return new RestoreFailedError(`restore failed at collection "${collection}": ${cause}. ${capitalised(state)}.`, {
    collection,
    cause,
    ...(err instanceof DbsnapError ? { causeCode: err.code } : {}),
    ...left,
  });
}

function capitalised(text: string): string {
  return `${text[0]!.toUpperCase()}${text.slice(1)}`;
}
