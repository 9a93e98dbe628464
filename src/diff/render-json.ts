/**
 * JSON output of a snapshot diff (`dbsnap diff --format json`).
 *
 * Schema, version 1. Keys always appear in the order shown; the output is
 * `JSON.stringify(value, null, 2)` plus a trailing newline. Every BSON value (`id`, `doc`, `old`,
 * `new`, index definitions) is canonical Extended JSON (`EJSON.serialize(v, { relaxed: false })`,
 * with `undefined` written as `{"$undefined": true}`), so no type information is lost:
 * `{"$numberInt": "5"}` and `{"$numberDouble": "5.0"}` stay different.
 *
 * ```
 * SnapshotDiff = {
 *   "format": "dbsnap-diff",
 *   "version": 1,
 *   "from": string,                      // label of the old side (ref as the user gave it)
 *   "to": string,                        // label of the new side
 *   "stat": boolean,                     // true: counts only, "documents" left out of every collection
 *   "totals": {
 *     "collections": { "added": n, "removed": n, "changed": n, "unchanged": n },
 *     "documents":   { "added": n, "removed": n, "changed": n }
 *   },
 *   "collections": [CollectionDelta],     // every collection of either side, sorted by name
 *   "detection": {                        // only when one side is the live database
 *     "method": "change-stream" | "server-hashes" | "read",
 *     "detail": string,                   // what was asked and what it said
 *     "unchanged": [string]               // collections taken from the snapshot unread
 *   }
 * }
 * CollectionDelta = {
 *   "name": string,
 *   "status": "added" | "removed" | "changed" | "unchanged",
 *   "type": { "old": CollectionType | null, "new": CollectionType | null },
 *                                         // CollectionType = "collection" | "view" | "timeseries"; null = absent
 *   "counts": { "added": n, "removed": n, "changed": n },   // exact document counts
 *   "truncated": n,                       // document changes not listed because of the limit
 *   "documents": [DocumentChange],        // in _id order, at most `limit` (absent when stat is true)
 *   "indexes": {
 *     "added":   [IndexDefinition],       // sorted by index name
 *     "removed": [IndexDefinition],
 *     "changed": [{ "name": string, "old": IndexDefinition, "new": IndexDefinition, "fields": [FieldChange] }]
 *   },
 *   "options": [FieldChange]              // collection options: validator, collation, capped, viewOn, pipeline ...
 * }
 * DocumentChange =
 *     { "kind": "added",   "id": EJSON, "doc": EJSON }
 *   | { "kind": "removed", "id": EJSON, "doc": EJSON }
 *   | { "kind": "changed", "id": EJSON, "fields": [FieldChange] }
 * FieldChange = {
 *   "path": string,                       // "address.city", "items[2].qty", "[\"odd key\"]"; "" = the document itself
 *   "kind": "added" | "removed" | "changed" | "typeChanged" | "reordered",
 *   "oldType": string, "newType": string, // typeChanged only: BSON type names ("Int32", "Decimal128", "String" ...)
 *   "old": EJSON,                         // removed, changed, typeChanged; reordered: old field names in order
 *   "new": EJSON,                         // added, changed, typeChanged; reordered: new field names in order
 *   "encrypted": true                     // only for encrypted values; "old"/"new" are then left out
 * }
 * ```
 * Array paths: removed elements carry their old index, added and changed ones their new index.
 */
import { toCanonicalEjson } from './ejson.js';
import type { CollectionDelta, DocumentChange, FieldChange, SnapshotDiff } from './types.js';

export const JSON_SCHEMA_VERSION = 1;

/** A field change as JSON (values as canonical Extended JSON). */
export function fieldJson(f: FieldChange): Record<string, unknown> {
  const out: Record<string, unknown> = { path: f.path, kind: f.kind };
  if (f.oldType !== undefined) out.oldType = f.oldType;
  if (f.newType !== undefined) out.newType = f.newType;
  if ('old' in f) out.old = toCanonicalEjson(f.old);
  if ('new' in f) out.new = toCanonicalEjson(f.new);
  if (f.encrypted) out.encrypted = true;
  return out;
}

function documentJson(d: DocumentChange): Record<string, unknown> {
  if (d.kind === 'changed') return { kind: d.kind, id: toCanonicalEjson(d.id), fields: d.fields.map(fieldJson) };
  return { kind: d.kind, id: toCanonicalEjson(d.id), doc: toCanonicalEjson(d.doc) };
}

function collectionJson(c: CollectionDelta, stat: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: c.name,
    status: c.status,
    type: { old: c.type.old, new: c.type.new },
    counts: { added: c.counts.added, removed: c.counts.removed, changed: c.counts.changed },
    truncated: c.truncated,
  };
  if (!stat) out.documents = c.documents.map(documentJson);
  out.indexes = {
    added: c.indexes.added.map(toCanonicalEjson),
    removed: c.indexes.removed.map(toCanonicalEjson),
    changed: c.indexes.changed.map((ix) => ({
      name: ix.name,
      old: toCanonicalEjson(ix.old),
      new: toCanonicalEjson(ix.new),
      fields: ix.fields.map(fieldJson),
    })),
  };
  out.options = c.options.map(fieldJson);
  return out;
}

/**
 * The diff as JSON text in the schema documented at the top of this file (2-space indent,
 * trailing newline). `stat: true` leaves out the document lists (`--stat`).
 *
 * @example process.stdout.write(renderJson(await diffSnapshots(a, b, { fromLabel: 'v1', toLabel: 'v2' })));
 */
export function renderJson(d: SnapshotDiff, opts: { stat?: boolean } = {}): string {
  const stat = opts.stat ?? false;
  const value = {
    format: 'dbsnap-diff',
    version: JSON_SCHEMA_VERSION,
    from: d.from,
    to: d.to,
    stat,
    totals: {
      collections: { ...d.totals.collections },
      documents: { ...d.totals.documents },
    },
    collections: d.collections.map((c) => collectionJson(c, stat)),
    // A live side only: how unchanged collections were known without reading them.
    ...(d.detection ? { detection: { method: d.detection.method, detail: d.detection.detail, unchanged: d.detection.unchanged } } : {}),
  };
  return JSON.stringify(value, null, 2) + '\n';
}
