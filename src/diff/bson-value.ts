/**
 * BSON type names and exact equality for decoded values (wrapper types kept). Equality is
 * "same BSON bytes" equality: type and field order count, so Int32 5 != Double 5.0 and
 * {a, b} != {b, a}. We do not compare `BSON.serialize` output because it silently drops
 * `undefined` fields, which would hide a change from `undefined` to a missing field.
 */
import type { Binary, BSONRegExp, Code, DBRef, Decimal128, Long, ObjectId, Timestamp } from 'bson';

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/**
 * The BSON type of a decoded value: 'Int32' | 'Double' | 'Int64' | 'Decimal128' | 'String' |
 * 'Boolean' | 'Null' | 'Undefined' | 'Date' | 'Timestamp' | 'ObjectId' | 'Binary' | 'RegExp' |
 * 'Code' | 'Symbol' | 'DBRef' | 'DBPointer' | 'MinKey' | 'MaxKey' | 'Document' | 'Array'.
 *
 * A plain JS number is named the way the BSON serializer would store it (Int32 when it is an
 * integer in range, Double otherwise).
 *
 * @example typeName(new Int32(5)) // 'Int32'
 */
export function typeName(v: unknown): string {
  if (v === undefined) return 'Undefined';
  if (v === null) return 'Null';
  switch (typeof v) {
    case 'string':
      return 'String';
    case 'boolean':
      return 'Boolean';
    case 'bigint':
      return 'Int64';
    case 'number':
      return Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX && !Object.is(v, -0) ? 'Int32' : 'Double';
    case 'function':
      return 'Code';
    default:
      break;
  }
  if (Array.isArray(v)) return 'Array';
  if (v instanceof Date) return 'Date';
  if (v instanceof RegExp) return 'RegExp';
  const bsontype = (v as { _bsontype?: unknown })._bsontype;
  switch (bsontype) {
    case 'Int32':
    case 'Double':
    case 'Decimal128':
    case 'Timestamp':
    case 'ObjectId':
    case 'Binary':
    case 'Code':
    case 'DBRef':
    case 'DBPointer':
    case 'MinKey':
    case 'MaxKey':
      return bsontype;
    case 'Long':
      return 'Int64';
    case 'BSONRegExp':
      return 'RegExp';
    case 'BSONSymbol':
      return 'Symbol';
    default:
      return 'Document';
  }
}

/** True for embedded documents (plain objects), which the field diff walks into. */
export function isDocument(v: unknown): v is Record<string, unknown> {
  return typeName(v) === 'Document';
}

/** Numeric value of an Int32 / Double (wrapper or plain number). */
export function numberValue(v: unknown): number {
  return typeof v === 'number' ? v : (v as { valueOf(): number }).valueOf();
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function longBits(v: unknown): string {
  if (typeof v === 'bigint') return BigInt.asIntN(64, v).toString();
  const l = v as Long;
  return `${l.high}:${l.low >>> 0}`;
}

function regexParts(v: unknown): [string, string] {
  if (v instanceof RegExp) return [v.source, v.flags.split('').sort().join('')];
  const r = v as BSONRegExp;
  return [r.pattern, r.options];
}

/** A document as the reader returns it: a plain object, or a Map when an object could not keep its field order. */
export type DocumentFields = Record<string, unknown> | Map<string, unknown>;

/** Field names of a document in stored order. */
export function fieldNames(doc: DocumentFields): string[] {
  return doc instanceof Map ? [...doc.keys()] : Object.keys(doc);
}

/** The value of a field of a document (undefined when absent). */
export function fieldValue(doc: DocumentFields, name: string): unknown {
  return doc instanceof Map ? doc.get(name) : doc[name];
}

/** Whether a document has the field (also when its value is undefined). */
export function hasField(doc: DocumentFields, name: string): boolean {
  return doc instanceof Map ? doc.has(name) : Object.prototype.hasOwnProperty.call(doc, name);
}

function documentsEqual(a: DocumentFields, b: DocumentFields): boolean {
  const ka = fieldNames(a);
  const kb = fieldNames(b);
  if (ka.length !== kb.length) return false;
  for (let i = 0; i < ka.length; i++) {
    const k = ka[i]!;
    if (k !== kb[i] || !bsonEquals(fieldValue(a, k), fieldValue(b, k))) return false;
  }
  return true;
}

/**
 * Exact BSON equality: same type, same value, same field order (recursively).
 *
 * @example bsonEquals(new Int32(5), new Double(5)) // false
 */
export function bsonEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const t = typeName(a);
  if (t !== typeName(b)) return false;
  switch (t) {
    case 'Document':
      return documentsEqual(a as DocumentFields, b as DocumentFields);
    case 'Array': {
      const x = a as unknown[];
      const y = b as unknown[];
      if (x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) if (!bsonEquals(x[i], y[i])) return false;
      return true;
    }
    case 'Int32':
    case 'Double':
      // Object.is: -0.0 and 0.0 are different bytes; NaN equals NaN.
      return Object.is(numberValue(a), numberValue(b));
    case 'Int64':
      return longBits(a) === longBits(b);
    case 'Decimal128':
      return bytesEqual((a as Decimal128).bytes, (b as Decimal128).bytes);
    case 'String':
    case 'Boolean':
    case 'Null':
    case 'Undefined':
      return a === b;
    case 'Symbol':
      return String((a as { valueOf(): unknown }).valueOf()) === String((b as { valueOf(): unknown }).valueOf());
    case 'MinKey':
    case 'MaxKey':
      return true;
    case 'Date':
      return Object.is((a as Date).getTime(), (b as Date).getTime());
    case 'Timestamp':
      return (a as Timestamp).t === (b as Timestamp).t && (a as Timestamp).i === (b as Timestamp).i;
    case 'ObjectId':
      return bytesEqual((a as ObjectId).id, (b as ObjectId).id);
    case 'Binary': {
      const x = a as Binary;
      const y = b as Binary;
      return x.sub_type === y.sub_type && bytesEqual(x.buffer.subarray(0, x.position), y.buffer.subarray(0, y.position));
    }
    case 'RegExp': {
      const [pa, oa] = regexParts(a);
      const [pb, ob] = regexParts(b);
      return pa === pb && oa === ob;
    }
    case 'Code': {
      if (typeof a === 'function' || typeof b === 'function') return String(a) === String(b);
      const x = a as Code;
      const y = b as Code;
      if (x.code !== y.code) return false;
      if (!x.scope || !y.scope) return !x.scope && !y.scope;
      return documentsEqual(x.scope, y.scope);
    }
    case 'DBRef': {
      const x = a as DBRef;
      const y = b as DBRef;
      return (
        x.collection === y.collection &&
        x.db === y.db &&
        bsonEquals(x.oid, y.oid) &&
        documentsEqual(x.fields ?? {}, y.fields ?? {})
      );
    }
    default: {
      // DBPointer and anything unforeseen: compare the visible state.
      const x = a as { namespace?: string; oid?: unknown };
      const y = b as { namespace?: string; oid?: unknown };
      return x.namespace === y.namespace && bsonEquals(x.oid, y.oid);
    }
  }
}
