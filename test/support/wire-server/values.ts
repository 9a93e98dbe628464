/**
 * Value helpers over documents decoded with `promoteValues: false` (so Int32, Double and Long
 * stay distinguishable): dotted-path access, index-key identity and mongod-style value printing.
 */
import { BSON, Binary, Code, Decimal128, Double, EJSON, Int32, Long, ObjectId, Timestamp } from 'bson';
import { canonicalTypeOrder, compareBsonValues } from '../../../src/canonical/bson-order.js';

export type Doc = Record<string, unknown>;

/** Decode a stored document keeping exact numeric types (for sorting, updates, index keys). */
export function decodeTyped(raw: Uint8Array): Doc {
  return BSON.deserialize(raw, { promoteValues: false, bsonRegExp: true }) as Doc;
}

/** Decode a stored document with JS numbers (for mingo filters and pipelines). */
export function decodePlain(raw: Uint8Array): Doc {
  return BSON.deserialize(raw, { promoteValues: true, bsonRegExp: true }) as Doc;
}

/** A marker for "field absent" (distinct from null). */
export const MISSING = Symbol('missing');

/**
 * The value at a dotted path. Numeric segments index arrays; a non-numeric segment applied to
 * an array collects the field from each element (mongod's implicit array traversal), flattened.
 */
export function getPath(doc: unknown, path: string): unknown {
  let cur: unknown[] = [doc];
  let traversedArray = false;
  for (const seg of path.split('.')) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (Array.isArray(v)) {
        if (/^\d+$/.test(seg)) {
          if (Number(seg) < v.length) next.push(v[Number(seg)]);
        } else {
          traversedArray = true;
          for (const el of v) {
            if (el && typeof el === 'object' && !Array.isArray(el) && seg in (el as Doc)) next.push((el as Doc)[seg]);
          }
        }
      } else if (v && typeof v === 'object' && !isBsonValue(v) && seg in (v as Doc)) {
        next.push((v as Doc)[seg]);
      }
    }
    cur = next;
  }
  if (traversedArray) return cur.length ? cur.flat() : MISSING;
  return cur.length ? cur[0] : MISSING;
}

/** True for bson class instances (ObjectId, Binary, Int32...), which are values, not sub-documents. */
export function isBsonValue(v: unknown): boolean {
  if (v instanceof Date || v instanceof RegExp) return true;
  if (!v || typeof v !== 'object') return false;
  return typeof (v as { _bsontype?: unknown })._bsontype === 'string';
}

function numberKey(v: unknown): string {
  if (typeof v === 'number') return Object.is(v, -0) ? '0' : String(v);
  if (v instanceof Int32 || v instanceof Double) return numberKey(v.valueOf());
  if (v instanceof Long) return v.toString();
  if (v instanceof Decimal128) {
    const n = Number(v.toString());
    return Number.isSafeInteger(n) || !Number.isFinite(n) ? String(n) : v.toString();
  }
  if (typeof v === 'bigint') return v.toString();
  return 'NaN';
}

/**
 * A string that is equal for two values exactly when an index treats them as the same key:
 * numbers compare by value across Int32/Long/Double, documents by ordered fields.
 */
export function keyString(v: unknown): string {
  if (v === MISSING || v === undefined || v === null) return 'null';
  const t = canonicalTypeOrder(v);
  if (t === 10) return 'n' + numberKey(v);
  if (t === 15) return 's' + JSON.stringify(String(v.valueOf()));
  if (Array.isArray(v)) return '[' + v.map(keyString).join(',') + ']';
  if (t === 20 && !isBsonValue(v)) {
    return '{' + Object.entries(v as Doc).map(([k, x]) => JSON.stringify(k) + ':' + keyString(x)).join(',') + '}';
  }
  if (v instanceof ObjectId) return 'o' + v.toHexString();
  if (v instanceof Date) return 'd' + v.getTime();
  if (typeof v === 'boolean') return 'b' + v;
  return t + ':' + EJSON.stringify({ v } as Doc, { relaxed: false });
}

/** Print a value the way mongod's BSON toString does inside error messages. */
export function formatValue(v: unknown): string {
  if (v === MISSING || v === undefined || v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof Int32 || v instanceof Double) return String(v.valueOf());
  if (v instanceof Long) return v.toString();
  if (v instanceof Decimal128) return `${v.toString()}`;
  if (v instanceof ObjectId) return `ObjectId('${v.toHexString()}')`;
  if (v instanceof Date) return `new Date(${v.getTime()})`;
  if (v instanceof Timestamp) return `Timestamp(${v.t}, ${v.i})`;
  if (v instanceof Binary) return `BinData(${v.sub_type}, ${Buffer.from(v.buffer.subarray(0, v.position)).toString('hex').toUpperCase()})`;
  if (v instanceof Code) return `${v.code}`;
  if (Array.isArray(v)) return '[ ' + v.map(formatValue).join(', ') + ' ]';
  if (typeof v === 'object' && !isBsonValue(v)) return formatDoc(v as Doc);
  return EJSON.stringify(v as Doc);
}

/** `{ a: 1, b: "x" }` as mongod prints documents. */
export function formatDoc(d: Doc): string {
  const entries = Object.entries(d);
  if (!entries.length) return '{}';
  return '{ ' + entries.map(([k, v]) => `${k}: ${formatValue(v)}`).join(', ') + ' }';
}

/** The value a sort key sees for one document (arrays sort by their min/max element). */
export function sortKeyValue(doc: Doc, path: string, descending: boolean): unknown {
  const v = getPath(doc, path);
  if (v === MISSING) return null;
  if (Array.isArray(v)) {
    // mongod sorts an array field by its smallest element ascending, largest descending;
    // an empty array sorts before null.
    if (v.length === 0) return undefined;
    let best = v[0];
    for (const x of v) {
      const c = compareBsonValues(x, best);
      if (descending ? c > 0 : c < 0) best = x;
    }
    return best;
  }
  return v;
}

export { compareBsonValues };
