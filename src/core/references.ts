/**
 * References between collections (dbsnap.json `relations`) as data: values at a dotted path,
 * type-exact keys for them, and the check that every reference finds its target. Pure apart from
 * iterating the document streams it is given, so verify (snapshot parts), restore (what was
 * restored) and relations --infer share it.
 */
import { EJSON, type Document } from 'bson';
import { serializeDocument } from '../canonical/bson-serializer.js';
import { documentId } from '../canonical/document-id.js';
import type { Relation } from '../canonical/format.js';

/** A relation side resolved against known collection names: `orders.items.productId`. */
export interface RelationEnd {
  collection: string;
  /** Field path inside the documents, e.g. `['items', 'productId']`. */
  path: string[];
}

/**
 * Splits `collection.path`. Collection names may contain dots, so the longest known collection
 * name that prefixes the spec wins; without a match the first segment is the collection.
 *
 * @example
 * parseRelationEnd('orders.items.productId', ['orders']); // { collection: 'orders', path: ['items', 'productId'] }
 */
export function parseRelationEnd(spec: string, collections: Iterable<string> = []): RelationEnd {
  let best = '';
  for (const name of collections) {
    if (spec.startsWith(`${name}.`) && name.length > best.length) best = name;
  }
  const collection = best || spec.slice(0, Math.max(0, spec.indexOf('.')));
  return { collection, path: spec.slice(collection.length + 1).split('.') };
}

/** An embedded document (plain object or Map), as opposed to an array or a BSON value such as ObjectId or Date. */
export function isSubDocument(v: unknown): v is Record<string, unknown> | Map<string, unknown> {
  if (v instanceof Map) return true;
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const bsontype = (v as { _bsontype?: unknown })._bsontype;
  return bsontype === undefined && !(v instanceof Date) && !(v instanceof Uint8Array) && !(v instanceof RegExp);
}

function field(doc: unknown, name: string): unknown {
  if (doc instanceof Map) return doc.get(name);
  return (doc as Record<string, unknown>)[name];
}

/**
 * The values at `path` in `doc`, descending into arrays at every level like a MongoDB query does
 * (`items.productId` reaches the `productId` of each element of `items`); an array at the end of
 * the path gives its elements (an array of account numbers is several references). Missing
 * fields, null and undefined give nothing: an absent reference is not a dangling one.
 *
 * @example
 * valuesAtPath({ items: [{ productId: 1 }, { productId: 2 }] }, ['items', 'productId']); // [1, 2]
 */
export function valuesAtPath(doc: unknown, path: readonly string[]): unknown[] {
  const out: unknown[] = [];
  const walk = (v: unknown, i: number): void => {
    if (v === null || v === undefined) return;
    if (Array.isArray(v)) {
      for (const e of v) walk(e, i);
      return;
    }
    if (i === path.length) {
      out.push(v);
      return;
    }
    if (!isSubDocument(v)) return;
    walk(field(v, path[i]!), i + 1);
  };
  walk(doc, 0);
  return out;
}

const TWO_63 = 2 ** 63;

/**
 * A stable text key for a value that keeps BSON types apart where MongoDB's equality does: Int32 5
 * and String "5" differ, ObjectId and its hex string differ. Numbers compare by value across
 * Int32, Int64 and Double as in MongoDB (`5`, `Long(5)` and `5.0` are one key); Decimal128 keeps
 * its own key. Documents and arrays key on their exact BSON bytes (field order matters, as it does
 * for `_id` equality).
 *
 * @example
 * referenceKey(new Int32(5)) === referenceKey(5); // true
 * referenceKey('5') === referenceKey(5);          // false
 */
export function referenceKey(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return `s:${v}`;
    case 'number':
      return numberKey(v);
    case 'bigint':
      return `n:${v}`;
    case 'boolean':
      return `b:${v}`;
    case 'undefined':
      return 'u:';
  }
  if (v === null) return 'null:';
  if (v instanceof Date) return `date:${v.getTime()}`;
  const bsontype = (v as { _bsontype?: unknown })._bsontype;
  switch (bsontype) {
    case 'ObjectId':
      return `oid:${(v as { toHexString(): string }).toHexString()}`;
    case 'Int32':
    case 'Double':
      return numberKey((v as { value: number }).value);
    case 'Long':
      return `n:${(v as { toString(): string }).toString()}`;
    case 'Decimal128':
      return `dec:${(v as { toString(): string }).toString()}`;
  }
  // Anything else (Binary, UUID, Timestamp, documents, arrays ...) by its exact BSON bytes.
  return `bson:${Buffer.from(serializeDocument({ v } as Document)).toString('base64')}`;
}

function numberKey(n: number): string {
  if (Number.isInteger(n) && Math.abs(n) < TWO_63) return `n:${BigInt(n)}`;
  return `n:${Object.is(n, -0) ? 0 : n}`;
}

/** A value as one line of canonical Extended JSON, for reports (`{"$oid":"..."}`). */
export function valueText(v: unknown): string {
  try {
    return EJSON.stringify(v as Document, { relaxed: false });
  } catch {
    return String(v);
  }
}

/** Document source for {@link findDanglingReferences}: a collection's documents, or null if it does not exist. */
export type DocumentSource = (collection: string) => AsyncIterable<Document> | Iterable<Document> | null;

export interface DanglingReport {
  relation: Relation;
  /** `ok`: every reference found; `dangling`: some not found; `skipped`: the referencing collection is absent. */
  status: 'ok' | 'dangling' | 'skipped';
  /** The target collection is absent: every reference dangles. */
  targetMissing: boolean;
  /** Reference values checked (an array of 3 ids is 3). */
  references: number;
  /** Reference values not found in the target. */
  dangling: number;
  /** Referencing documents with at least one dangling reference. */
  documents: number;
  /** `_id`s (canonical Extended JSON) of the first referencing documents with a dangling reference. */
  examples: string[];
}

export interface DanglingOptions {
  /** Known collection names, to resolve relation specs whose collection name has dots. */
  collections?: Iterable<string>;
  /** How many example `_id`s per relation (default 5). */
  examples?: number;
  /** Checked between documents; an aborted signal stops the scan with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Checks declared relations over document streams: builds the set of target keys by streaming
 * each target collection once (only keys are kept), then streams each referencing collection once
 * for all relations that start there. Memory is one key per target document.
 *
 * @example
 * const reports = await findDanglingReferences(
 *   [{ from: 'orders.userId', to: 'users._id' }],
 *   (name) => (name === 'orders' ? restoredOrders : null), // users absent: every userId dangles
 * );
 */
export async function findDanglingReferences(
  relations: readonly Relation[],
  documents: DocumentSource,
  opts: DanglingOptions = {},
): Promise<DanglingReport[]> {
  const known = [...(opts.collections ?? [])];
  const limit = opts.examples ?? 5;
  const resolved = relations.map((relation) => ({
    relation,
    from: parseRelationEnd(relation.from, known),
    to: parseRelationEnd(relation.to, known),
  }));

  // One key set per distinct target (`users._id` serves every relation pointing at it).
  const targets = new Map<string, Set<string> | null>();
  for (const r of resolved) {
    const id = `${r.to.collection}\0${r.to.path.join('.')}`;
    if (targets.has(id)) continue;
    const stream = documents(r.to.collection);
    if (!stream) {
      targets.set(id, null);
      continue;
    }
    const keys = new Set<string>();
    for await (const doc of stream) {
      opts.signal?.throwIfAborted();
      for (const v of valuesAtPath(doc, r.to.path)) keys.add(referenceKey(v));
    }
    targets.set(id, keys);
  }

  const reports: DanglingReport[] = resolved.map((r) => ({
    relation: r.relation,
    status: 'ok',
    targetMissing: targets.get(`${r.to.collection}\0${r.to.path.join('.')}`) === null,
    references: 0,
    dangling: 0,
    documents: 0,
    examples: [],
  }));
  const bySource = new Map<string, number[]>();
  resolved.forEach((r, i) => bySource.set(r.from.collection, [...(bySource.get(r.from.collection) ?? []), i]));
  for (const [collection, indexes] of bySource) {
    const stream = documents(collection);
    if (!stream) {
      for (const i of indexes) reports[i]!.status = 'skipped';
      continue;
    }
    for await (const doc of stream) {
      opts.signal?.throwIfAborted();
      for (const i of indexes) {
        const r = resolved[i]!;
        const report = reports[i]!;
        const keys = targets.get(`${r.to.collection}\0${r.to.path.join('.')}`);
        let bad = 0;
        for (const v of valuesAtPath(doc, r.from.path)) {
          report.references++;
          if (!keys || !keys.has(referenceKey(v))) bad++;
        }
        if (bad === 0) continue;
        report.dangling += bad;
        report.documents++;
        if (report.examples.length < limit) report.examples.push(valueText(documentId(doc)));
      }
    }
    for (const i of indexes) if (reports[i]!.dangling > 0) reports[i]!.status = 'dangling';
  }
  return reports;
}
