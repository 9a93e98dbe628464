/**
 * An exact check that part-file text is in dbsnap's canonical form (docs/FORMAT.md, "Document
 * encoding"), without re-serialising: one pass over the text that accepts only what the document
 * writer emits, token by token (layout, separators, indentation, type wrappers), and compares each
 * scalar with the writer's own text for the value it stands for (`String(n)`, doubleText,
 * the writer's ISO date, decimalText, base64 of the decoded bytes).
 *
 * Verify used to parse every part into documents, serialise them to BSON and write them back to
 * text to compare (about half of its CPU). The check here answers only "yes, canonical" or "cannot
 * tell" (null): anything it does not recognise (an escaped document, a rare type, a backslash in a
 * field name, any edit) sends the caller to the full reader and writer, which also say what is
 * wrong. So it may refuse canonical text, never accept other text.
 *
 * Like the writer, the scanner keeps its cursor in module state; its entry point is synchronous.
 */
import { Int32, ObjectId } from 'bson';
import { decimalValue } from './extended-json-values.js';
import { decimalText, doubleText, MAX_ISO_DATE_MS } from './scalar-text.js';

/** Deeper than this, the scanner gives up (the writer refuses 254 levels). */
const MAX_DEPTH = 200;
const INDENT: string[] = [];
for (let i = 0, s = ''; i <= MAX_DEPTH + 2; i++, s += '  ') INDENT.push(s);

let text = '';
let pos = 0;

/** Thrown (as a value) when the text is not what the scanner accepts. */
const UNSURE = Symbol('unsure');
function unsure(): never {
  throw UNSURE;
}

function expect(literal: string): void {
  if (!text.startsWith(literal, pos)) unsure();
  pos += literal.length;
}

// Field names already seen in the object open at each depth (the writer refuses duplicates).
const keyLists: string[][] = [];
function keysAt(depth: number): string[] {
  const keys = (keyLists[depth] ??= []);
  keys.length = 0;
  return keys;
}

/**
 * A field name: only names the writer emits as they are (no backslash, no control character).
 * The writer writes a name as its JSON.stringify, which leaves every other character alone.
 */
function key(keys: string[]): string {
  if (text.charCodeAt(pos) !== 0x22) unsure();
  const start = pos + 1;
  let p = start;
  for (;;) {
    const c = text.charCodeAt(p);
    if (c === 0x22) break;
    if (c === 0x5c || c < 0x20 || p >= text.length) unsure();
    p++;
  }
  const name = text.slice(start, p);
  if (keys.includes(name)) unsure();
  keys.push(name);
  pos = p + 1;
  return name;
}

/** A string value; returns it decoded. Text with escapes must be exactly JSON.stringify of its value. */
function string(): string {
  const start = pos;
  let p = pos + 1;
  let escaped = false;
  for (;;) {
    const c = text.charCodeAt(p);
    if (c === 0x22) break;
    if (c === 0x5c) {
      escaped = true;
      p += 2;
      continue;
    }
    if (c < 0x20 || p >= text.length) unsure();
    p++;
  }
  pos = p + 1;
  if (!escaped) return text.slice(start + 1, p);
  const token = text.slice(start, pos);
  let value: unknown;
  try {
    value = JSON.parse(token);
  } catch {
    unsure();
  }
  if (typeof value !== 'string' || JSON.stringify(value) !== token) unsure();
  return value;
}

/** The text up to the next `"` (inside a wrapper's string, where the writer never escapes). */
function plainUntilQuote(): string {
  const end = text.indexOf('"', pos);
  if (end < 0) unsure();
  const s = text.slice(pos, end);
  pos = end + 1;
  return s;
}

/** A bare number: an Int32 or a non-integral finite double, exactly as String() writes it. */
function number(): number {
  const start = pos;
  let c = text.charCodeAt(pos);
  while ((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65 || c === 0x45) c = text.charCodeAt(++pos);
  const token = text.slice(start, pos);
  const n = Number(token);
  if (Number.isInteger(n) ? n < -2147483648 || n > 2147483647 : !Number.isFinite(n)) unsure();
  if (String(n) !== token) unsure();
  return n;
}

/** An unsigned 32-bit integer as the writer writes a timestamp's parts. */
function uint32Text(): void {
  const start = pos;
  let c = text.charCodeAt(pos);
  while (c >= 0x30 && c <= 0x39) c = text.charCodeAt(++pos);
  const token = text.slice(start, pos);
  const n = Number(token);
  if (token.length === 0 || token.length > 10 || n > 4294967295 || String(n) !== token) unsure();
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * The decimal text of an Int64 inside a wrapper, exactly as the writer gives it (no sign on zero,
 * no leading zeros); returns its value (beyond 2^53 only roughly, which is enough for range checks).
 */
function int64Text(): number {
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
  return Number(b);
}

// What a value turned out to be; the scanner needs to know only for a document's `_id`.
const OTHER = 0;
const OBJECT_ID = 1;
const INT32 = 2;
const STRING = 3;
let lastHexAt = 0;
let lastNumber = 0;
let lastString = '';

const DAYS_IN_MONTH = [0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** `count` decimal digits at `pos` as a number, or -1 if any is not a digit. */
function digits(count: number): number {
  let n = 0;
  for (let end = pos + count; pos < end; pos++) {
    const d = text.charCodeAt(pos) - 0x30;
    if (!(d >= 0 && d <= 9)) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * A date as the writer writes one from 1970 to 9999: `YYYY-MM-DDTHH:MM:SS.mmmZ`, every field in
 * range (what the writer gives for exactly one instant, read back by Date.parse to that instant).
 */
function isoDate(): void {
  const year = digits(4);
  if (year < 1970 || text.charCodeAt(pos++) !== 0x2d) unsure();
  const month = digits(2);
  if (month < 1 || month > 12 || text.charCodeAt(pos++) !== 0x2d) unsure();
  const day = digits(2);
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day < 1 || day > DAYS_IN_MONTH[month]! + (leap ? 1 : 0) || text.charCodeAt(pos++) !== 0x54) unsure();
  const hour = digits(2);
  if (hour < 0 || hour > 23 || text.charCodeAt(pos++) !== 0x3a) unsure();
  const minute = digits(2);
  if (minute < 0 || minute > 59 || text.charCodeAt(pos++) !== 0x3a) unsure();
  const second = digits(2);
  if (second < 0 || second > 59 || text.charCodeAt(pos++) !== 0x2e) unsure();
  if (digits(3) < 0 || text.charCodeAt(pos++) !== 0x5a) unsure();
}

function digitsEnd(p: number): number {
  let c = text.charCodeAt(p);
  while (c >= 0x30 && c <= 0x39) c = text.charCodeAt(++p);
  return p;
}

/**
 * A Decimal128 in the plain form the writer gives values with at most 15 digits on either side
 * of the point (`-?I(.F)?`, I without leading zeros, not 7 or more zeros after the point before
 * the first digit): advances past its closing quote and returns true. False (nothing consumed)
 * for every other text, which the general check then compares with decimalText.
 */
function plainDecimal(): boolean {
  let p = pos;
  if (text.charCodeAt(p) === 0x2d) p++;
  const intStart = p;
  p = digitsEnd(p);
  const intLength = p - intStart;
  let fractionStart = p;
  if (text.charCodeAt(p) === 0x2e) {
    fractionStart = p + 1;
    p = digitsEnd(fractionStart);
    if (p === fractionStart) return false;
  }
  const fractionLength = p - fractionStart;
  if (text.charCodeAt(p) !== 0x22 || intLength === 0 || intLength + fractionLength > 15) return false;
  if (text.charCodeAt(intStart) === 0x30) {
    if (intLength > 1) return false;
    // 0.000000d...: bson writes 7 or more leading zeros in exponent form.
    let k = fractionStart;
    while (k < p && text.charCodeAt(k) === 0x30) k++;
    const significant = k === p ? 1 : p - k;
    if (significant - 1 - fractionLength <= -7) return false;
  }
  pos = p + 1;
  return true;
}

/**
 * A type wrapper at `pos` (a `{` followed by `"$`, not `"$ref"`): the exact one-line text the
 * writer gives its value. Rare types (regex, code, symbol, DBPointer, Undefined, out-of-range
 * dates, escaped documents) are left to the full check.
 */
function wrapper(): number {
  // The common wrappers first, told apart by one character, checked where they stand.
  if (text.startsWith('{"$oid": "', pos)) {
    pos += 10;
    lastHexAt = pos;
    for (let end = pos + 24; pos < end; pos++) {
      const c = text.charCodeAt(pos);
      if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) unsure();
    }
    expect('"}');
    return OBJECT_ID;
  }
  if (text.startsWith('{"$date": "', pos)) {
    pos += 11;
    isoDate();
    expect('"}');
    return OTHER;
  }
  if (text.startsWith('{"$numberDecimal": "', pos)) {
    pos += 20;
    if (!plainDecimal()) {
      const s = plainUntilQuote();
      let bytes: Uint8Array;
      try {
        bytes = decimalValue(s).bytes;
      } catch {
        unsure();
      }
      if (decimalText(bytes, 0) !== s) unsure();
    }
    expect('}');
    return OTHER;
  }
  if (text.startsWith('{"$numberLong": "', pos)) {
    pos += 17;
    int64Text();
    expect('}');
    return OTHER;
  }
  if (text.startsWith('{"$date": {"$numberLong": "', pos)) {
    // Dates before 1970 or after 9999 (the writer writes the others as ISO text).
    pos += 27;
    const ms = int64Text();
    if (ms >= 0 && ms <= MAX_ISO_DATE_MS) unsure();
    expect('}}');
    return OTHER;
  }
  if (text.startsWith('{"$numberDouble": "', pos)) {
    const start = pos;
    pos += 19;
    const s = plainUntilQuote();
    expect('}');
    if (doubleText(Number(s)) !== text.slice(start, pos)) unsure();
    return OTHER;
  }
  if (text.startsWith('{"$binary": {"base64": "', pos)) {
    pos += 24;
    const base64 = plainUntilQuote();
    if (Buffer.from(base64, 'base64').toString('base64') !== base64) unsure();
    expect(', "subType": "');
    const subType = plainUntilQuote();
    if (subType.length !== 2 || !/^[0-9a-f]{2}$/.test(subType)) unsure();
    expect('}}');
    return OTHER;
  }
  if (text.startsWith('{"$timestamp": {"t": ', pos)) {
    pos += 21;
    uint32Text();
    expect(', "i": ');
    uint32Text();
    expect('}}');
    return OTHER;
  }
  if (text.startsWith('{"$minKey": 1}', pos) || text.startsWith('{"$maxKey": 1}', pos)) {
    pos += 14;
    return OTHER;
  }
  return unsure();
}

/**
 * The value at `pos`. `depth` is the indentation level of the line it starts on; `compact`: the
 * writer puts it on one line (a top-level `_id`, and everything inside one).
 */
function value(depth: number, compact: boolean): number {
  const c = text.charCodeAt(pos);
  if (c === 0x22) {
    lastString = string();
    return STRING;
  }
  if (c === 0x7b) {
    if (text.charCodeAt(pos + 1) === 0x22 && text.charCodeAt(pos + 2) === 0x24 && !text.startsWith('"$ref"', pos + 1)) return wrapper();
    members(depth, compact, false);
    return OTHER;
  }
  if (c === 0x5b) {
    members(depth, compact, true);
    return OTHER;
  }
  if (c === 0x74) {
    expect('true');
    return OTHER;
  }
  if (c === 0x66) {
    expect('false');
    return OTHER;
  }
  if (c === 0x6e) {
    expect('null');
    return OTHER;
  }
  lastNumber = number();
  return Number.isInteger(lastNumber) ? INT32 : OTHER;
}

/**
 * An embedded document (not a wrapper) or an array at `pos`, laid out as the writer lays it out:
 * members one per line at `depth + 1`, or (`compact`) on one line.
 */
function members(depth: number, compact: boolean, array: boolean): void {
  if (depth >= MAX_DEPTH) unsure();
  const close = array ? 0x5d : 0x7d;
  pos++;
  if (text.charCodeAt(pos) === close) {
    pos++;
    return;
  }
  const keys = array ? null : keysAt(depth);
  const inner = INDENT[depth + 1];
  if (!compact) {
    expect('\n');
    expect(inner);
  }
  // A first name starting with "$" (other than $ref) is escaped by the writer: not handled here.
  if (keys && text.charCodeAt(pos + 1) === 0x24 && !text.startsWith('"$ref"', pos)) unsure();
  for (;;) {
    if (keys) {
      key(keys);
      expect(': ');
    }
    value(depth + 1, compact);
    if (compact) {
      if (text.charCodeAt(pos) === close) break;
      expect(', ');
    } else {
      if (text.charCodeAt(pos) !== 0x2c) break;
      expect(',\n');
      expect(inner);
    }
  }
  if (!compact) {
    expect('\n');
    expect(INDENT[depth]);
  }
  if (text.charCodeAt(pos) !== close) unsure();
  pos++;
}

/** A part file's document (starts with `  {`); returns its `_id` as the reader would give it. */
function topDocument(): unknown {
  expect('  {\n    ');
  // A top-level document whose first name starts with "$" is escaped by the writer, or invalid.
  if (text.charCodeAt(pos + 1) === 0x24) unsure();
  const keys = keysAt(1);
  let id: unknown;
  for (;;) {
    if (key(keys) === '_id') {
      expect(': ');
      const kind = value(2, true);
      if (kind === OBJECT_ID) id = ObjectId.createFromHexString(text.slice(lastHexAt, lastHexAt + 24));
      else if (kind === INT32) id = new Int32(lastNumber);
      else if (kind === STRING) id = lastString;
      else unsure(); // other _id types: the full reader decodes them
    } else {
      expect(': ');
      value(2, false);
    }
    if (text.charCodeAt(pos) !== 0x2c) break;
    expect(',\n    ');
  }
  expect('\n  }');
  if (id === undefined) unsure(); // no _id: the full check names the document
  return id;
}

/**
 * The `_id` of each document when `partText` is exactly what dbsnap writes for the documents it
 * holds (the reader would read it without error and the writer would write them back to the same
 * text, in stored key order); null when it cannot tell: then check with readPartFile and the writer.
 * The `_id`s are the values readPartFile gives (only ObjectId, Int32 and string `_id`s are accepted).
 *
 * @example
 * canonicalPartIds('[\n  {\n    "_id": 1\n  }\n]\n'); // [Int32 { value: 1 }]
 * canonicalPartIds('[\n  {\n    "_id": 1.0\n  }\n]\n'); // null (the writer writes 1)
 */
export function canonicalPartIds(partText: string): unknown[] | null {
  if (partText === '[]\n') return [];
  text = partText;
  pos = 0;
  try {
    expect('[\n');
    const ids: unknown[] = [];
    for (;;) {
      ids.push(topDocument());
      if (text.charCodeAt(pos) !== 0x2c) break;
      expect(',\n');
    }
    expect('\n]\n');
    return pos === text.length ? ids : null;
  } catch (err) {
    if (err === UNSURE) return null;
    throw err;
  } finally {
    text = '';
  }
}
