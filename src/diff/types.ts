/**
 * The diff engine's input and output, as plain data. Values inside (`id`, `doc`, `old`, `new`)
 * are BSON values as decoded with wrapper types kept (Int32, Double, Decimal128 ...); the JSON
 * renderer turns them into canonical Extended JSON, the other renderers into short descriptions.
 */
import type { Document } from 'bson';
import type { CollectionType } from '../canonical/format.js';
import type { PartBytes } from '../canonical/part-entries.js';

/** One part file of a collection, loaded only when the diff needs its documents. */
export interface PartRef {
  /** Part name. Two parts with equal names (on either side) start at the same `_id`. */
  name: string;
  /** Git blob id of the part file: equal ids mean equal content. */
  blobId: string;
  /** Number of documents in the part. */
  count: number;
  /** The part file's size in bytes as listed, when known: what reading it ahead costs in memory. */
  size?: number;
  /** Reads the part's documents, sorted by `_id` in BSON order. */
  load(): Promise<Document[]>;
  /**
   * Optional, cheaper: the part's documents as canonical text with their `_id`, decoded only on
   * demand. Two documents with equal text are equal, so the engine decodes only those that differ.
   */
  loadEntries?(): Promise<DocumentEntry[]>;
  /**
   * Optional: the part file's bytes as stored. When both parts of a pair with equal names offer
   * them, the engine leaves out the documents whose bytes the two share at the start and at the
   * end (partEntryPair) and decodes only the rest.
   */
  loadBytes?(): Promise<PartBytes>;
}

/** One document of a part, as its canonical text (absent if unknown); `doc()` decodes it (once). */
export interface DocumentEntry {
  id: unknown;
  text?: string;
  doc(): Document;
}

export type { CollectionType } from '../canonical/format.js';
export type { PartBytes } from '../canonical/part-entries.js';

export interface CollectionMeta {
  type: CollectionType;
  options: Document;
  indexes: Document[];
}

/** One collection of one snapshot. */
export interface CollectionSide {
  name: string;
  meta: CollectionMeta;
  /** Parts in `_id` order. */
  parts: PartRef[];
}

/** Options of diffCollection (the `diff` operation's options are core/diff.ts' DiffOptions). */
export interface CollectionDiffOptions {
  /** Most document changes kept per collection; counts stay exact. Default 100. */
  limit?: number;
  /** True for values that must not be shown (encrypted fields): reported as "encrypted value changed". */
  encryptedMarker?: (v: unknown) => boolean;
}

export interface SnapshotDiffOptions extends CollectionDiffOptions {
  fromLabel: string;
  toLabel: string;
}

export type FieldChangeKind = 'added' | 'removed' | 'changed' | 'typeChanged' | 'reordered';

/**
 * One difference inside a document (or inside collection options, or an index definition).
 *
 * `path` is `address.city`, `items[2].qty`, or `["odd key"]` for keys that are not identifiers;
 * `''` means the document itself (only for `reordered` of the top level).
 * - `added`: `new` holds the value; `removed`: `old` holds it.
 * - `changed`: same type, different value (`old`, `new`).
 * - `typeChanged`: different BSON types (`old`, `new`, `oldType`, `newType`); Int32 5 -> Double 5.0 is one.
 * - `reordered`: same fields, different order; `old`/`new` are the field names in order.
 * - `encrypted: true`: the value is encrypted; `old`/`new` are left out on purpose.
 * Array elements: equal lengths compare per index; otherwise (<= 200 elements each) an LCS on
 * element equality, where `removed` paths use the old index and `added`/`changed` paths the new
 * index; longer arrays are replaced whole (`changed` at the array's path).
 */
export interface FieldChange {
  path: string;
  kind: FieldChangeKind;
  old?: unknown;
  new?: unknown;
  oldType?: string;
  newType?: string;
  encrypted?: true;
}

export type DocumentChange =
  | { kind: 'added'; id: unknown; doc: Document }
  | { kind: 'removed'; id: unknown; doc: Document }
  | { kind: 'changed'; id: unknown; fields: FieldChange[] };

export interface IndexChange {
  name: string;
  old: Document;
  new: Document;
  /** What differs between the two definitions (e.g. `unique` added). */
  fields: FieldChange[];
}

export interface IndexDelta {
  added: Document[];
  removed: Document[];
  changed: IndexChange[];
}

export interface DocumentCounts {
  added: number;
  removed: number;
  changed: number;
}

export type CollectionStatus = 'added' | 'removed' | 'changed' | 'unchanged';

export interface CollectionDelta {
  name: string;
  status: CollectionStatus;
  /** Collection type on each side (`null` where the collection does not exist). */
  type: { old: CollectionType | null; new: CollectionType | null };
  /** Exact numbers of changed documents, whatever `limit` kept. */
  counts: DocumentCounts;
  /** Document changes left out of `documents` because of `limit`. */
  truncated: number;
  /** Document changes in `_id` order, at most `limit`. */
  documents: DocumentChange[];
  indexes: IndexDelta;
  /** Changes of the collection options (validator, collation, capped, view pipeline ...). */
  options: FieldChange[];
}

export interface SnapshotTotals {
  collections: { added: number; removed: number; changed: number; unchanged: number };
  documents: DocumentCounts;
}

export interface SnapshotDiff {
  from: string;
  to: string;
  /** Every collection of either side, sorted by name, unchanged ones included. */
  collections: CollectionDelta[];
  totals: SnapshotTotals;
  /** A live side only: how its unchanged collections were recognised without reading them. */
  detection?: { method: 'change-stream' | 'server-hashes' | 'read'; detail: string; unchanged: string[] };
}
