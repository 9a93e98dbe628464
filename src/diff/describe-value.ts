/**
 * Short human descriptions of BSON values for the text and markdown renderers. The type is
 * always part of the description, because a diff that says `19.99 -> "19.99"` hides the fact that
 * a Decimal128 became a String.
 */
import type { Binary, BSONRegExp, Code, DBRef, Decimal128, Long, ObjectId, Timestamp } from 'bson';
import { numberValue, typeName } from './bson-value.js';

export { typeName };

const DEFAULT_MAX_LEN = 80;

/** Cut `s` to `maxLen` characters, marking the cut with `…`. */
export function shorten(s: string, maxLen: number): string {
  if (s.length <= maxLen) return s;
  if (maxLen <= 0) return '';
  if (maxLen === 1) return '…';
  // Do not split a surrogate pair.
  let end = maxLen - 1;
  const c = s.charCodeAt(end - 1);
  if (c >= 0xd800 && c <= 0xdbff) end--;
  return s.slice(0, end) + '…';
}

function formatDouble(n: number): string {
  if (Object.is(n, -0)) return '-0.0';
  if (Number.isInteger(n) && Math.abs(n) < 1e21) return `${n}.0`;
  return String(n);
}

function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

/** The value part of a description, without the type name. */
function valueText(v: unknown, t: string): string {
  switch (t) {
    case 'String':
      return JSON.stringify(v);
    case 'Int32':
      return String(numberValue(v));
    case 'Double':
      return formatDouble(numberValue(v));
    case 'Int64':
      return typeof v === 'bigint' ? v.toString() : (v as Long).toString();
    case 'Decimal128':
      return (v as Decimal128).toString();
    case 'Boolean':
      return String(v);
    case 'Null':
    case 'Undefined':
    case 'MinKey':
    case 'MaxKey':
      return '';
    case 'Date': {
      const d = v as Date;
      return Number.isNaN(d.getTime()) ? 'invalid' : d.toISOString();
    }
    case 'Timestamp':
      return `(${(v as Timestamp).t}, ${(v as Timestamp).i})`;
    case 'ObjectId':
      return (v as ObjectId).toHexString();
    case 'Binary': {
      const b = v as Binary;
      const bytes = b.buffer.subarray(0, b.position);
      if (b.sub_type === 4 && bytes.length === 16) return `UUID ${b.toUUID().toHexString()}`;
      return `subtype ${b.sub_type}, ${bytes.length} bytes ${hex(bytes.subarray(0, 32))}`;
    }
    case 'RegExp': {
      if (v instanceof RegExp) return String(v);
      const r = v as BSONRegExp;
      return `/${r.pattern}/${r.options}`;
    }
    case 'Code': {
      const code = typeof v === 'function' ? String(v) : (v as Code).code;
      const scope = typeof v === 'function' ? null : (v as Code).scope;
      return JSON.stringify(code) + (scope ? ` with scope {…${Object.keys(scope).length} fields}` : '');
    }
    case 'Symbol':
      return JSON.stringify(String((v as { valueOf(): unknown }).valueOf()));
    case 'DBRef': {
      const r = v as DBRef;
      const oid = typeName(r.oid);
      return `${r.db ? r.db + '.' : ''}${r.collection} ${oid} ${valueText(r.oid, oid)}`;
    }
    case 'Document': {
      const n = Object.keys(v as object).length;
      return `{…${n} ${n === 1 ? 'field' : 'fields'}}`;
    }
    case 'Array':
      return `[${(v as unknown[]).length}]`;
    default:
      return '';
  }
}

/**
 * A one-line description of a BSON value with its type: `Decimal128 19.99`, `String "19.99"`,
 * `Int32 5`, `Double 10.0`, `ObjectId 68a7…`, `Date 2025-08-21T14:54:14.519Z`,
 * `Document {…3 fields}`, `Array [4]`, `Null`. Longer than `maxLen` (default 80) -> cut with `…`.
 *
 * @example describeValue(new Double(10)) // 'Double 10.0'
 */
export function describeValue(v: unknown, maxLen = DEFAULT_MAX_LEN): string {
  const t = typeName(v);
  const text = valueText(v, t);
  return shorten(text === '' ? t : `${t} ${text}`, maxLen);
}

/** Types whose literal is unambiguous enough to show without the type name when the type did not change. */
const BARE_TYPES = new Set(['String', 'Int32', 'Int64', 'Double', 'Decimal128', 'Boolean', 'Date']);

/**
 * The value as a reader would write it where its type is known from context (`"Bern"`, `5`,
 * `10.0`, `true`); other types keep their type name (`ObjectId 68a7…`, `Document {…3 fields}`).
 * Used for `_id`s and same-type changes.
 */
export function valueLiteral(v: unknown, maxLen = DEFAULT_MAX_LEN): string {
  const t = typeName(v);
  if (t === 'Null') return 'null';
  return BARE_TYPES.has(t) ? shorten(valueText(v, t), maxLen) : describeValue(v, maxLen);
}
