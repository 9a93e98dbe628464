/**
 * Canonical part bytes -> BSON, in one pass: accepts only the UTF-8 bytes of part-file text in
 * dbsnap's canonical form (docs/FORMAT.md, "Document encoding"), token by token (layout,
 * separators, indentation, type wrappers), compares each scalar with the writer's own text for
 * the value it stands for (`String(n)`, doubleText, the writer's ISO date, decimalText, base64 of
 * the decoded bytes), and writes each document's BSON as it goes.
 *
 * Two callers. Verify asks only "is this canonical, and what are the `_id`s": it used to parse
 * every part into documents, serialise them and write them back to text to compare. Restore
 * wants each document's BSON: it used to parse the text (JSON.parse, then a walk turning type
 * wrappers into BSON values) and have the driver serialise the values again.
 *
 * The answer is exact or nothing: anything the scanner does not recognise (an escaped document, a
 * rare type, a backslash in a field name, any edit, bytes that are not UTF-8) gives null, and the
 * caller goes the full way (readPartFile and the writer), which also says what is wrong. So it may
 * refuse canonical text, never accept other text, and what it gives is what
 * `serializeDocument(readPartFile(text))` gives, byte for byte.
 *
 * Like the writer, the scanner keeps its cursor and output buffer in module state; its entry point
 * is synchronous.
 */
import { isUtf8 } from 'node:buffer';
import { Int32, ObjectId } from 'bson';
import { MAX_JS_DATE_MS } from './bson-special-values.js';
import { putBinaryAt, putInt32At, putStringAt } from './bson-value-bytes.js';
import { KEEP_AT_MOST, withRoom } from './byte-buffer.js';
import { decimalValue } from './extended-json-values.js';
import { decimalText, doubleText, MAX_ISO_DATE_MS } from './scalar-text.js';

/** Deeper than this, the scanner gives up (the writer refuses 254 levels). */
const MAX_DEPTH = 200;

const NO_BYTES = Buffer.alloc(0);
let src: Buffer = NO_BYTES;
let pos = 0;
let out: Buffer = Buffer.allocUnsafe(64 * 1024);
let o = 0;

/** Thrown (as a value) when the text is not what the scanner accepts. */
const UNSURE = Symbol('unsure');
function unsure(): never {
  throw UNSURE;
}

function room(n: number): void {
  if (o + n > out.length) out = withRoom(out, o, o + n);
}

function putInt32(v: number): void {
  o = putInt32At(out, o, v);
}

/** An Int64 whose value is a safe integer: low word, then high word. */
function putInt64(n: number): void {
  const high = Math.floor(n / 4294967296);
  putInt32(n - high * 4294967296);
  putInt32(high);
}

const bytesOf = (s: string) => Buffer.from(s, 'latin1');

/** Advances past `literal` if the bytes at `pos` are exactly it; else false, nothing consumed. */
function at(literal: Uint8Array): boolean {
  const n = literal.length;
  if (pos + n > src.length) return false;
  for (let i = 0; i < n; i++) if (src[pos + i] !== literal[i]) return false;
  pos += n;
  return true;
}

function expect(literal: Uint8Array): void {
  if (!at(literal)) unsure();
}

function expectByte(c: number): void {
  if (src[pos] !== c) unsure();
  pos++;
}

function expectIndent(depth: number): void {
  for (let end = pos + 2 * depth; pos < end; pos++) if (src[pos] !== 0x20) unsure();
}

const COLON = bytesOf(': ');
const COMMA = bytesOf(', ');
const COMMA_LINE = bytesOf(',\n');

// Field names seen in the object open at each depth (the writer refuses duplicates), as
// start offsets and lengths in `src`.
const keyLists: number[][] = [];
function keysAt(depth: number): number[] {
  const keys = (keyLists[depth] ??= []);
  keys.length = 0;
  return keys;
}

/** Copies `src[start, end)` to the output (room made by the caller); a loop for short runs, where Buffer#copy's call costs more. */
function copyOut(start: number, end: number): void {
  if (end - start > 32) {
    src.copy(out, o, start, end);
    o += end - start;
  } else {
    for (let p = start; p < end; p++) out[o++] = src[p]!;
  }
}

function sameBytes(a: number, b: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (src[a + i] !== src[b + i]) return false;
  return true;
}

/**
 * A field name: only names the writer emits as they are (no backslash, no control character, so
 * no NUL either), written as a BSON cstring. Returns its length in bytes.
 */
function key(keys: number[]): number {
  if (src[pos] !== 0x22) unsure();
  const start = pos + 1;
  let p = start;
  for (;;) {
    const c = src[p];
    if (c === 0x22) break;
    if (c === 0x5c || c === undefined || c < 0x20) unsure();
    p++;
  }
  const n = p - start;
  for (let i = 0; i < keys.length; i += 2) if (keys[i + 1] === n && sameBytes(keys[i]!, start, n)) unsure();
  keys.push(start, n);
  room(n + 1);
  copyOut(start, p);
  out[o++] = 0;
  pos = p + 1;
  return n;
}

/** An array index as a cstring. */
function indexKey(i: number): void {
  room(12);
  if (i < 10) {
    out[o++] = 0x30 + i;
  } else {
    let digits = 1;
    for (let n = i; n >= 10; n = Math.floor(n / 10)) digits++;
    o += digits;
    for (let n = i, p = o - 1; digits > 0; digits--, n = Math.floor(n / 10)) out[p--] = 0x30 + (n % 10);
  }
  out[o++] = 0;
}

/** A string value, written as a BSON string. Text with escapes must be exactly JSON.stringify of its value. */
function string(): void {
  const start = pos;
  let p = pos + 1;
  let escaped = false;
  for (;;) {
    const c = src[p];
    if (c === 0x22) break;
    if (c === 0x5c) {
      escaped = true;
      p += 2;
      continue;
    }
    if (c === undefined || c < 0x20) unsure();
    p++;
  }
  pos = p + 1;
  lastEscaped = escaped;
  if (!escaped) {
    const n = p - start - 1;
    room(n + 5);
    putInt32(n + 1);
    copyOut(start + 1, p);
    out[o++] = 0;
    return;
  }
  const token = src.toString('utf8', start, pos);
  let value: unknown;
  try {
    value = JSON.parse(token);
  } catch {
    unsure();
  }
  if (typeof value !== 'string' || JSON.stringify(value) !== token) unsure();
  room(value.length * 3 + 5);
  o = putStringAt(out, o, value);
}

/** The text up to the next `"` (inside a wrapper's string, where the writer never escapes). */
function plainUntilQuote(): string {
  const end = src.indexOf(0x22, pos);
  if (end < 0) unsure();
  const s = src.toString('latin1', pos, end);
  pos = end + 1;
  return s;
}

const isNumberByte = (c: number) => (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45;

/** A bare number: an Int32 or a non-integral finite double, exactly as String() writes it. Returns its BSON type. */
function number(): number {
  const start = pos;
  let c = src[pos]!;
  const negative = c === 0x2d;
  if (negative) c = src[++pos]!;
  const digitsStart = pos;
  let n = 0;
  while (c >= 0x30 && c <= 0x39) {
    n = n * 10 + (c - 0x30);
    c = src[++pos]!;
  }
  if (!isNumberByte(c)) {
    // An integer: digits without a leading zero, no "-0", in the Int32 range.
    const count = pos - digitsStart;
    if (count === 0 || count > 10 || (count > 1 && src[digitsStart] === 0x30) || (negative && n === 0)) unsure();
    if (negative) n = -n;
    if (n < -2147483648 || n > 2147483647) unsure();
    lastInt32 = n;
    room(4);
    putInt32(n);
    return 0x10;
  }
  while (isNumberByte(c)) c = src[++pos]!;
  const token = src.toString('latin1', start, pos);
  const x = Number(token);
  if (Number.isInteger(x) || !Number.isFinite(x) || String(x) !== token) unsure();
  room(8);
  o = out.writeDoubleLE(x, o);
  return 0x01;
}

/** An unsigned 32-bit integer as the writer writes a timestamp's parts. */
function uint32Text(): number {
  const start = pos;
  let n = 0;
  let c = src[pos]!;
  while (c >= 0x30 && c <= 0x39) {
    n = n * 10 + (c - 0x30);
    c = src[++pos]!;
  }
  const count = pos - start;
  if (count === 0 || count > 10 || n > 4294967295 || (count > 1 && src[start] === 0x30)) unsure();
  return n;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * The decimal text of an Int64 inside a wrapper, exactly as the writer gives it (no sign on zero,
 * no leading zeros), up to its closing quote.
 */
function int64Text(): number | bigint {
  // Up to 15 digits: read here, without a string.
  let p = pos;
  const negative = src[p] === 0x2d;
  if (negative) p++;
  const start = p;
  let n = 0;
  let c = src[p]!;
  while (c >= 0x30 && c <= 0x39 && p - start < 15) {
    n = n * 10 + (c - 0x30);
    c = src[++p]!;
  }
  const count = p - start;
  if (c === 0x22 && count > 0 && (count === 1 || src[start] !== 0x30) && !(negative && n === 0)) {
    pos = p + 1;
    return negative ? -n : n;
  }
  const s = plainUntilQuote();
  if (s.length < 16) {
    const n = Number(s);
    if (String(n) !== s) unsure();
    return n;
  }
  let b: bigint;
  try {
    b = BigInt(s);
  } catch {
    unsure();
  }
  if (b < INT64_MIN || b > INT64_MAX || b.toString() !== s) unsure();
  return b;
}

function putInt64Value(v: number | bigint): void {
  room(8);
  if (typeof v === 'number') putInt64(v);
  else o = out.writeBigInt64LE(v, o);
}

const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** `count` decimal digits at `pos` as a number, or -1 if any is not a digit. */
function digits(count: number): number {
  let n = 0;
  for (let end = pos + count; pos < end; pos++) {
    const d = src[pos]! - 0x30;
    if (!(d >= 0 && d <= 9)) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * A date as the writer writes one from 1970 to 9999: `YYYY-MM-DDTHH:MM:SS.mmmZ`, every field in
 * range (what the writer gives for exactly one instant). Returns its epoch milliseconds.
 */
function isoDate(): number {
  const year = digits(4);
  if (year < 1970 || src[pos++] !== 0x2d) unsure();
  const month = digits(2);
  if (month < 1 || month > 12 || src[pos++] !== 0x2d) unsure();
  const day = digits(2);
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day < 1 || day > DAYS_IN_MONTH[month]! + (leap ? 1 : 0) || src[pos++] !== 0x54) unsure();
  const hour = digits(2);
  if (hour < 0 || hour > 23 || src[pos++] !== 0x3a) unsure();
  const minute = digits(2);
  if (minute < 0 || minute > 59 || src[pos++] !== 0x3a) unsure();
  const second = digits(2);
  if (second < 0 || second > 59 || src[pos++] !== 0x2e) unsure();
  const ms = digits(3);
  if (ms < 0 || src[pos++] !== 0x5a) unsure();
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

// Hex digit values, lowercase only (the writer's ObjectId text); -1 for anything else.
const HEX = new Int8Array(256).fill(-1);
for (let i = 0; i < 16; i++) HEX['0123456789abcdef'.charCodeAt(i)] = i;

const OID = bytesOf('{"$oid": "');
const DATE = bytesOf('{"$date": "');
const DATE_LONG = bytesOf('{"$date": {"$numberLong": "');
const DECIMAL = bytesOf('{"$numberDecimal": "');
const LONG = bytesOf('{"$numberLong": "');
const DOUBLE = bytesOf('{"$numberDouble": "');
const BINARY = bytesOf('{"$binary": {"base64": "');
const SUBTYPE = bytesOf(', "subType": "');
const TIMESTAMP = bytesOf('{"$timestamp": {"t": ');
const TIMESTAMP_I = bytesOf(', "i": ');
const MIN_KEY = bytesOf('{"$minKey": 1}');
const MAX_KEY = bytesOf('{"$maxKey": 1}');
const REF = bytesOf('"$ref"');
const CLOSE = bytesOf('"}');
const CLOSE2 = bytesOf('"}}');
const CLOSE_NESTED = bytesOf('}}');

/**
 * A Decimal128 in the plain form the writer gives values with at most 15 digits on either side
 * of the point (`-?I(.F)?`, I without leading zeros, not 7 or more zeros after the point before
 * the first digit): writes its 16 bytes (coefficient I F, exponent minus the length of F, as
 * decimalValue builds them), advances past the closing quote and returns true. False, nothing
 * consumed or written, for every other text, which the general way compares with decimalText.
 */
function plainDecimal(): boolean {
  let p = pos;
  const negative = src[p] === 0x2d;
  if (negative) p++;
  const intStart = p;
  let coefficient = 0;
  let c = src[p]!;
  while (c >= 0x30 && c <= 0x39) {
    coefficient = coefficient * 10 + (c - 0x30);
    c = src[++p]!;
  }
  const intLength = p - intStart;
  let fractionStart = p;
  if (c === 0x2e) {
    fractionStart = ++p;
    c = src[p]!;
    while (c >= 0x30 && c <= 0x39) {
      coefficient = coefficient * 10 + (c - 0x30);
      c = src[++p]!;
    }
    if (p === fractionStart) return false;
  }
  const fractionLength = p - fractionStart;
  if (c !== 0x22 || intLength === 0 || intLength + fractionLength > 15) return false;
  if (src[intStart] === 0x30) {
    if (intLength > 1) return false;
    // 0.000000d...: bson writes 7 or more leading zeros in exponent form.
    let k = fractionStart;
    while (k < p && src[k] === 0x30) k++;
    const significant = k === p ? 1 : p - k;
    if (significant - 1 - fractionLength <= -7) return false;
  }
  room(16);
  const high = Math.floor(coefficient / 4294967296);
  putInt32(coefficient - high * 4294967296);
  putInt32(high);
  putInt32(0);
  putInt32((negative ? 0x80000000 : 0) | ((6176 - fractionLength) << 17));
  pos = p + 1;
  return true;
}

/**
 * A type wrapper at `pos` (a `{` followed by `"$`, not `"$ref"`): the exact one-line text the
 * writer gives its value, written as that value. Returns its BSON type. Rare types (regex, code,
 * symbol, DBPointer, Undefined, dates beyond a JS Date, escaped documents) are left to the full way.
 */
function wrapper(): number {
  switch (src[pos + 3]) {
    case 0x6f: // o
      if (!at(OID)) break;
      room(12);
      for (let i = 0; i < 12; i++, pos += 2) {
        const hi = HEX[src[pos]!]!;
        const lo = HEX[src[pos + 1]!]!;
        if (hi < 0 || lo < 0) unsure();
        out[o++] = (hi << 4) | lo;
      }
      expect(CLOSE);
      return 0x07;
    case 0x64: // d
      if (at(DATE)) {
        const ms = isoDate();
        expect(CLOSE);
        room(8);
        putInt64(ms);
        return 0x09;
      }
      if (at(DATE_LONG)) {
        // Dates before 1970 or after 9999 (the writer writes the others as ISO text). One a JS
        // Date cannot hold is left to the full way, which carries it exactly (OUT_OF_RANGE_DATE_MS):
        // rare enough not to be worth reading here.
        const ms = int64Text();
        if (typeof ms !== 'number' || (ms >= 0 && ms <= MAX_ISO_DATE_MS) || Math.abs(ms) > MAX_JS_DATE_MS) unsure();
        expect(CLOSE_NESTED);
        room(8);
        putInt64(ms);
        return 0x09;
      }
      break;
    case 0x6e: // n
      if (at(DECIMAL)) {
        if (plainDecimal()) {
          expectByte(0x7d);
          return 0x13;
        }
        const s = plainUntilQuote();
        let bytes: Uint8Array;
        try {
          bytes = decimalValue(s).bytes;
        } catch {
          unsure();
        }
        if (decimalText(bytes, 0) !== s) unsure();
        expectByte(0x7d);
        room(16);
        out.set(bytes, o);
        o += 16;
        return 0x13;
      }
      if (at(LONG)) {
        const v = int64Text();
        expectByte(0x7d);
        putInt64Value(v);
        return 0x12;
      }
      {
        const start = pos;
        if (!at(DOUBLE)) break;
        const x = Number(plainUntilQuote());
        expectByte(0x7d);
        if (doubleText(x) !== src.toString('latin1', start, pos)) unsure();
        room(8);
        o = out.writeDoubleLE(x, o);
        return 0x01;
      }
    case 0x62: {
      // b
      if (!at(BINARY)) break;
      const base64 = plainUntilQuote();
      const data = Buffer.from(base64, 'base64');
      if (data.toString('base64') !== base64) unsure();
      expect(SUBTYPE);
      const hi = HEX[src[pos]!]!;
      const lo = HEX[src[pos + 1]!]!;
      if (hi < 0 || lo < 0) unsure();
      pos += 2;
      expect(CLOSE2);
      room(data.length + 9);
      o = putBinaryAt(out, o, data, (hi << 4) | lo);
      return 0x05;
    }
    case 0x74: {
      // t
      if (!at(TIMESTAMP)) break;
      const t = uint32Text();
      expect(TIMESTAMP_I);
      const i = uint32Text();
      expect(CLOSE_NESTED);
      room(8);
      putInt32(i);
      putInt32(t);
      return 0x11;
    }
    case 0x6d: // m
      if (at(MIN_KEY)) return 0xff;
      if (at(MAX_KEY)) return 0x7f;
      break;
  }
  return unsure();
}

// The value just read, for a document's `_id`: an Int32's value; an ObjectId's bytes are the
// last 12 written, copied here for the ObjectId to read (it keeps numbers, not the array).
let lastInt32 = 0;
let lastEscaped = false;
const OID_BYTES = new Uint8Array(12);

/**
 * The value at `pos`, written as BSON; returns its type. `depth` is the indentation level of the
 * line it starts on; `compact`: the writer puts it on one line (a top-level `_id`, and everything
 * inside one).
 */
function value(depth: number, compact: boolean): number {
  const c = src[pos];
  if (c === 0x22) {
    string();
    return 0x02;
  }
  if (c === 0x7b) {
    if (src[pos + 1] === 0x22 && src[pos + 2] === 0x24 && !refAt(pos + 1)) return wrapper();
    members(depth, compact, false);
    return 0x03;
  }
  if (c === 0x5b) {
    members(depth, compact, true);
    return 0x04;
  }
  if (c === 0x74) {
    if (!at(TRUE)) unsure();
    room(1);
    out[o++] = 1;
    return 0x08;
  }
  if (c === 0x66) {
    if (!at(FALSE)) unsure();
    room(1);
    out[o++] = 0;
    return 0x08;
  }
  if (c === 0x6e) {
    if (!at(NULL)) unsure();
    return 0x0a;
  }
  return number();
}
const TRUE = bytesOf('true');
const FALSE = bytesOf('false');
const NULL = bytesOf('null');

/**
 * An embedded document (not a wrapper) or an array at `pos`, laid out as the writer lays it out
 * (members one per line at `depth + 1`, or with `compact` on one line), written as its BSON body.
 */
function members(depth: number, compact: boolean, array: boolean): void {
  if (depth >= MAX_DEPTH) unsure();
  const close = array ? 0x5d : 0x7d;
  pos++;
  room(5);
  const start = o;
  o += 4;
  if (src[pos] === close) {
    pos++;
    out[o++] = 0;
    out.writeInt32LE(o - start, start);
    return;
  }
  const keys = array ? null : keysAt(depth);
  if (!compact) {
    expectByte(0x0a);
    expectIndent(depth + 1);
  }
  // A first name starting with "$" (other than $ref) is escaped by the writer: not handled here.
  if (keys && src[pos + 1] === 0x24 && !refAt(pos)) unsure();
  for (let i = 0; ; i++) {
    room(1);
    const typeAt = o++;
    if (keys) {
      key(keys);
      expect(COLON);
    } else {
      indexKey(i);
    }
    // Not `out[typeAt] = value(...)`: that takes `out` before value() may replace it with a larger buffer.
    const type = value(depth + 1, compact);
    out[typeAt] = type;
    if (compact) {
      if (src[pos] === close) break;
      expect(COMMA);
    } else {
      if (src[pos] !== 0x2c) break;
      expect(COMMA_LINE);
      expectIndent(depth + 1);
    }
  }
  if (!compact) {
    expectByte(0x0a);
    expectIndent(depth);
  }
  expectByte(close);
  room(1);
  out[o++] = 0;
  out.writeInt32LE(o - start, start);
}

/** The bytes at `p` are the field name `"$ref"` (a DBRef-like document, not a wrapper). */
function refAt(p: number): boolean {
  for (let i = 0; i < REF.length; i++) if (src[p + i] !== REF[i]) return false;
  return true;
}

const DOCUMENT_OPEN = bytesOf('  {\n    ');
const DOCUMENT_CLOSE = bytesOf('\n  }');
const ID = bytesOf('_id');

// Each document's `_id` so far, kept as numbers until one is wanted as a value: its BSON type
// and where its value is (an ObjectId's bytes in `out`, an Int32's value, a string token's start
// and end in `src`), and whether they strictly ascend, compared here as MongoDB orders them.
const idType: number[] = [];
const idAt: number[] = [];
const idEnd: number[] = [];
let ascending = true;

function recordId(type: number, at: number, end: number, comparable: boolean): void {
  const n = idType.length;
  if (ascending && n > 0) ascending = comparable && idType[n - 1] === type && idBefore(type, idAt[n - 1]!, idEnd[n - 1]!, at, end);
  else if (n === 0) ascending = comparable;
  idType.push(type);
  idAt.push(at);
  idEnd.push(end);
}

/** The `_id` at `a` is smaller than the one at `b`, both of BSON type `type`. */
function idBefore(type: number, a: number, aEnd: number, b: number, bEnd: number): boolean {
  if (type === 0x10) return a < b;
  if (type === 0x07) {
    for (let i = 0; i < 12; i++) {
      const x = out[a + i]!;
      const y = out[b + i]!;
      if (x !== y) return x < y;
    }
    return false;
  }
  // Unescaped strings: their UTF-8 bytes between the quotes, in byte order (compareStrings').
  const aLength = aEnd - a - 2;
  const bLength = bEnd - b - 2;
  for (let i = 0, n = Math.min(aLength, bLength); i < n; i++) {
    const x = src[a + 1 + i]!;
    const y = src[b + 1 + i]!;
    if (x !== y) return x < y;
  }
  return aLength < bLength;
}

/** The `_id` of document `i` as readPartFile gives it. */
function idValue(i: number): unknown {
  const at = idAt[i]!;
  switch (idType[i]) {
    case 0x07:
      for (let k = 0; k < 12; k++) OID_BYTES[k] = out[at + k]!;
      return new ObjectId(OID_BYTES);
    case 0x10:
      return new Int32(at);
    default:
      return JSON.parse(src.toString('utf8', at, idEnd[i])) as string;
  }
}

/** A part file's document (starts with `  {`), written as BSON, its `_id` recorded. */
function topDocument(): void {
  expect(DOCUMENT_OPEN);
  // A top-level document whose first name starts with "$" is escaped by the writer, or invalid.
  if (src[pos + 1] === 0x24) unsure();
  const keys = keysAt(1);
  room(4);
  const start = o;
  o += 4;
  let found = false;
  for (;;) {
    room(1);
    const typeAt = o++;
    const nameAt = pos + 1;
    const isId = key(keys) === 3 && sameId(nameAt);
    expect(COLON);
    if (isId) {
      const valueAt = pos;
      const type = value(2, true);
      out[typeAt] = type;
      if (type === 0x07) recordId(type, o - 12, 0, true);
      else if (type === 0x10) recordId(type, lastInt32, 0, true);
      else if (type === 0x02) recordId(type, valueAt, pos, !lastEscaped);
      else unsure(); // other _id types: the full reader decodes them
      found = true;
    } else {
      const type = value(2, false);
      out[typeAt] = type;
    }
    if (src[pos] !== 0x2c) break;
    expect(COMMA_LINE);
    expectIndent(2);
  }
  expect(DOCUMENT_CLOSE);
  if (!found) unsure(); // no _id: the full check names the document
  room(1);
  out[o++] = 0;
  out.writeInt32LE(o - start, start);
}

function sameId(p: number): boolean {
  return src[p] === ID[0] && src[p + 1] === ID[1] && src[p + 2] === ID[2];
}

/** A part's documents as BSON, from {@link readCanonicalPart}. */
export interface CanonicalPart {
  /** The number of documents. */
  documents: number;
  /** The first and the last document's `_id` as readPartFile gives them (undefined when there are none). */
  firstId: unknown;
  lastId: unknown;
  /**
   * Each document's `_id` as readPartFile gives it (only ObjectId, Int32 and string `_id`s are
   * accepted); null when they strictly ascend, all of one type, as dbsnap writes them, unless
   * asked for (`ids: true`).
   */
  ids: unknown[] | null;
  /** The documents' BSON, one after the other (empty without the `bson` option). */
  bson: Buffer;
  /** Where each document starts in `bson`, and (last) where the last one ends: `documents + 1` offsets. */
  starts: number[];
}

const PART_OPEN = bytesOf('[\n');
const PART_SEPARATOR = bytesOf(',\n');
const PART_CLOSE = bytesOf('\n]\n');

/**
 * The documents of a part file when its bytes are exactly what dbsnap writes for them (the
 * reader would read the text without error and the writer would write them back to the same
 * text, in stored key order): their `_id`s and BSON, which is what `serializeDocument` gives for
 * each document readPartFile reads. Null when it cannot tell: then use readPartFile.
 *
 * Options: `bson` (default true) keeps the BSON, else only the offsets; `ids` (default false)
 * lists every `_id` even when they ascend (checking their order is then the caller's).
 *
 * @example
 * readCanonicalPart(Buffer.from('[\n  {\n    "_id": 1\n  }\n]\n'))!.firstId; // Int32 { value: 1 }
 * readCanonicalPart(Buffer.from('[\n  {\n    "_id": 1.0\n  }\n]\n')); // null (the writer writes 1)
 */
export function readCanonicalPart(bytes: Uint8Array, opts: { bson?: boolean; ids?: boolean } = {}): CanonicalPart | null {
  src = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  pos = 0;
  o = 0;
  idType.length = 0;
  idAt.length = 0;
  idEnd.length = 0;
  ascending = true;
  try {
    if (src.length === 3 && src[0] === 0x5b && src[1] === 0x5d && src[2] === 0x0a) {
      return { documents: 0, firstId: undefined, lastId: undefined, ids: opts.ids ? [] : null, bson: NO_BYTES, starts: [0] };
    }
    // Text is decoded as UTF-8 on the full way: bytes that are not UTF-8 would read differently.
    if (!isUtf8(src)) return null;
    expect(PART_OPEN);
    const starts: number[] = [];
    for (;;) {
      starts.push(o);
      topDocument();
      if (src[pos] !== 0x2c) break;
      expect(PART_SEPARATOR);
    }
    expect(PART_CLOSE);
    if (pos !== src.length) return null;
    starts.push(o);
    const n = idType.length;
    let ids: unknown[] | null = null;
    if (opts.ids || !ascending) {
      ids = new Array<unknown>(n);
      for (let i = 0; i < n; i++) ids[i] = idValue(i);
    }
    return {
      documents: n,
      firstId: ids ? ids[0] : idValue(0),
      lastId: ids ? ids[n - 1] : idValue(n - 1),
      ids,
      bson: opts.bson === false ? NO_BYTES : Buffer.from(out.subarray(0, o)),
      starts,
    };
  } catch (err) {
    if (err === UNSURE) return null;
    throw err;
  } finally {
    src = NO_BYTES;
    if (out.length > KEEP_AT_MOST) out = Buffer.allocUnsafe(64 * 1024);
  }
}
