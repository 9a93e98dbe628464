/**
 * Type inference for plain JSON backups (a script's JSON.stringify of driver documents): what JSON
 * flattened is recovered field by field, and only where every value of the field agrees, so one
 * odd value keeps the whole field as it was.
 *
 * - 24-hex strings -> ObjectId (JSON.stringify writes an ObjectId as its hex string)
 * - ISO-8601 date-time strings -> Date (JSON.stringify writes a Date with toISOString)
 * - `{"low": .., "high": .., "unsigned": ..}` -> Int64 (JSON.stringify of a bson Long)
 *
 * A field is a dotted path; array elements count as values of the array's field
 * (`items.productId`). Pure: documents in, converted documents and a per-field report out.
 */
import { Int32, Long, ObjectId } from 'bson';

export type InferredType = 'ObjectId' | 'Date' | 'Int64';

/** One converted field of one collection. */
export interface FieldConversion {
  field: string;
  to: InferredType;
  /** Values converted. */
  values: number;
}

const HEX24 = /^[0-9a-fA-F]{24}$/;
const ISO_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})$/;

interface FieldStats {
  values: number;
  hex: number;
  iso: number;
  long: number;
}

function isLongShape(v: unknown): v is Map<string, unknown> {
  if (!(v instanceof Map) || v.size !== 3) return false;
  const low = v.get('low');
  const high = v.get('high');
  const unsigned = v.get('unsigned');
  return low instanceof Int32 && high instanceof Int32 && typeof unsigned === 'boolean';
}

function collect(v: unknown, path: string, stats: Map<string, FieldStats>): void {
  if (v === null || v === undefined) return;
  if (Array.isArray(v)) {
    for (const x of v) collect(x, path, stats);
    return;
  }
  if (path) {
    let s = stats.get(path);
    if (!s) stats.set(path, (s = { values: 0, hex: 0, iso: 0, long: 0 }));
    s.values++;
    if (typeof v === 'string') {
      if (HEX24.test(v)) s.hex++;
      else if (ISO_DATE_TIME.test(v) && !Number.isNaN(Date.parse(v))) s.iso++;
    } else if (isLongShape(v)) {
      s.long++;
      return;
    }
  }
  if (v instanceof Map) for (const [k, x] of v) collect(x, path ? `${path}.${k}` : k, stats);
}

function convertValue(v: unknown, path: string, plan: Map<string, InferredType>, counts: Map<string, number>): unknown {
  if (Array.isArray(v)) return v.map((x) => convertValue(x, path, plan, counts));
  const to = plan.get(path);
  if (to && v !== null && v !== undefined) {
    counts.set(path, (counts.get(path) ?? 0) + 1);
    if (to === 'ObjectId') return ObjectId.createFromHexString(v as string);
    if (to === 'Date') return new Date(Date.parse(v as string));
    const m = v as Map<string, unknown>;
    return Long.fromBits((m.get('low') as Int32).value, (m.get('high') as Int32).value, m.get('unsigned') as boolean);
  }
  if (v instanceof Map) {
    const out = new Map<string, unknown>();
    for (const [k, x] of v) out.set(k, convertValue(x, path ? `${path}.${k}` : k, plan, counts));
    return out;
  }
  return v;
}

/**
 * Infers ObjectIds, dates and Int64s in a collection's documents.
 *
 * @example
 * const { documents, conversions } = inferTypes(docs);
 * // conversions: [{ field: '_id', to: 'ObjectId', values: 8 }, { field: 'createdAt', to: 'Date', values: 8 }]
 */
export function inferTypes(docs: Map<string, unknown>[]): { documents: Map<string, unknown>[]; conversions: FieldConversion[] } {
  const stats = new Map<string, FieldStats>();
  for (const d of docs) collect(d, '', stats);
  const plan = new Map<string, InferredType>();
  for (const [path, s] of stats) {
    if (s.values === 0) continue;
    if (s.hex === s.values) plan.set(path, 'ObjectId');
    else if (s.iso === s.values) plan.set(path, 'Date');
    else if (s.long === s.values) plan.set(path, 'Int64');
  }
  if (plan.size === 0) return { documents: docs, conversions: [] };
  const counts = new Map<string, number>();
  const documents = docs.map((d) => convertValue(d, '', plan, counts) as Map<string, unknown>);
  const conversions = [...plan]
    .map(([field, to]) => ({ field, to, values: counts.get(field) ?? 0 }))
    .sort((a, b) => (a.field === '_id' ? -1 : b.field === '_id' ? 1 : a.field < b.field ? -1 : a.field > b.field ? 1 : 0));
  return { documents, conversions };
}
