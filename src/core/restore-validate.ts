/**
 * Restore's checks before the target is touched: the target is not a protected host, the
 * selected collections exist and agree with the manifest, and their parts pass the snapshot
 * integrity checker (stopping at the first problem) and hold nothing the driver cannot write.
 */
import { findEncryptedFields } from '../crypto/index.js';
import { EJSON, type Document } from 'bson';
import { DbPointer } from '../canonical/bson-special-values.js';
import { documentId } from '../canonical/document-id.js';
import type { CollectionEntry, Manifest, RepositoryConfig } from '../canonical/format.js';
import { CollectionNotFoundError, CorruptSnapshotError, FormatError, InterruptedError, ProtectedTargetError, UnsupportedFeatureError } from '../errors/index.js';
import { protectedHostsIn, redactUri } from '../mongo/uri.js';
import type { RestoreOptions } from './restore-report.js';
import { checkCollectionEntry, checkManifestTotals, checkParts, type CheckedPart, type IntegrityEvent, type PartCheckOptions } from './snapshot-integrity.js';
import { decodeMeta, filesBesideManifest, readCollectionEntry, type SnapshotRef } from './snapshot.js';

export interface SelectedCollection {
  entry: CollectionEntry;
  meta: { options: Document; indexes: Document[] };
}

/** Refuses a target listed in the config's protectedHosts unless `force` is set. */
export function checkProtected(opts: RestoreOptions, config: RepositoryConfig): void {
  const protectedHosts = config.protectedHosts ?? [];
  if (protectedHosts.length === 0 || opts.force) return;
  const hits = protectedHostsIn(opts.uri, protectedHosts);
  if (hits.length > 0) {
    throw new ProtectedTargetError(
      `${redactUri(opts.uri)} is a protected host (${hits.join(', ')} is in protectedHosts in dbsnap.json); restore refuses to write there unless you pass --force.`,
      { hosts: hits },
    );
  }
}

/** The collections to restore (all, or those named), each entry checked against the manifest, the manifest against the tree. */
export async function selectCollections(snap: SnapshotRef, manifest: Manifest, only: string[] | undefined): Promise<SelectedCollection[]> {
  // A manifest that disagrees with itself or with the tree is a hand-edited snapshot, whatever is selected.
  const [stray] = checkManifestTotals(manifest, await filesBesideManifest(snap, Object.keys(manifest.collections)));
  if (stray) throw corrupt(snap, { problem: stray });
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
    const { entry, problems } = checkCollectionEntry(await readCollectionEntry(snap, name), name, manifest.collections[name]!);
    if (problems.length > 0 || !entry) throw corrupt(snap, { problem: problems[0]! });
    out.push({ entry, meta: decodeMeta(entry) });
  }
  return out;
}

/** The integrity checker's problem as the error restore stops with. */
function corrupt(snap: SnapshotRef, event: Extract<IntegrityEvent, { problem: unknown }>): CorruptSnapshotError | FormatError {
  const short = snap.commit.slice(0, 7);
  const p = event.problem;
  // A part the reader refused (not JSON, a bad type wrapper, a duplicated field name) keeps its code and details.
  const Err = event.cause instanceof FormatError ? FormatError : CorruptSnapshotError;
  return new Err(
    `snapshot ${short}: ${p.message} The repository may have been edited by hand; run dbsnap verify ${short} for details. Nothing was changed.`,
    {
      commit: snap.commit,
      path: p.file,
      kind: p.kind,
      ...(p.collection ? { collection: p.collection } : {}),
      ...(event.expected ? { expected: event.expected, found: event.found } : {}),
      ...(event.cause instanceof FormatError ? { ...event.cause.data, source: p.file } : {}),
    },
  );
}

/** A collection's parts, one at a time, as the integrity checker passes them; its first problem is thrown. */
export async function* checkedParts(snap: SnapshotRef, entry: CollectionEntry, opts: PartCheckOptions = {}): AsyncGenerator<CheckedPart> {
  for await (const event of checkParts(snap, entry, opts)) {
    if ('problem' in event) throw corrupt(snap, event);
    yield event.part;
  }
}

/**
 * The first value (path and kind) that the driver would silently turn into something else:
 * Undefined (written as null), DBPointer (written as a DBRef document), a date beyond a JS Date.
 * The path's keys are collected innermost first on the way out, so the walk over every field of
 * every restored document builds no path strings (it did, and that was 2-3% of a restore's CPU).
 */
function unwritableValue(value: unknown): { keys: string[]; what: string } | null {
  if (value === undefined) return { keys: [], what: 'Undefined' };
  if (value instanceof DbPointer) return { keys: [], what: 'a DBPointer' };
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? { keys: [], what: 'a date beyond year 275760' } : null;
  if (value === null || typeof value !== 'object' || typeof (value as { _bsontype?: unknown })._bsontype === 'string') return null;
  if (value instanceof Map) {
    for (const [k, v] of value) {
      const found = unwritableValue(v);
      if (found) {
        found.keys.push(String(k));
        return found;
      }
    }
    return null;
  }
  for (const k of Object.keys(value)) {
    const found = unwritableValue((value as Record<string, unknown>)[k]);
    if (found) {
      found.keys.push(k);
      return found;
    }
  }
  return null;
}

function unwritablePath(doc: Document): { path: string; what: string } | null {
  const found = unwritableValue(doc);
  return found && { path: found.keys.reverse().join('.'), what: found.what };
}

/**
 * Throws UnsupportedFeatureError for a document holding a value the driver would silently alter
 * when handed documents (merge restores); a replace restore sends BSON bytes and needs no check.
 */
export function checkWritable(entry: CollectionEntry, doc: Document): void {
  const unwritable = unwritablePath(doc);
  if (!unwritable) return;
  const id = EJSON.stringify({ _id: documentId(doc) } as Document);
  throw new UnsupportedFeatureError(
    `${entry.name} document ${id} holds ${unwritable.what} at ${unwritable.path}, ` +
      'a deprecated BSON type the MongoDB Node.js driver cannot write as a document (a merge restore hands it documents); nothing was changed. ' +
      'A replace restore (the default mode) sends the snapshot\'s own bytes and writes it exactly; or exclude this collection with --collections.',
    { collection: entry.name, path: unwritable.path },
  );
}

/**
 * Checks a collection of the snapshot before anything is written: every part's bytes against
 * collection.json, the whole against the entry (which agrees with the manifest); with
 * `parseAll`, also every document (it parses, ascends by `_id`, decrypts with the key, can be
 * written exactly).
 */
export async function validateCollection(
  snap: SnapshotRef,
  entry: CollectionEntry,
  transform: ((doc: Document) => Document) | undefined,
  opts: RestoreOptions,
  parseAll: boolean,
): Promise<{ encryptedPaths: string[] }> {
  let documents = 0;
  const flagged: number[] = [];
  const encrypted = new Set<string>();
  opts.onProgress?.({ phase: 'verify', collection: entry.name, done: 0, total: entry.documents });
  for await (const part of checkedParts(snap, entry, { parse: parseAll })) {
    checkAborted(opts.signal, 'nothing was changed');
    if (part.encrypted) {
      if (part.docs) for (const doc of part.docs) for (const p of findEncryptedFields(doc)) encrypted.add(p);
      else flagged.push(part.index);
    }
    for (const doc of part.docs ?? []) {
      checkWritable(entry, doc);
      // Decrypting now proves the key fits every encrypted value before anything is written.
      if (transform) transform(doc);
    }
    documents += part.documents;
    opts.onProgress?.({ phase: 'verify', collection: entry.name, done: documents, total: entry.documents });
  }
  // Parts whose text mentions encryption are parsed to find the encrypted fields for certain:
  // which fields are encrypted is read from the values themselves, not from today's config.
  if (flagged.length) {
    for await (const part of checkedParts(snap, entry, { hashChecked: true })) {
      if (!flagged.includes(part.index)) continue;
      for (const doc of part.docs ?? []) for (const p of findEncryptedFields(doc)) encrypted.add(p);
    }
  }
  return { encryptedPaths: [...encrypted] };
}

/** Throws InterruptedError, saying what state the target is in, once the signal has fired. */
export function checkAborted(signal: AbortSignal | undefined, state: string): void {
  if (signal?.aborted) throw new InterruptedError(`restore interrupted; ${state}.`);
}
