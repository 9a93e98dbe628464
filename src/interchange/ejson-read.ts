/**
 * Extended JSON as other tools write it -> BSON values: v2 canonical and relaxed (mongoexport,
 * mongodump's metadata.json) and the legacy v1 forms (`{"$date": <millis>}`, `{"$binary": "...",
 * "$type": "00"}`, `{"$regex": ..., "$options": ...}`). Documents come back as `Map`s, so key
 * order survives exactly and {@link serializeDocument} writes them byte for byte.
 *
 * A bare number is typed by its text, as mongoimport does: an integer is an Int32 when it fits,
 * else an Int64, else a Double; anything with a fraction or an exponent is a Double.
 */
import { Binary, BSONRegExp, BSONSymbol, Code, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp } from 'bson';
import { DbPointer } from '../canonical/bson-special-values.js';
import { JsonNumber, JsonObject, type JsonValue } from './json-text.js';

/** A value that is valid JSON but not valid Extended JSON; `path` names where. */
export class EjsonValueError extends Error {
  readonly path: string[] = [];
}

function fail(message: string): never {
  throw new EjsonValueError(message);
}

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const INT_RE = /^-?\d+$/;

/** A bare JSON number as a BSON number. */
export function numberFromText(text: string): Int32 | Long | Double {
  if (INT_RE.test(text)) {
    const n = Number(text);
    if (n >= INT32_MIN && n <= INT32_MAX) return new Int32(n);
    const big = BigInt(text);
    if (big >= INT64_MIN && big <= INT64_MAX) return Long.fromBigInt(big);
  }
  return new Double(Number(text));
}

function str(v: JsonValue | undefined, what: string): string {
  if (typeof v !== 'string') fail(`${what} must be a string`);
  return v;
}

function int64Text(text: string, what: string): Long {
  if (!INT_RE.test(text)) fail(`${what} must be an integer string, got ${JSON.stringify(text)}`);
  const big = BigInt(text);
  if (big < INT64_MIN || big > INT64_MAX) fail(`${what} ${text} is outside the Int64 range`);
  return Long.fromBigInt(big);
}

function doubleText(text: string): Double {
  if (text === 'Infinity') return new Double(Infinity);
  if (text === '-Infinity') return new Double(-Infinity);
  if (text === 'NaN') return new Double(NaN);
  const n = Number(text);
  if (text.trim() === '' || Number.isNaN(n)) fail(`$numberDouble ${JSON.stringify(text)} is not a number`);
  return new Double(n);
}

function dateValue(v: JsonValue | undefined): Date {
  if (typeof v === 'string') {
    const ms = Date.parse(v);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(v) || Number.isNaN(ms)) fail(`$date ${JSON.stringify(v)} is not an ISO-8601 date`);
    return new Date(ms);
  }
  if (v instanceof JsonNumber) return new Date(Number(v.text));
  if (v instanceof JsonObject && v.entries.length === 1 && v.entries[0]![0] === '$numberLong') {
    return new Date(Number(int64Text(str(v.entries[0]![1], '$numberLong'), '$numberLong').toBigInt()));
  }
  return fail('$date must be an ISO string, milliseconds, or {"$numberLong": "..."}');
}

function binaryValue(data: string, subtype: string): Binary {
  if (!/^[0-9a-fA-F]{1,2}$/.test(subtype)) fail(`binary subtype ${JSON.stringify(subtype)} is not one or two hex digits`);
  const bytes = Buffer.from(data, 'base64');
  return new Binary(bytes, parseInt(subtype, 16));
}

/** The value of a one-wrapper object, or `undefined` when `o` is an ordinary document. */
function wrapper(o: JsonObject): { value: unknown } | undefined {
  const keys = o.keys();
  const k = keys[0];
  if (!k || k[0] !== '$') return undefined;
  const v = o.entries[0]![1];
  const only = (n: number) => keys.length === n;
  switch (k) {
    case '$oid':
      if (!only(1)) return undefined;
      if (!/^[0-9a-fA-F]{24}$/.test(str(v, '$oid'))) fail(`$oid ${JSON.stringify(v)} is not 24 hex digits`);
      return { value: ObjectId.createFromHexString(v as string) };
    case '$date':
      return only(1) ? { value: dateValue(v) } : undefined;
    case '$numberInt': {
      if (!only(1)) return undefined;
      const t = str(v, '$numberInt');
      const n = Number(t);
      if (!INT_RE.test(t) || n < INT32_MIN || n > INT32_MAX) fail(`$numberInt ${JSON.stringify(t)} is not an Int32`);
      return { value: new Int32(n) };
    }
    case '$numberLong':
      return only(1) ? { value: int64Text(str(v, '$numberLong'), '$numberLong') } : undefined;
    case '$numberDouble':
      return only(1) ? { value: doubleText(str(v, '$numberDouble')) } : undefined;
    case '$numberDecimal':
      if (!only(1)) return undefined;
      try {
        return { value: Decimal128.fromString(str(v, '$numberDecimal')) };
      } catch {
        return fail(`$numberDecimal ${JSON.stringify(v)} is not a decimal`);
      }
    case '$binary': {
      if (v instanceof JsonObject && only(1)) {
        return { value: binaryValue(str(v.get('base64'), '$binary.base64'), str(v.get('subType'), '$binary.subType')) };
      }
      // Legacy v1: {"$binary": "<base64>", "$type": "<hex>"}.
      if (typeof v === 'string' && only(2) && keys[1] === '$type') return { value: binaryValue(v, str(o.entries[1]![1], '$type')) };
      return undefined;
    }
    case '$uuid': {
      if (!only(1)) return undefined;
      const hex = str(v, '$uuid').replace(/-/g, '');
      if (!/^[0-9a-fA-F]{32}$/.test(hex)) fail(`$uuid ${JSON.stringify(v)} is not a UUID`);
      return { value: new Binary(Buffer.from(hex, 'hex'), 4) };
    }
    case '$timestamp': {
      if (!only(1) || !(v instanceof JsonObject)) return undefined;
      const t = v.get('t');
      const i = v.get('i');
      if (!(t instanceof JsonNumber) || !(i instanceof JsonNumber)) fail('$timestamp needs numbers t and i');
      return { value: new Timestamp({ t: Number(t.text), i: Number(i.text) }) };
    }
    case '$regularExpression': {
      if (!only(1) || !(v instanceof JsonObject)) return undefined;
      return { value: new BSONRegExp(str(v.get('pattern'), 'pattern'), str(v.get('options'), 'options')) };
    }
    case '$regex':
      if (typeof v !== 'string') return undefined; // a query operator, not a value
      if (only(1)) return { value: new BSONRegExp(v, '') };
      if (only(2) && keys[1] === '$options') return { value: new BSONRegExp(v, str(o.entries[1]![1], '$options')) };
      return undefined;
    case '$symbol':
      return only(1) ? { value: new BSONSymbol(str(v, '$symbol')) } : undefined;
    case '$code':
      if (only(1)) return { value: new Code(str(v, '$code')) };
      if (only(2) && keys[1] === '$scope') {
        const scope = documentValue(o.entries[1]![1]);
        return { value: new Code(str(v, '$code'), Object.fromEntries(scope) as Record<string, unknown>) };
      }
      return undefined;
    case '$minKey':
      return only(1) ? { value: new MinKey() } : undefined;
    case '$maxKey':
      return only(1) ? { value: new MaxKey() } : undefined;
    case '$undefined':
      return only(1) ? { value: undefined } : undefined;
    case '$dbPointer': {
      if (!only(1) || !(v instanceof JsonObject)) return undefined;
      const id = v.get('$id');
      const oid = id instanceof JsonObject ? wrapper(id)?.value : undefined;
      if (!(oid instanceof ObjectId)) fail('$dbPointer.$id must be {"$oid": ...}');
      return { value: new DbPointer(str(v.get('$ref'), '$dbPointer.$ref'), oid) };
    }
    default:
      return undefined;
  }
}

/** Any Extended JSON value -> its BSON value. */
export function ejsonValue(v: JsonValue): unknown {
  if (typeof v === 'string' || typeof v === 'boolean' || v === null) return v;
  if (v instanceof JsonNumber) return numberFromText(v.text);
  if (Array.isArray(v)) {
    return v.map((x, i) => {
      try {
        return ejsonValue(x);
      } catch (err) {
        if (err instanceof EjsonValueError) err.path.unshift(String(i));
        throw err;
      }
    });
  }
  const w = wrapper(v);
  if (w) return w.value;
  return documentValue(v);
}

/** An Extended JSON object -> a document (`Map`, key order kept). */
export function documentValue(v: JsonValue): Map<string, unknown> {
  if (!(v instanceof JsonObject)) fail('expected a document (a JSON object)');
  const out = new Map<string, unknown>();
  for (const [k, x] of v.entries) {
    if (out.has(k)) fail(`duplicate key ${JSON.stringify(k)}`);
    try {
      out.set(k, ejsonValue(x));
    } catch (err) {
      if (err instanceof EjsonValueError) err.path.unshift(k);
      throw err;
    }
  }
  return out;
}
