/**
 * Extended JSON -> BSON values (docs/FORMAT.md, "Document encoding"): one walk over what a JSON
 * parser returned that replaces every type wrapper with the BSON value it stands for, so each
 * value gets the exact BSON type it was stored with. Errors carry the field path they occur at.
 */
import {
  Binary,
  BSONRegExp,
  BSONSymbol,
  Code,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  type Document,
} from 'bson';
import {
  DbPointer,
  INT64_MAX,
  INT64_MIN,
  MAX_JS_DATE_MS,
  OUT_OF_RANGE_DATE_MS,
} from './bson-special-values.js';
import { isArrayIndex, setField } from './ordered-json-parser.js';

/** The key that marks an embedded document whose own first key would read as a type wrapper. */
export const ESCAPE_KEY = '$dbsnapDocument';

/** Thrown (as a value, not an Error) when a document needs the order-keeping parser. */
export const NEEDS_ORDERED_PARSE = Symbol('needsOrderedParse');

export class ReadError extends Error {
  readonly path: string[] = [];
}

function fail(message: string): never {
  throw new ReadError(message);
}

function numberValue(n: number): Int32 | Double {
  if (Number.isInteger(n)) {
    if (n >= -2147483648 && n <= 2147483647) return new Int32(n);
    return fail(`integer ${n} is outside the Int32 range; write Int64 as {"$numberLong": "…"} and integral doubles as {"$numberDouble": "…"}`);
  }
  if (Number.isFinite(n)) return new Double(n);
  return fail(`number ${n} is out of range; write it as {"$numberDouble": "…"}`);
}

export function convertValue(v: unknown): unknown {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return numberValue(v);
    case 'object':
      if (v === null) return null;
      if (Array.isArray(v)) return convertArray(v);
      if (v instanceof Map) return convertOrdered(v as Map<string, unknown>, true);
      return convertObject(v as Record<string, unknown>, true);
    default:
      return fail(`unexpected ${typeof v}`);
  }
}

function convertArray(a: unknown[]): unknown[] {
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (typeof v === 'string' || typeof v === 'boolean' || v === null) continue;
    try {
      a[i] = convertValue(v);
    } catch (err) {
      if (err instanceof ReadError) err.path.unshift(String(i));
      throw err;
    }
  }
  return a;
}

/**
 * Converts a JSON.parse object: a type wrapper when its first key starts with `$` (except `$ref`)
 * and `wrappers` is set, else a document whose values are converted in place.
 */
function convertObject(o: Record<string, unknown>, wrappers: boolean): unknown {
  let first: string | undefined;
  for (const k in o) {
    first = k;
    break;
  }
  if (first === undefined) return o;
  const c = first.charCodeAt(0);
  if (c === 0x24 && wrappers && first !== '$ref') return wrapperValue(o, first);
  // An array-index key is listed first whatever its place in the text: the order is lost.
  if (c >= 0x30 && c <= 0x39 && isArrayIndex(first)) throw NEEDS_ORDERED_PARSE;
  for (const k in o) {
    const v = o[k];
    if (typeof v === 'string' || typeof v === 'boolean' || v === null) continue;
    try {
      o[k] = convertValue(v);
    } catch (err) {
      if (err instanceof ReadError) err.path.unshift(k);
      throw err;
    }
  }
  return o;
}

/** Converts an object from the order-keeping parser (it has an array-index key). */
function convertOrdered(m: Map<string, unknown>, wrappers: boolean): unknown {
  const keys = [...m.keys()];
  if (keys.length > 0 && keys[0].charCodeAt(0) === 0x24 && wrappers && keys[0] !== '$ref') {
    return wrapperValue(objectFromEntries(m), keys[0]);
  }
  for (const [k, v] of m) {
    try {
      m.set(k, convertValue(v));
    } catch (err) {
      if (err instanceof ReadError) err.path.unshift(k);
      throw err;
    }
  }
  return keepsObjectOrder(keys) ? objectFromEntries(m) : m;
}

/** Whether a plain object would list `keys` in this order (array indexes ascending, then the rest). */
function keepsObjectOrder(keys: string[]): boolean {
  let last = -1;
  let inIndexes = true;
  for (const k of keys) {
    if (isArrayIndex(k)) {
      if (!inIndexes) return false;
      const n = Number(k);
      if (n <= last) return false;
      last = n;
    } else {
      inIndexes = false;
    }
  }
  return true;
}

function objectFromEntries(m: Map<string, unknown>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of m) setField(o, k, v);
  return o;
}

/** A value that must be a document (part-file element, `$scope`, `$dbsnapDocument` content). */
export function documentValue(v: unknown, what: string): Document {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(`${what} must be a JSON object`);
  if (v instanceof Map) {
    const first = v.keys().next().value as string | undefined;
    if (first === ESCAPE_KEY) return escapedDocument(objectFromEntries(v as Map<string, unknown>));
    if (first !== undefined && first[0] === '$' && first !== '$ref') fail(`${what} must be a document, not a ${first} value`);
    return convertOrdered(v as Map<string, unknown>, false) as Document;
  }
  const o = v as Record<string, unknown>;
  let first: string | undefined;
  for (const k in o) {
    first = k;
    break;
  }
  if (first === ESCAPE_KEY) return escapedDocument(o);
  if (first !== undefined && first[0] === '$' && first !== '$ref') fail(`${what} must be a document, not a ${first} value`);
  return convertObject(o, false) as Document;
}

function escapedDocument(o: Record<string, unknown>): Document {
  const keys = Object.keys(o);
  if (keys.length !== 1) fail(`{"${ESCAPE_KEY}": …} must have exactly one key`);
  const inner = o[ESCAPE_KEY];
  if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) {
    fail(`${ESCAPE_KEY} must hold a JSON object`);
  }
  try {
    if (inner instanceof Map) return convertOrdered(inner as Map<string, unknown>, false) as Document;
    return convertObject(inner as Record<string, unknown>, false) as Document;
  } catch (err) {
    if (err instanceof ReadError) err.path.unshift(ESCAPE_KEY);
    throw err;
  }
}

function onlyKeys(o: Record<string, unknown>, name: string, expected: number): void {
  if (Object.keys(o).length !== expected) fail(`${name} wrapper has unexpected keys: ${JSON.stringify(Object.keys(o))}`);
}

function stringField(o: Record<string, unknown>, key: string, name: string): string {
  const v = o[key];
  if (typeof v !== 'string') fail(`${name} must be a string, found ${JSON.stringify(v)}`);
  return v;
}

function subObject(v: unknown, name: string, keys: string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Map) fail(`${name} must be an object`);
  const o = v as Record<string, unknown>;
  const actual = Object.keys(o);
  if (actual.length !== keys.length || keys.some((k, i) => actual[i] !== k)) {
    fail(`${name} must have exactly the keys ${keys.join(', ')}, found ${JSON.stringify(actual)}`);
  }
  return o;
}

const OID_RE = /^[0-9a-fA-F]{24}$/;
const INT_RE = /^-?(?:0|[1-9]\d*)$/;
const DOUBLE_RE = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const ISO_DATE_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:\d{2})$/;
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const SUBTYPE_RE = /^[0-9a-fA-F]{1,2}$/;

function objectIdValue(v: unknown, name: string): ObjectId {
  if (typeof v !== 'string' || !OID_RE.test(v)) fail(`${name} must be a 24-digit hex string, found ${JSON.stringify(v)}`);
  return ObjectId.createFromHexString(v);
}

function int64Value(s: string, name: string): Long {
  if (!INT_RE.test(s)) fail(`${name} must be a decimal integer string, found ${JSON.stringify(s)}`);
  if (s.length < 16) return Long.fromNumber(Number(s));
  const b = BigInt(s);
  if (b < INT64_MIN || b > INT64_MAX) fail(`${name} ${s} is outside the Int64 range`);
  return Long.fromBigInt(b);
}

function dateValue(v: unknown): Date {
  if (typeof v === 'string') {
    if (!ISO_DATE_RE.test(v)) fail(`$date string must be ISO-8601 with a time zone, found ${JSON.stringify(v)}`);
    const ms = Date.parse(v);
    if (Number.isNaN(ms)) fail(`$date ${JSON.stringify(v)} is not a valid date`);
    return new Date(ms);
  }
  const o = subObject(v, '$date', ['$numberLong']);
  const s = stringField(o, '$numberLong', '$date.$numberLong');
  const ms = int64Value(s, '$date.$numberLong');
  const n = ms.toNumber();
  if (Math.abs(n) <= MAX_JS_DATE_MS) return new Date(n);
  const d = new Date(Number.NaN) as Date & { [OUT_OF_RANGE_DATE_MS]?: bigint };
  d[OUT_OF_RANGE_DATE_MS] = BigInt(s);
  return d;
}

const SIMPLE_DECIMAL_RE = /^(-?)(\d{1,15})(?:\.(\d{1,15}))?$/;

/**
 * Parses Decimal128 text. Plain decimals with at most 15 significant digits are encoded here
 * (coefficient and exponent straight into the IEEE 754-2008 BID layout), because bson's general
 * `fromString` is several times slower; the result has the same bytes.
 */
export function decimalValue(s: string): Decimal128 {
  const m = SIMPLE_DECIMAL_RE.exec(s);
  if (m !== null) {
    const fraction = m[3] ?? '';
    const coefficient = Number(m[2] + fraction);
    if (coefficient <= Number.MAX_SAFE_INTEGER) {
      const bytes = Buffer.allocUnsafe(16);
      bytes.writeUInt32LE(coefficient % 4294967296, 0);
      bytes.writeUInt32LE(Math.floor(coefficient / 4294967296), 4);
      bytes.writeUInt32LE(0, 8);
      bytes.writeUInt32LE(((m[1] === '-' ? 0x80000000 : 0) | ((6176 - fraction.length) << 17)) >>> 0, 12);
      return new Decimal128(bytes);
    }
  }
  try {
    return Decimal128.fromString(s);
  } catch {
    return fail(`${JSON.stringify(s)} is not a Decimal128`);
  }
}

function noNul(s: string, name: string): string {
  if (s.includes('\0')) fail(`${name} must not contain NUL characters`);
  return s;
}

function wrapperValue(o: Record<string, unknown>, key: string): unknown {
  try {
    return wrapperValueOf(o, key);
  } catch (err) {
    if (err instanceof ReadError && err.path.length === 0) err.message = `${key}: ${err.message}`;
    throw err;
  }
}

function wrapperValueOf(o: Record<string, unknown>, key: string): unknown {
  switch (key) {
    case '$oid':
      onlyKeys(o, key, 1);
      return objectIdValue(o.$oid, '$oid');
    case '$numberLong':
      onlyKeys(o, key, 1);
      return int64Value(stringField(o, key, key), key);
    case '$numberInt': {
      onlyKeys(o, key, 1);
      const s = stringField(o, key, key);
      const n = Number(s);
      if (!INT_RE.test(s) || n < -2147483648 || n > 2147483647) fail(`${JSON.stringify(s)} is not an Int32`);
      return new Int32(n);
    }
    case '$numberDouble': {
      onlyKeys(o, key, 1);
      const s = stringField(o, key, key);
      if (s === 'NaN') return new Double(Number.NaN);
      if (s === 'Infinity') return new Double(Infinity);
      if (s === '-Infinity') return new Double(-Infinity);
      if (!DOUBLE_RE.test(s)) fail(`${JSON.stringify(s)} is not a number`);
      return new Double(Number(s));
    }
    case '$numberDecimal':
      onlyKeys(o, key, 1);
      return decimalValue(stringField(o, key, key));
    case '$date':
      onlyKeys(o, key, 1);
      return dateValue(o.$date);
    case '$binary': {
      onlyKeys(o, key, 1);
      const b = subObject(o.$binary, '$binary', ['base64', 'subType']);
      const base64 = stringField(b, 'base64', '$binary.base64');
      const subType = stringField(b, 'subType', '$binary.subType');
      if (!BASE64_RE.test(base64)) fail(`base64 ${JSON.stringify(base64)} is not valid base64`);
      if (!SUBTYPE_RE.test(subType)) fail(`subType ${JSON.stringify(subType)} is not one or two hex digits`);
      return new Binary(Buffer.from(base64, 'base64'), parseInt(subType, 16));
    }
    case '$timestamp': {
      onlyKeys(o, key, 1);
      const t = subObject(o.$timestamp, '$timestamp', ['t', 'i']);
      for (const k of ['t', 'i']) {
        const n = t[k];
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 4294967295) {
          fail(`$timestamp.${k} must be an unsigned 32-bit integer, found ${JSON.stringify(n)}`);
        }
      }
      return new Timestamp({ t: t.t as number, i: t.i as number });
    }
    case '$regularExpression': {
      onlyKeys(o, key, 1);
      const r = subObject(o.$regularExpression, '$regularExpression', ['pattern', 'options']);
      const pattern = noNul(stringField(r, 'pattern', 'pattern'), 'pattern');
      const options = noNul(stringField(r, 'options', 'options'), 'options');
      // BSONRegExp's constructor sorts and vets the options; keep them exactly as stored.
      const re = new BSONRegExp(pattern);
      re.options = options;
      return re;
    }
    case '$minKey':
    case '$maxKey':
      onlyKeys(o, key, 1);
      if (o[key] !== 1) fail(`${key} must be 1`);
      return key === '$minKey' ? new MinKey() : new MaxKey();
    case '$code': {
      const keys = Object.keys(o);
      const code = stringField(o, key, key);
      if (keys.length === 1) return new Code(code);
      if (keys.length !== 2 || keys[1] !== '$scope') fail(`unexpected keys ${JSON.stringify(keys)}`);
      try {
        return new Code(code, documentValue(o.$scope, '$scope'));
      } catch (err) {
        if (err instanceof ReadError) err.path.unshift('$scope');
        throw err;
      }
    }
    case '$symbol':
      onlyKeys(o, key, 1);
      return new BSONSymbol(stringField(o, key, key));
    case '$undefined':
      onlyKeys(o, key, 1);
      if (o[key] !== true) fail('$undefined must be true');
      return undefined;
    case '$dbPointer': {
      onlyKeys(o, key, 1);
      const p = subObject(o.$dbPointer, '$dbPointer', ['$ref', '$id']);
      const ns = noNul(stringField(p, '$ref', '$dbPointer.$ref'), '$dbPointer.$ref');
      const id = subObject(p.$id, '$dbPointer.$id', ['$oid']);
      return new DbPointer(ns, objectIdValue(id.$oid, '$dbPointer.$id.$oid'));
    }
    case ESCAPE_KEY:
      return escapedDocument(o);
    default:
      return fail(`unknown type wrapper ${key} (a document whose first key starts with "$" is written as {"${ESCAPE_KEY}": {…}})`);
  }
}
