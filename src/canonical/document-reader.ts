/**
 * The reader half of dbsnap's document text (docs/FORMAT.md, "Document encoding"): part-file text
 * -> documents whose every value has the BSON type it was stored with, plus
 * {@link serializeDocument}, which turns such documents back into the exact original bytes.
 *
 * Parsing is `JSON.parse` (native, fast) followed by one walk that replaces type wrappers with BSON
 * values in place. JSON.parse loses one thing: JS objects list integer-like keys ("0", "7") first,
 * whatever their place in the text. A document that has such a key is therefore re-parsed with a
 * small order-keeping parser, and returned as a `Map` when a plain object cannot hold its order.
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
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  type Document,
} from 'bson';
import { FormatError, InvalidArgumentError } from '../errors/index.js';

/** The key that marks an embedded document whose own first key would read as a type wrapper. */
export const ESCAPE_KEY = '$dbsnapDocument';

/**
 * A BSON DBPointer (deprecated type 0x0C). bson has no class of its own for it (it decodes one as a
 * DBRef), so this subclass marks the value for {@link serializeDocument}. `collection` holds the
 * whole namespace as stored. `BSON.serialize` and the driver write it as a DBRef document.
 */
export class DbPointer extends DBRef {
  constructor(namespace: string, oid: ObjectId) {
    super('', oid);
    // DBRef's constructor splits "db.coll"; a DBPointer stores the namespace as one string.
    this.collection = namespace;
    this.db = undefined;
  }
}

/**
 * Epoch milliseconds of a BSON date that a JS Date cannot hold (beyond ±8.64e15 ms, i.e. past year
 * 275760). The reader returns such a date as an invalid Date carrying this property, which
 * {@link serializeDocument} writes back exactly.
 */
export const OUT_OF_RANGE_DATE_MS: unique symbol = Symbol('dbsnap.outOfRangeDateMs');

const MAX_JS_DATE_MS = 8.64e15;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

// ---------------------------------------------------------------------------------------------
// Text -> values
// ---------------------------------------------------------------------------------------------

/** Thrown (as a value, not an Error) when a document needs the order-keeping parser. */
const NEEDS_ORDERED_PARSE = Symbol('needsOrderedParse');

class ReadError extends Error {
  readonly path: string[] = [];
}

function fail(message: string): never {
  throw new ReadError(message);
}

/** Whether JS objects move `key` to the front: a canonical array index (0 .. 2^32-2). */
function isArrayIndex(key: string): boolean {
  const n = key.length;
  if (n === 0 || n > 10) return false;
  const c0 = key.charCodeAt(0);
  if (c0 < 0x30 || c0 > 0x39 || (c0 === 0x30 && n > 1)) return false;
  for (let i = 1; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return n < 10 || Number(key) < 4294967295;
}

function numberValue(n: number): Int32 | Double {
  if (Number.isInteger(n)) {
    if (n >= -2147483648 && n <= 2147483647) return new Int32(n);
    return fail(`integer ${n} is outside the Int32 range; write Int64 as {"$numberLong": "…"} and integral doubles as {"$numberDouble": "…"}`);
  }
  if (Number.isFinite(n)) return new Double(n);
  return fail(`number ${n} is out of range; write it as {"$numberDouble": "…"}`);
}

function convertValue(v: unknown): unknown {
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

function setField(o: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(o, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    o[key] = value;
  }
}

function objectFromEntries(m: Map<string, unknown>): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const [k, v] of m) setField(o, k, v);
  return o;
}

/** A value that must be a document (part-file element, `$scope`, `$dbsnapDocument` content). */
function documentValue(v: unknown, what: string): Document {
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
function decimalValue(s: string): Decimal128 {
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

// ---------------------------------------------------------------------------------------------
// Order-keeping JSON parser, used only for text JSON.parse has already accepted
// ---------------------------------------------------------------------------------------------

function parseOrdered(text: string): unknown {
  let i = 0;
  const skipSpace = () => {
    let c = text.charCodeAt(i);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = text.charCodeAt(++i);
  };
  const parseString = (): string => {
    const start = i;
    let j = i + 1;
    let escaped = false;
    for (;;) {
      const c = text.charCodeAt(j);
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        j += 2;
      } else {
        j++;
      }
    }
    i = j + 1;
    return escaped ? (JSON.parse(text.slice(start, i)) as string) : text.slice(start + 1, j);
  };
  const parseValue = (): unknown => {
    skipSpace();
    const c = text.charCodeAt(i);
    if (c === 0x7b) {
      i++;
      const entries: [string, unknown][] = [];
      let indexKey = false;
      skipSpace();
      if (text.charCodeAt(i) === 0x7d) {
        i++;
        return {};
      }
      for (;;) {
        skipSpace();
        const key = parseString();
        if (!indexKey && isArrayIndex(key)) indexKey = true;
        skipSpace();
        i++; // ':'
        entries.push([key, parseValue()]);
        skipSpace();
        if (text.charCodeAt(i++) === 0x7d) break; // '}' (else ',')
      }
      if (indexKey) return new Map(entries);
      const o: Record<string, unknown> = {};
      for (const [k, v] of entries) setField(o, k, v);
      return o;
    }
    if (c === 0x5b) {
      i++;
      const a: unknown[] = [];
      skipSpace();
      if (text.charCodeAt(i) === 0x5d) {
        i++;
        return a;
      }
      for (;;) {
        a.push(parseValue());
        skipSpace();
        if (text.charCodeAt(i++) === 0x5d) break;
      }
      return a;
    }
    if (c === 0x22) return parseString();
    if (c === 0x74) {
      i += 4;
      return true;
    }
    if (c === 0x66) {
      i += 5;
      return false;
    }
    if (c === 0x6e) {
      i += 4;
      return null;
    }
    const start = i;
    let d = c;
    while ((d >= 0x30 && d <= 0x39) || d === 0x2d || d === 0x2b || d === 0x2e || d === 0x65 || d === 0x45) {
      d = text.charCodeAt(++i);
    }
    return Number(text.slice(start, i));
  };
  return parseValue();
}

// ---------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------

/**
 * Offset of the first JSON syntax error in `text` (Node 20's JSON.parse messages do not say
 * where it is). Only runs after JSON.parse has failed, so it favours brevity over speed.
 */
function jsonErrorOffset(text: string): number {
  let i = 0;
  const space = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const expect = (ok: boolean) => {
    if (!ok) throw i;
  };
  const value = (): void => {
    space();
    const c = text[i];
    if (c === '{' || c === '[') {
      const close = c === '{' ? '}' : ']';
      i++;
      space();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        if (c === '{') {
          space();
          expect(text[i] === '"');
          value();
          space();
          expect(text[i] === ':');
          i++;
        }
        value();
        space();
        if (text[i] === ',') {
          i++;
          continue;
        }
        expect(text[i] === close);
        i++;
        return;
      }
    }
    if (c === '"') {
      for (i++; ; i++) {
        expect(i < text.length && text.charCodeAt(i) >= 0x20);
        if (text[i] === '\\') {
          i++;
          const e = /^(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/.exec(text.slice(i, i + 5));
          expect(e !== null);
          i += e![0].length - 1;
        } else if (text[i] === '"') {
          i++;
          return;
        }
      }
    }
    const m = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 400));
    expect(m !== null);
    i += m![0].length;
  };
  try {
    value();
    space();
    expect(i === text.length);
  } catch (at) {
    if (typeof at === 'number') return at;
    throw at;
  }
  return -1;
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const at = jsonErrorOffset(text);
    let where = '';
    if (at >= 0) {
      const before = text.slice(0, at);
      where = ` at line ${before.split('\n').length}, column ${at - before.lastIndexOf('\n')}`;
    }
    throw new FormatError(
      `${source}: not valid JSON${where} (${(err as Error).message.split('\n')[0]}). ` +
        'The file may have been edited by hand or truncated.',
      { source },
    );
  }
}

function describeId(doc: unknown): string {
  if (typeof doc !== 'object' || doc === null) return '';
  const id = doc instanceof Map ? doc.get('_id') : (doc as Record<string, unknown>)._id;
  if (id === undefined) return '';
  try {
    const s = JSON.stringify(id);
    return s === undefined ? '' : ` (_id ${s.length > 80 ? s.slice(0, 77) + '...' : s})`;
  } catch {
    return '';
  }
}

function formatError(err: ReadError, source: string, index: number | undefined, raw: unknown): FormatError {
  const doc = index === undefined ? '' : ` document ${index}${describeId(raw)}`;
  const field = err.path.length > 0 ? ` field ${err.path.join('.')}` : '';
  return new FormatError(`${source}:${doc}${field}: ${err.message}`, {
    source,
    ...(index === undefined ? {} : { index }),
    path: err.path,
  });
}

function readDocuments(parsed: unknown, source: string): Document[] {
  if (!Array.isArray(parsed)) {
    throw new FormatError(`${source}: a part file must be a JSON array of documents`, { source });
  }
  const docs: Document[] = new Array(parsed.length);
  for (let i = 0; i < parsed.length; i++) {
    const raw = parsed[i];
    try {
      docs[i] = documentValue(raw, 'a part-file element');
    } catch (err) {
      if (err instanceof ReadError) throw formatError(err, source, i, raw);
      throw err;
    }
  }
  return docs;
}

/**
 * Parses a part file into documents: field order preserved, every value as the BSON type it was
 * stored with (Int32, Double, Long, Decimal128, Binary, ObjectId, Date, Timestamp, BSONRegExp,
 * MinKey, MaxKey, Code, BSONSymbol, null, `undefined` for Undefined, {@link DbPointer}, nested
 * documents and arrays), so that {@link serializeDocument} gives the original bytes.
 *
 * A document whose field order a plain object cannot keep (an integer-like key such as "2" after
 * a non-integer one) is returned as a `Map<string, unknown>`; `BSON.serialize` and the driver keep
 * a Map's order. Top-level documents are Maps only in that case too.
 *
 * Throws FormatError (`code === 'EFORMAT'`) naming `source`, the document index and field path.
 *
 * @example
 * const [doc] = readPartFile('[\n  {\n    "_id": 1\n  }\n]\n', 'users/part-0001.json');
 * doc._id; // Int32 { value: 1 }
 */
export function readPartFile(text: string, source = 'part file'): Document[] {
  const parsed = parseJson(text, source);
  try {
    return readDocuments(parsed, source);
  } catch (err) {
    if (err !== NEEDS_ORDERED_PARSE) throw err;
  }
  return readDocuments(parseOrdered(text), source);
}

/**
 * Parses the text of one value (such as an `idText` from writeDocument) into its BSON value.
 *
 * @example
 * readValue('{"$oid": "68a72cf14b78eb31b9af9e45"}'); // ObjectId('68a72cf14b78eb31b9af9e45')
 */
export function readValue(text: string, source = 'value'): unknown {
  const parsed = parseJson(text, source);
  const read = (v: unknown) => {
    try {
      return convertValue(v);
    } catch (err) {
      if (err instanceof ReadError) throw formatError(err, source, undefined, undefined);
      throw err;
    }
  };
  try {
    return read(parsed);
  } catch (err) {
    if (err !== NEEDS_ORDERED_PARSE) throw err;
  }
  return read(parseOrdered(text));
}

// ---------------------------------------------------------------------------------------------
// Values -> exact BSON bytes
// ---------------------------------------------------------------------------------------------

let out: Buffer = Buffer.allocUnsafe(64 * 1024);
let o = 0;

function ensure(n: number): void {
  if (o + n <= out.length) return;
  let size = out.length * 2;
  while (size < o + n) size *= 2;
  const bigger = Buffer.allocUnsafe(size);
  out.copy(bigger, 0, 0, o);
  out = bigger;
}

function putInt32(v: number): void {
  out[o] = v;
  out[o + 1] = v >>> 8;
  out[o + 2] = v >>> 16;
  out[o + 3] = v >>> 24;
  o += 4;
}

function putCString(s: string, what: string): void {
  if (s.includes('\0')) throw new InvalidArgumentError(`${what} ${JSON.stringify(s)} contains a NUL character, which BSON cannot store`);
  ensure(s.length * 3 + 1);
  o += out.write(s, o, 'utf8');
  out[o++] = 0;
}

function putString(s: string): void {
  ensure(s.length * 3 + 5);
  const at = o;
  o += 4;
  o += out.write(s, o, 'utf8');
  out[o++] = 0;
  out.writeInt32LE(o - at - 4, at);
}

function putElementHead(type: number, key: string): void {
  ensure(1);
  out[o++] = type;
  putCString(key, 'field name');
}

function putDocument(doc: object): void {
  ensure(5);
  const at = o;
  o += 4;
  if (doc instanceof Map) {
    for (const [k, v] of doc as Map<unknown, unknown>) {
      if (typeof k !== 'string') throw new InvalidArgumentError(`Map key ${String(k)} is not a string`);
      putElement(k, v);
    }
  } else if (Array.isArray(doc)) {
    for (let i = 0; i < doc.length; i++) putElement(String(i), doc[i]);
  } else {
    const target = typeof (doc as { toBSON?: unknown }).toBSON === 'function' ? (doc as { toBSON(): object }).toBSON() : doc;
    for (const k of Object.keys(target)) putElement(k, (target as Record<string, unknown>)[k]);
  }
  ensure(1);
  out[o++] = 0;
  out.writeInt32LE(o - at, at);
}

function putElement(key: string, v: unknown): void {
  switch (typeof v) {
    case 'string':
      putElementHead(0x02, key);
      putString(v);
      return;
    case 'number':
      if (Number.isInteger(v) && v >= -2147483648 && v <= 2147483647 && !Object.is(v, -0)) {
        putElementHead(0x10, key);
        ensure(4);
        putInt32(v);
      } else {
        putElementHead(0x01, key);
        ensure(8);
        o = out.writeDoubleLE(v, o);
      }
      return;
    case 'boolean':
      putElementHead(0x08, key);
      ensure(1);
      out[o++] = v ? 1 : 0;
      return;
    case 'undefined':
      putElementHead(0x06, key);
      return;
    case 'bigint':
      if (v < INT64_MIN || v > INT64_MAX) throw new InvalidArgumentError(`bigint ${v} is outside the Int64 range`);
      putElementHead(0x12, key);
      ensure(8);
      o = out.writeBigInt64LE(v, o);
      return;
    case 'function':
    case 'symbol':
      // Like BSON.serialize without serializeFunctions: not data, not written.
      return;
    case 'object':
      break;
  }
  if (v === null) {
    putElementHead(0x0a, key);
    return;
  }
  const bsontype = (v as { _bsontype?: unknown })._bsontype;
  if (typeof bsontype === 'string') {
    putBsonValue(key, v, bsontype);
    return;
  }
  if (v instanceof Date) {
    putElementHead(0x09, key);
    ensure(8);
    const ms = v.getTime();
    if (Number.isNaN(ms)) {
      const raw = (v as Date & { [OUT_OF_RANGE_DATE_MS]?: bigint })[OUT_OF_RANGE_DATE_MS];
      if (raw === undefined) throw new InvalidArgumentError(`field ${key} is an invalid Date`);
      o = out.writeBigInt64LE(raw, o);
    } else {
      o = out.writeBigInt64LE(BigInt(ms), o);
    }
    return;
  }
  if (v instanceof Uint8Array) {
    putBinary(key, v, 0);
    return;
  }
  if (v instanceof RegExp) {
    putElementHead(0x0b, key);
    putCString(v.source, 'regex pattern');
    putCString((v.ignoreCase ? 'i' : '') + (v.multiline ? 'm' : '') + (v.dotAll ? 's' : ''), 'regex options');
    return;
  }
  putElementHead(Array.isArray(v) ? 0x04 : 0x03, key);
  putDocument(v as object);
}

function putBinary(key: string, data: Uint8Array, subtype: number): void {
  putElementHead(0x05, key);
  const old = subtype === 0x02;
  ensure(data.length + 9);
  putInt32(data.length + (old ? 4 : 0));
  out[o++] = subtype;
  if (old) putInt32(data.length);
  out.set(data, o);
  o += data.length;
}

function putBsonValue(key: string, v: unknown, bsontype: string): void {
  switch (bsontype) {
    case 'Int32':
      putElementHead(0x10, key);
      ensure(4);
      putInt32((v as Int32).value);
      return;
    case 'Double':
      putElementHead(0x01, key);
      ensure(8);
      o = out.writeDoubleLE((v as Double).value, o);
      return;
    case 'Long':
    case 'Timestamp':
      putElementHead(bsontype === 'Long' ? 0x12 : 0x11, key);
      ensure(8);
      putInt32((v as Long).low);
      putInt32((v as Long).high);
      return;
    case 'Decimal128':
      putElementHead(0x13, key);
      ensure(16);
      out.set((v as Decimal128).bytes, o);
      o += 16;
      return;
    case 'ObjectId':
      putElementHead(0x07, key);
      ensure(12);
      out.set((v as ObjectId).id, o);
      o += 12;
      return;
    case 'Binary': {
      const b = v as Binary;
      putBinary(key, b.buffer.subarray(0, b.position), b.sub_type);
      return;
    }
    case 'BSONRegExp':
      putElementHead(0x0b, key);
      putCString((v as BSONRegExp).pattern, 'regex pattern');
      putCString((v as BSONRegExp).options, 'regex options');
      return;
    case 'BSONSymbol':
      putElementHead(0x0e, key);
      putString((v as BSONSymbol).value);
      return;
    case 'MinKey':
      putElementHead(0xff, key);
      return;
    case 'MaxKey':
      putElementHead(0x7f, key);
      return;
    case 'Code': {
      const c = v as Code;
      if (c.scope == null) {
        putElementHead(0x0d, key);
        putString(c.code);
        return;
      }
      putElementHead(0x0f, key);
      ensure(4);
      const at = o;
      o += 4;
      putString(c.code);
      putDocument(c.scope);
      out.writeInt32LE(o - at, at);
      return;
    }
    case 'DBRef': {
      const r = v as DBRef;
      if (r instanceof DbPointer) {
        putElementHead(0x0c, key);
        putString(r.collection);
        ensure(12);
        out.set(r.oid.id, o);
        o += 12;
        return;
      }
      // Same field order as BSON.serialize writes a DBRef.
      const m = new Map<string, unknown>([
        ['$ref', r.collection],
        ['$id', r.oid],
      ]);
      if (r.db != null) m.set('$db', r.db);
      for (const [k, f] of Object.entries(r.fields)) m.set(k, f);
      putElementHead(0x03, key);
      putDocument(m);
      return;
    }
    default:
      throw new InvalidArgumentError(`field ${key} holds an unknown BSON type ${bsontype}`);
  }
}

/**
 * Serializes a document (plain object or Map) to BSON bytes, writing every value as the BSON type
 * the reader gave it. Unlike `BSON.serialize` it also writes `undefined` as Undefined, a
 * {@link DbPointer} as a DBPointer, regex options unsorted, and dates beyond a JS Date's range, so
 * `serializeDocument(readPartFile(writeDocument(bytes)…)[0])` equals `bytes` for every document.
 *
 * @example
 * serializeDocument({ a: 1 }); // <Buffer 0c 00 00 00 10 61 00 01 00 00 00 00>
 */
export function serializeDocument(doc: Document | Map<string, unknown>): Uint8Array {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new InvalidArgumentError('serializeDocument needs a document (plain object or Map)');
  }
  if (typeof (doc as { _bsontype?: unknown })._bsontype === 'string') {
    throw new InvalidArgumentError('serializeDocument needs a document, not a BSON value');
  }
  o = 0;
  putDocument(doc);
  const bytes = Buffer.from(out.subarray(0, o));
  if (out.length > 16 * 1024 * 1024) out = Buffer.allocUnsafe(64 * 1024);
  return bytes;
}
