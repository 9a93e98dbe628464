/**
 * MongoDB's BSON comparison order, as mongod uses it to sort (`BSONElement::canonicalType` and
 * `woCompare` in the server source): values of different types order by type class, values of
 * one class by value. dbsnap relies on it to merge two `_id`-sorted streams the way the server
 * sorted them; the wire test server relies on it to sort like mongod.
 *
 * Works on documents decoded with `promoteValues: false` (Int32/Double/Long wrappers) as well as
 * on promoted JS values (a plain number compares as a Double).
 */
import {
  Binary,
  BSONRegExp,
  BSONSymbol,
  Code,
  DBRef,
  Decimal128,
  Double,
  Int32,
  Long,
  ObjectId,
  Timestamp,
} from 'bson';
import { DbPointer } from './bson-special-values.js';

/** The canonical type class of a value (mongod's canonicalizeBSONType). */
export function canonicalTypeOrder(v: unknown): number {
  if (v === undefined) return 0;
  if (v === null) return 5;
  if (typeof v === 'number' || typeof v === 'bigint') return 10;
  if (typeof v === 'string') return 15;
  if (typeof v === 'boolean') return 40;
  if (v instanceof Date) return 45;
  if (Array.isArray(v)) return 25;
  if (v instanceof DbPointer) return 55;
  const bsontype = (v as { _bsontype?: string })._bsontype;
  switch (bsontype) {
    case 'MinKey':
      return -1;
    case 'MaxKey':
      return 127;
    case 'Int32':
    case 'Double':
    case 'Long':
    case 'Decimal128':
      return 10;
    case 'BSONSymbol':
      return 15;
    case 'Binary':
      return 30;
    case 'ObjectId':
      return 35;
    case 'Timestamp':
      return 47;
    case 'BSONRegExp':
      return 50;
    case 'DBPointer':
      return 55;
    case 'Code':
      return (v as Code).scope ? 65 : 60;
    case 'DBRef':
      // A DBRef is an embedded document ({$ref, $id, $db}) on the wire.
      return 20;
    default:
      return 20;
  }
}

function numberOf(v: unknown): number | bigint {
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  if (v instanceof Int32 || v instanceof Double) return v.valueOf();
  if (v instanceof Long) return BigInt(v.toString());
  if (v instanceof Decimal128) {
    const s = v.toString();
    if (s === 'NaN' || s === '-NaN') return Number.NaN;
    if (s === 'Infinity') return Infinity;
    if (s === '-Infinity') return -Infinity;
    return Number(s);
  }
  return Number.NaN;
}

function compareNumbers(a: unknown, b: unknown): number {
  const x = numberOf(a);
  const y = numberOf(b);
  // mongod orders NaN below every other number and equal to itself.
  const xNaN = typeof x === 'number' && Number.isNaN(x);
  const yNaN = typeof y === 'number' && Number.isNaN(y);
  if (xNaN || yNaN) return xNaN && yNaN ? 0 : xNaN ? -1 : 1;
  if (typeof x === 'bigint' && typeof y === 'bigint') return x < y ? -1 : x > y ? 1 : 0;
  if (typeof x === 'bigint' || typeof y === 'bigint') {
    // Compare a 64-bit integer with a double without losing the integer's precision.
    const xi = typeof x === 'bigint' ? x : null;
    const yi = typeof y === 'bigint' ? y : null;
    const d = (xi === null ? x : y) as number;
    const i = (xi ?? yi) as bigint;
    let r: number;
    if (!Number.isFinite(d)) r = d > 0 ? -1 : 1; // i vs +-inf
    else {
      const fl = Math.floor(d);
      const bi = BigInt(fl);
      if (i < bi) r = -1;
      else if (i > bi) r = 1;
      else r = d > fl ? -1 : 0;
    }
    return xi !== null ? r : -r;
  }
  return x < y ? -1 : x > y ? 1 : 0;
}

const utf8 = new TextEncoder();

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** Strings compare by their UTF-8 bytes (simple binary comparison, no collation). */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  // For strings without surrogates UTF-16 code unit order equals UTF-8 byte order.
  if (!/[\ud800-\udfff]/.test(a) && !/[\ud800-\udfff]/.test(b)) return a < b ? -1 : 1;
  const r = compareBytes(utf8.encode(a), utf8.encode(b));
  return r < 0 ? -1 : r > 0 ? 1 : 0;
}

function entriesOf(v: unknown): [string, unknown][] {
  if (Array.isArray(v)) return v.map((x, i) => [String(i), x]);
  if (v instanceof DBRef) {
    const out: [string, unknown][] = [
      ['$ref', v.collection],
      ['$id', v.oid],
    ];
    if (v.db) out.push(['$db', v.db]);
    for (const [k, x] of Object.entries(v.fields ?? {})) out.push([k, x]);
    return out;
  }
  return Object.entries(v as Record<string, unknown>);
}

function compareDocuments(a: unknown, b: unknown): number {
  const ea = entriesOf(a);
  const eb = entriesOf(b);
  const n = Math.min(ea.length, eb.length);
  for (let i = 0; i < n; i++) {
    const [ka, va] = ea[i]!;
    const [kb, vb] = eb[i]!;
    const t = canonicalTypeOrder(va) - canonicalTypeOrder(vb);
    if (t !== 0) return t < 0 ? -1 : 1;
    const k = compareStrings(ka, kb);
    if (k !== 0) return k;
    const c = compareBsonValues(va, vb);
    if (c !== 0) return c;
  }
  return ea.length === eb.length ? 0 : ea.length < eb.length ? -1 : 1;
}

/** Compare two BSON values in MongoDB's sort order: negative, zero or positive. */
export function compareBsonValues(a: unknown, b: unknown): number {
  const ta = canonicalTypeOrder(a);
  const tb = canonicalTypeOrder(b);
  if (ta !== tb) return ta < tb ? -1 : 1;
  switch (ta) {
    case -1:
    case 0:
    case 5:
    case 127:
      return 0;
    case 10:
      return compareNumbers(a, b);
    case 15:
      return compareStrings(
        typeof a === 'string' ? a : (a as BSONSymbol).valueOf(),
        typeof b === 'string' ? b : (b as BSONSymbol).valueOf(),
      );
    case 20:
    case 25:
      return compareDocuments(a, b);
    case 30: {
      const x = a as Binary;
      const y = b as Binary;
      if (x.position !== y.position) return x.position < y.position ? -1 : 1;
      if (x.sub_type !== y.sub_type) return x.sub_type < y.sub_type ? -1 : 1;
      const r = compareBytes(x.buffer.subarray(0, x.position), y.buffer.subarray(0, y.position));
      return Math.sign(r);
    }
    case 35:
      return Math.sign(compareBytes((a as ObjectId).id, (b as ObjectId).id));
    case 40:
      return a === b ? 0 : a ? 1 : -1;
    case 45: {
      const x = (a as Date).getTime();
      const y = (b as Date).getTime();
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 47: {
      const x = a as Timestamp;
      const y = b as Timestamp;
      if (x.t !== y.t) return x.t < y.t ? -1 : 1;
      return x.i === y.i ? 0 : x.i < y.i ? -1 : 1;
    }
    case 50: {
      const x = a as BSONRegExp;
      const y = b as BSONRegExp;
      return compareStrings(x.pattern, y.pattern) || compareStrings(x.options, y.options);
    }
    case 55: {
      // mongod compares a DBPointer by namespace length, then namespace, then ObjectId.
      const x = a as DbPointer;
      const y = b as DbPointer;
      return (
        Math.sign(x.collection.length - y.collection.length) ||
        compareStrings(x.collection, y.collection) ||
        Math.sign(compareBytes(x.oid.id, y.oid.id))
      );
    }
    case 60:
      return compareStrings((a as Code).code, (b as Code).code);
    case 65:
      return (
        compareStrings((a as Code).code, (b as Code).code) ||
        compareDocuments((a as Code).scope ?? {}, (b as Code).scope ?? {})
      );
    default:
      return 0;
  }
}

