/**
 * The diff engine: two snapshots' collections -> deltas as data. Pure apart from calling
 * `PartRef.load()`; no strings for humans are produced here.
 *
 * Cost follows the change. Parts are cut content-defined, so two parts with equal names start at
 * the same `_id` on both sides, and equal blob ids mean equal documents. The merge walks both part
 * lists in order, skips equal parts without loading them, and loads only where the sides differ;
 * at most one part per side is held in memory.
 */
import type { Document } from 'bson';
import { compareBsonValues } from '../canonical/bson-order.js';
import { documentId } from '../canonical/document-id.js';
import { partEntryPair, type PartBytes } from '../canonical/part-entries.js';
import { CorruptSnapshotError, InvalidArgumentError } from '../errors/index.js';
import { bsonEquals } from './bson-value.js';
import { diffDocumentFields, diffValues, type FieldDiffContext } from './document-diff.js';
import type {
  CollectionDelta,
  CollectionMeta,
  CollectionSide,
  CollectionStatus,
  CollectionDiffOptions,
  DocumentChange,
  DocumentCounts,
  DocumentEntry,
  FieldChange,
  IndexDelta,
  PartRef,
  SnapshotDiff,
  SnapshotDiffOptions,
} from './types.js';

export const DEFAULT_LIMIT = 100;

/** A buffered document: decoded already (plain `load()`), or text decoded on demand. */
type Buffered = DocumentEntry;

function decoded(doc: Document): Buffered {
  return { id: documentId(doc), doc: () => doc };
}

/** Position in one side's `_id`-ordered stream of parts. */
class PartCursor {
  /** Index of the next part not yet loaded or skipped. */
  next = 0;
  private buffer: Buffered[] = [];
  private pos = 0;
  /**
   * `_id` of the last document taken. Skipped or uncounted documents lie between it and the next
   * one, so it stays a valid lower bound for the order check across parts.
   */
  private lastId: unknown;
  private hasLastId = false;
  private readonly indexByName = new Map<string, number>();
  /** Parts whose bytes are being read ahead (readAhead), by index, and their listed sizes in all. */
  private readonly ahead = new Map<number, { bytes: Promise<PartBytes>; size: number }>();
  private aheadSize = 0;

  constructor(
    readonly collection: string,
    readonly side: 'from' | 'to',
    readonly parts: PartRef[],
  ) {
    parts.forEach((p, i) => this.indexByName.set(p.name, i));
  }

  /** No buffered documents left: the cursor stands at the start of `parts[next]`. */
  get atBoundary(): boolean {
    return this.pos >= this.buffer.length;
  }

  get done(): boolean {
    return this.atBoundary && this.next >= this.parts.length;
  }

  get nextPart(): PartRef | undefined {
    return this.parts[this.next];
  }

  get buffered(): number {
    return this.buffer.length - this.pos;
  }

  indexOf(name: string): number {
    return this.indexByName.get(name) ?? -1;
  }

  skipPart(): void {
    this.next++;
    this.forgetBehind();
  }

  /** The bytes of `parts[i]` (which offers loadBytes), from the read ahead if it was started. */
  bytesOf(i: number): Promise<PartBytes> {
    const got = this.ahead.get(i);
    if (!got) return this.parts[i]!.loadBytes!();
    this.ahead.delete(i);
    this.aheadSize -= got.size;
    return got.bytes;
  }

  /** Whether `parts[i]` can still be read ahead within the budget. */
  canReadAhead(i: number): boolean {
    const size = this.parts[i]?.size;
    return size !== undefined && this.ahead.size < READ_AHEAD_PARTS && this.aheadSize + size <= READ_AHEAD_BYTES;
  }

  /** Starts reading `parts[i]`'s bytes; bytesOf(i) takes them. */
  readAhead(i: number): void {
    if (this.ahead.has(i)) return;
    const part = this.parts[i]!;
    const bytes = part.loadBytes!();
    bytes.catch(() => {}); // a failure surfaces where bytesOf is awaited
    this.ahead.set(i, { bytes, size: part.size! });
    this.aheadSize += part.size!;
  }

  /** Lets go of reads ahead of parts the cursor went past without taking their bytes. */
  private forgetBehind(): void {
    if (this.ahead.size === 0) return;
    for (const [i, got] of this.ahead) {
      if (i >= this.next) continue;
      this.ahead.delete(i);
      this.aheadSize -= got.size;
    }
  }

  async loadPart(): Promise<void> {
    const part = this.parts[this.next]!;
    this.usePart(part.loadEntries ? await part.loadEntries() : (await part.load()).map(decoded));
  }

  /** Stands at the start of `parts[next]` having read it: `entries` are what is left to take of it. */
  usePart(entries: Buffered[]): void {
    this.next++;
    this.forgetBehind();
    this.buffer = entries;
    this.pos = 0;
  }

  /** Drops the buffer without looking at it (its documents were counted). */
  discardBuffer(): void {
    this.buffer = [];
    this.pos = 0;
  }

  headId(): unknown {
    return this.buffer[this.pos]!.id;
  }

  take(): Buffered {
    const doc = this.buffer[this.pos++]!;
    if (this.hasLastId && compareBsonValues(this.lastId, doc.id) >= 0) {
      throw new CorruptSnapshotError(
        `collection ${this.collection} (${this.side} side): part ${this.parts[this.next - 1]?.name} is not sorted by _id ` +
          `or holds a duplicate _id. The snapshot may have been edited by hand; run dbsnap verify for details.`,
        { collection: this.collection, side: this.side, part: this.parts[this.next - 1]?.name },
      );
    }
    this.lastId = doc.id;
    this.hasLastId = true;
    // Let the part go as soon as it is consumed: memory stays bounded by the parts in play.
    if (this.pos >= this.buffer.length) this.discardBuffer();
    return doc;
  }
}

/** Collects document changes, keeping at most `limit` while counting all. */
class ChangeSink {
  readonly counts: DocumentCounts = { added: 0, removed: 0, changed: 0 };
  readonly documents: DocumentChange[] = [];
  truncated = 0;

  constructor(
    private readonly limit: number,
    private readonly ctx: FieldDiffContext,
  ) {}

  get full(): boolean {
    return this.documents.length >= this.limit;
  }

  oneSided(kind: 'added' | 'removed', entry: Buffered): void {
    this.counts[kind]++;
    if (this.full) this.truncated++;
    else {
      this.documents.push({ kind, id: entry.id, doc: entry.doc() });
    }
  }

  /** Counts documents that were never loaded (the sink is full, so they would not be kept). */
  countUnseen(kind: 'added' | 'removed', n: number): void {
    this.counts[kind] += n;
    this.truncated += n;
  }

  compare(oldEntry: Buffered, newEntry: Buffered): void {
    // Canonical text is a function of the document: equal text, equal document, nothing to decode.
    if (oldEntry.text !== undefined && oldEntry.text === newEntry.text) return;
    const oldDoc = oldEntry.doc();
    const newDoc = newEntry.doc();
    if (bsonEquals(oldDoc, newDoc)) return;
    this.counts.changed++;
    if (this.full) {
      this.truncated++;
      return;
    }
    const fields: FieldChange[] = [];
    diffDocumentFields(oldDoc, newDoc, '', fields, this.ctx);
    this.documents.push({ kind: 'changed', id: newEntry.id, fields });
  }
}

/**
 * Emits the documents of `cursor` up to (not including) part index `stopAt` as one-sided:
 * they exist on this side only. Parts are loaded only while changes are still being kept.
 */
async function drainOneSided(
  cursor: PartCursor,
  stopAt: number,
  kind: 'added' | 'removed',
  sink: ChangeSink,
): Promise<void> {
  for (;;) {
    if (!cursor.atBoundary) {
      if (sink.full) {
        sink.countUnseen(kind, cursor.buffered);
        cursor.discardBuffer();
      } else {
        sink.oneSided(kind, cursor.take());
      }
      continue;
    }
    if (cursor.next >= stopAt) return;
    if (sink.full) {
      sink.countUnseen(kind, cursor.nextPart!.count);
      cursor.skipPart();
    } else {
      await cursor.loadPart();
    }
  }
}

/**
 * If `waiting` stands at a part boundary, finds how far `other` may run alone: every document of
 * `other` before the part named like `waiting`'s next part (or all of them, if `waiting` is
 * done) has an `_id` that `waiting` does not hold. Returns the part index to stop at, or -1.
 */
function oneSidedRun(waiting: PartCursor, other: PartCursor): number {
  if (!waiting.atBoundary || other.done) return -1;
  if (waiting.done) return other.parts.length;
  const k = other.indexOf(waiting.nextPart!.name);
  if (k < other.next) return -1;
  // k === other.next with `other` at a boundary too is the equal-name case, handled by the caller.
  if (k === other.next && other.atBoundary) return -1;
  return k;
}

/** How many parts, and how many bytes of them, each side reads ahead of the pair it compares. */
const READ_AHEAD_PARTS = 8;
const READ_AHEAD_BYTES = 4 * 1024 * 1024;

/**
 * Starts reading the next pairs of parts the merge will compare byte for byte (the same name on
 * both sides, different blob ids), so that the file reads overlap the comparing and one another
 * instead of each pair waiting for its own. Parts whose size is not listed are not read ahead.
 */
function readPairsAhead(from: PartCursor, to: PartCursor): void {
  for (let i = from.next + 1; i < from.parts.length && i <= from.next + READ_AHEAD_PARTS; i++) {
    const a = from.parts[i]!;
    const k = to.indexOf(a.name);
    if (k <= to.next) continue;
    const b = to.parts[k]!;
    if (a.blobId === b.blobId || !a.loadBytes || !b.loadBytes) continue;
    if (!from.canReadAhead(i) || !to.canReadAhead(k)) return;
    from.readAhead(i);
    to.readAhead(k);
  }
}

async function mergeDocuments(from: PartCursor, to: PartCursor, sink: ChangeSink): Promise<void> {
  while (!(from.done && to.done)) {
    if (from.atBoundary && to.atBoundary && !from.done && !to.done) {
      const a = from.nextPart!;
      const b = to.nextPart!;
      if (a.name === b.name) {
        if (a.blobId === b.blobId) {
          from.skipPart();
          to.skipPart();
          continue;
        }
        // Both sides' reads (and inflates) overlap.
        if (a.loadBytes && b.loadBytes) {
          const read = Promise.all([from.bytesOf(from.next), to.bytesOf(to.next)]);
          readPairsAhead(from, to);
          const [x, y] = await read;
          const pair = partEntryPair(x, y);
          if (pair) {
            // The documents both share at the start and at the end are equal: only the rest is compared.
            from.usePart(pair[0]);
            to.usePart(pair[1]);
            continue;
          }
        }
        await Promise.all([from.loadPart(), to.loadPart()]);
        continue;
      }
    }
    const toAlone = oneSidedRun(from, to);
    if (toAlone >= 0) {
      await drainOneSided(to, toAlone, 'added', sink);
      continue;
    }
    const fromAlone = oneSidedRun(to, from);
    if (fromAlone >= 0) {
      await drainOneSided(from, fromAlone, 'removed', sink);
      continue;
    }
    if (from.atBoundary) {
      await from.loadPart();
      continue;
    }
    if (to.atBoundary) {
      await to.loadPart();
      continue;
    }
    const c = compareBsonValues(from.headId(), to.headId());
    if (c < 0) sink.oneSided('removed', from.take());
    else if (c > 0) sink.oneSided('added', to.take());
    else sink.compare(from.take(), to.take());
  }
}

const EMPTY_META: CollectionMeta = { type: 'collection', options: {}, indexes: [] };

function indexName(ix: Document): string {
  return typeof ix.name === 'string' ? ix.name : JSON.stringify(ix.key ?? null);
}

/** Indexes matched by name: a definition that differs under the same name is `changed`. */
export function diffIndexes(oldIndexes: Document[], newIndexes: Document[], ctx: FieldDiffContext = {}): IndexDelta {
  const oldByName = new Map(oldIndexes.map((ix) => [indexName(ix), ix]));
  const newByName = new Map(newIndexes.map((ix) => [indexName(ix), ix]));
  const delta: IndexDelta = { added: [], removed: [], changed: [] };
  for (const [name, ix] of oldByName) if (!newByName.has(name)) delta.removed.push(ix);
  for (const [name, ix] of newByName) {
    const old = oldByName.get(name);
    if (!old) {
      delta.added.push(ix);
      continue;
    }
    const fields: FieldChange[] = [];
    diffValues(old, ix, '', fields, ctx);
    if (fields.length > 0) delta.changed.push({ name, old, new: ix, fields });
  }
  const byName = (a: Document, b: Document) => (indexName(a) < indexName(b) ? -1 : indexName(a) > indexName(b) ? 1 : 0);
  delta.added.sort(byName);
  delta.removed.sort(byName);
  delta.changed.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return delta;
}

function validLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 0) {
    throw new InvalidArgumentError(`diff limit must be a whole number >= 0, got ${limit}.`, { limit });
  }
  return limit;
}

/**
 * Diffs one collection between two snapshots. `null` on one side means the collection does not
 * exist there (status `added` / `removed`; its documents, indexes and options count as added or
 * removed). Parts with equal name and blob id are never loaded.
 *
 * @example
 * const delta = await diffCollection(fromSide, toSide, { limit: 20 });
 * delta.counts; // { added: 2, removed: 0, changed: 1 }
 */
export async function diffCollection(
  from: CollectionSide | null,
  to: CollectionSide | null,
  opts: CollectionDiffOptions = {},
): Promise<CollectionDelta> {
  if (!from && !to) throw new InvalidArgumentError('diffCollection needs at least one side.');
  const name = (to ?? from)!.name;
  if (from && to && from.name !== to.name) {
    throw new InvalidArgumentError(`diffCollection compares one collection; got ${from.name} and ${to.name}.`, {
      from: from.name,
      to: to.name,
    });
  }
  const ctx: FieldDiffContext = { encryptedMarker: opts.encryptedMarker };
  const sink = new ChangeSink(validLimit(opts.limit), ctx);
  await mergeDocuments(new PartCursor(name, 'from', from?.parts ?? []), new PartCursor(name, 'to', to?.parts ?? []), sink);

  const oldMeta = from?.meta ?? EMPTY_META;
  const newMeta = to?.meta ?? EMPTY_META;
  const indexes = diffIndexes(oldMeta.indexes, newMeta.indexes, ctx);
  const options: FieldChange[] = [];
  diffDocumentFields(oldMeta.options, newMeta.options, '', options, ctx);

  const type = { old: from ? from.meta.type : null, new: to ? to.meta.type : null };
  let status: CollectionStatus;
  if (!from) status = 'added';
  else if (!to) status = 'removed';
  else {
    const changed =
      sink.counts.added + sink.counts.removed + sink.counts.changed > 0 ||
      indexes.added.length + indexes.removed.length + indexes.changed.length > 0 ||
      options.length > 0 ||
      type.old !== type.new;
    status = changed ? 'changed' : 'unchanged';
  }
  return {
    name,
    status,
    type,
    counts: sink.counts,
    truncated: sink.truncated,
    documents: sink.documents,
    indexes,
    options,
  };
}

/**
 * Diffs two snapshots given as their collections. Collections are matched by name and diffed one
 * after another. Every collection appears in the result, sorted by name, unchanged ones with
 * status `unchanged`.
 *
 * @example
 * const d = await diffSnapshots(fromSides, toSides, { fromLabel: 'v1', toLabel: 'HEAD' });
 * process.stdout.write(renderText(d));
 */
export async function diffSnapshots(
  from: CollectionSide[],
  to: CollectionSide[],
  opts: SnapshotDiffOptions,
): Promise<SnapshotDiff> {
  const fromByName = new Map(from.map((c) => [c.name, c]));
  const toByName = new Map(to.map((c) => [c.name, c]));
  const names = [...fromByName.keys(), ...toByName.keys()];
  return diffEachCollection(names, async (name) => [fromByName.get(name) ?? null, toByName.get(name) ?? null], opts);
}

/** One collection's two sides (null where it does not exist), built when the diff comes to it. */
export type SidesOf = (name: string) => Promise<[CollectionSide | null, CollectionSide | null]>;

/**
 * Diffs the named collections one after another, asking `sidesOf` for each pair of sides only
 * when its turn comes and letting it go after, so memory follows one collection, not the whole
 * snapshot. Result as diffSnapshots.
 *
 * @example
 * const d = await diffEachCollection(['orders', 'users'], (name) => sidesOfBoth(name), { fromLabel: 'v1', toLabel: 'HEAD' });
 */
export async function diffEachCollection(names: Iterable<string>, sidesOf: SidesOf, opts: SnapshotDiffOptions): Promise<SnapshotDiff> {
  const sorted = [...new Set(names)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const collections: CollectionDelta[] = [];
  const totals: SnapshotDiff['totals'] = {
    collections: { added: 0, removed: 0, changed: 0, unchanged: 0 },
    documents: { added: 0, removed: 0, changed: 0 },
  };
  for (const name of sorted) {
    const [from, to] = await sidesOf(name);
    const delta = await diffCollection(from, to, opts);
    collections.push(delta);
    totals.collections[delta.status]++;
    totals.documents.added += delta.counts.added;
    totals.documents.removed += delta.counts.removed;
    totals.documents.changed += delta.counts.changed;
  }
  return { from: opts.fromLabel, to: opts.toLabel, collections, totals };
}
