/**
 * The walk at the heart of the writer of dbsnap's document text (docs/FORMAT.md, "Document encoding"): raw BSON bytes
 * -> readable, lossless Extended JSON v2 text, fields in stored order.
 *
 * It walks the BSON buffer directly instead of deserializing: decoding into JS objects and then
 * stringifying them costs two passes and an allocation per value, and committing a large database
 * spends most of its time here. It writes the text as UTF-8 bytes into one reused output buffer:
 * BSON strings are UTF-8 already, so most of them are copied as they are, and no JS string is
 * built per value (concatenating them, flattening the result and encoding it as UTF-8 for the
 * part file cost more than the walk itself).
 *
 * The walker keeps its cursors in module state (`buf`, `pos`, `out`, `o`) because passing and
 * returning them through every recursive call measurably slows the hot loop; all entry points are
 * synchronous, so no two walks can interleave.
 */
import { isUtf8 } from 'node:buffer';
import type { DocumentText, WriteDocumentOptions } from './document-writer.js';
import { ESCAPE_KEY } from './extended-json-values.js';
import { decimalText, doubleText } from './scalar-text.js';
import { EMPTY, HEX2, MAX_INDENT, toBuffer, TWO_32, type SliceBuffer } from './bson-text-tables.js';
import { int32At, valueSize } from './bson-value-bytes.js';
import { MAX_ISO_DATE_MS } from './scalar-text.js';
import { KEEP_AT_MOST, withRoom } from './byte-buffer.js';
import { fail, under, walkFormatError, WalkError } from './walk-error.js';

let buf = EMPTY;
let pos = 0;
let end = 0;
let sortKeys = false;

// ---- The output: UTF-8 bytes appended at `o` ----

type OutBuffer = SliceBuffer & { utf8Write(s: string, offset: number, length: number): number; latin1Write(s: string, offset: number, length: number): number };
let out = Buffer.allocUnsafeSlow(1 << 16) as OutBuffer;
let o = 0;
/** UTF-8 bytes written beyond one per UTF-16 code unit (0 for ASCII text). */
let extra = 0;

/** Makes room for `n` more bytes. */
function room(n: number): void {
  if (o + n > out.length) out = withRoom(out, o, o + n);
}

/** After a walk: a buffer one large document grew is not kept (its bytes stay valid for the caller). */
function release(): void {
  // Drop the reference so a large input buffer can be collected.
  buf = EMPTY;
  if (out.length > KEEP_AT_MOST) out = Buffer.allocUnsafeSlow(1 << 16) as OutBuffer;
}

/** Writes a JS string as UTF-8 (ASCII, the usual case, byte by byte). */
function text(s: string): void {
  const n = s.length;
  room(n);
  if (n > 32) {
    for (let i = 0; i < n; i++) {
      if (s.charCodeAt(i) > 0x7f) return textUtf8(s);
    }
    o += out.latin1Write(s, o, n);
    return;
  }
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return textUtf8(s);
    out[o + i] = c;
  }
  o += n;
}

function textUtf8(s: string): void {
  room(s.length * 3);
  const written = out.utf8Write(s, o, out.length - o);
  extra += written - s.length;
  o += written;
}

function byte(c: number): void {
  room(1);
  out[o++] = c;
}

/** Writes the indentation of `depth`. */
function indent(depth: number): void {
  const n = depth * 2;
  room(n);
  for (let i = 0; i < n; i++) out[o + i] = 0x20;
  o += n;
}

/** Copies `buf[start, stop)` (valid UTF-8) to the output. */
function copy(start: number, stop: number, nonAscii: boolean): void {
  const n = stop - start;
  room(n);
  if (n > 64) buf.copy(out, o, start, stop);
  else for (let i = 0; i < n; i++) out[o + i] = buf[start + i];
  o += n;
  if (nonAscii) extra += utf8Extra(start, stop);
}

/** UTF-8 bytes minus UTF-16 code units of the valid UTF-8 in `buf[start, stop)`. */
function utf8Extra(start: number, stop: number): number {
  let e = 0;
  for (let p = start; p < stop; p++) {
    const c = buf[p];
    if (c >= 0x80 && c < 0xc0) e++;
    else if (c >= 0xf0) e--;
  }
  return e;
}

const DIGITS = new Uint8Array(24);

/** Writes a safe integer in decimal, exactly as String(n). */
function integer(n: number): void {
  // Digit by digit only in int32 range, where division by 10 is exact.
  if (n > 0x7fffffff || n < -0x7fffffff) return text(String(n));
  room(11);
  if (n < 0) {
    out[o++] = 0x2d;
    n = -n;
  }
  let k = 0;
  do {
    const q = (n / 10) | 0;
    DIGITS[k++] = 0x30 + (n - q * 10);
    n = q;
  } while (n > 0);
  while (k > 0) out[o++] = DIGITS[--k];
}

/** Writes 0 <= n < 100 as two digits. */
function twoDigits(n: number): void {
  const t = (n / 10) | 0;
  out[o++] = 0x30 + t;
  out[o++] = 0x30 + n - t * 10;
}

const HEX_CHARS = new Uint8Array(16);
for (let i = 0; i < 16; i++) HEX_CHARS[i] = '0123456789abcdef'.charCodeAt(i);


/** Reads the cstring at `pos`, advances past its NUL, returns it decoded. */
function readCString(): string {
  const start = pos;
  let p = pos;
  let ascii = true;
  while (p < end) {
    const c = buf[p];
    if (c === 0) break;
    if (c > 0x7f) ascii = false;
    p++;
  }
  if (p >= end) fail('unterminated field name or cstring');
  pos = p + 1;
  if (ascii) return buf.latin1Slice(start, p);
  return checkedUtf8(start, p);
}

/** Decodes UTF-8, refusing bytes that are not valid UTF-8 (decoding would replace them silently). */
function checkedUtf8(start: number, stop: number): string {
  const s = buf.utf8Slice(start, stop);
  if (s.includes('\uFFFD') && Buffer.compare(Buffer.from(s, 'utf8'), buf.subarray(start, stop)) !== 0) {
    fail('string is not valid UTF-8 and cannot be stored losslessly');
  }
  return s;
}

/**
 * Field names repeat in almost every document of a collection, so their JSON text is cached by
 * their bytes: a lookup costs a hash and a byte compare, decoding costs a string allocation.
 */
const KEY_CACHE_SIZE = 4096;
const keyCacheBytes: (Uint8Array | undefined)[] = new Array(KEY_CACHE_SIZE);
const keyCacheText: string[] = new Array(KEY_CACHE_SIZE);

/** Reads the key at `pos` as JSON text (quoted, escaped). */
function readKeyText(): string {
  const start = pos;
  let p = pos;
  let hash = 0;
  while (p < end) {
    const c = buf[p];
    if (c === 0) break;
    hash = (Math.imul(hash, 31) + c) | 0;
    p++;
  }
  if (p >= end) fail('unterminated field name');
  pos = p + 1;
  const len = p - start;
  const slot = (hash ^ (hash >>> 12)) & (KEY_CACHE_SIZE - 1);
  const cached = keyCacheBytes[slot];
  if (cached !== undefined && cached.length === len) {
    let same = true;
    for (let i = 0; i < len; i++) {
      if (cached[i] !== buf[start + i]) {
        same = false;
        break;
      }
    }
    if (same) return keyCacheText[slot];
  }
  let plain = true;
  for (let q = start; q < p; q++) {
    const c = buf[q];
    // Anything outside printable ASCII, or a quote or backslash, needs the general path.
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
      plain = false;
      break;
    }
  }
  const text = plain ? '"' + buf.latin1Slice(start, p) + '"' : JSON.stringify(checkedUtf8(start, p));
  keyCacheBytes[slot] = Uint8Array.prototype.slice.call(buf, start, p);
  keyCacheText[slot] = text;
  return text;
}

/** Skips an array element key, checking it is the expected index (BSON arrays are keyed "0", "1", ...). */
function skipArrayKey(index: number): void {
  let p = pos;
  let n = 0;
  const first = p;
  while (p < end) {
    const c = buf[p];
    if (c === 0) break;
    if (c < 0x30 || c > 0x39 || (p > first && buf[first] === 0x30)) {
      fail(`array element key is not its index ${index}; such an array cannot be stored losslessly`);
    }
    n = n * 10 + (c - 0x30);
    p++;
  }
  if (p >= end) fail('unterminated array key');
  if (p === first || n !== index) {
    fail(`array element key is not its index ${index}; such an array cannot be stored losslessly`);
  }
  pos = p + 1;
}

/**
 * Checks the BSON string (int32 length, bytes, NUL) at `pos` and moves `pos` past it; returns
 * where its bytes start (they end before the NUL, at `pos - 1`).
 */
function skipString(): number {
  const len = int32At(buf, pos);
  const start = pos + 4;
  const stop = start + len - 1;
  if (len < 1 || stop >= end || buf[stop] !== 0) fail('bad string length');
  pos = stop + 1;
  return start;
}

/** Reads a BSON string at `pos` as a JS string. */
function readString(): string {
  const start = skipString();
  const stop = pos - 1;
  for (let p = start; p < stop; p++) {
    if (buf[p] > 0x7f) return checkedUtf8(start, stop);
  }
  return buf.latin1Slice(start, stop);
}

/** Writes the BSON string at `pos` as JSON text (quoted, escaped): `JSON.stringify(readString())`, faster. */
function writeString(): void {
  const start = skipString();
  const stop = pos - 1;
  let nonAscii = false;
  for (let p = start; p < stop; p++) {
    const c = buf[p];
    if (c < 0x20 || c === 0x22 || c === 0x5c) {
      text(JSON.stringify(checkedUtf8(start, stop)));
      return;
    }
    if (c > 0x7f) nonAscii = true;
  }
  // JSON.stringify leaves every character but quote, backslash and controls as it is, and valid
  // UTF-8 holds no lone surrogate (the one other thing it escapes): the bytes are the text.
  if (nonAscii && !isUtf8(buf.subarray(start, stop))) fail('string is not valid UTF-8 and cannot be stored losslessly');
  byte(0x22);
  copy(start, stop, nonAscii);
  byte(0x22);
}

function checkEnd(p: number): void {
  if (p > end) fail('value runs past the end of its document');
}

/** Writes `{"$oid": "<hex>"}` for the 12 ObjectId bytes at `p`. */
function writeObjectId(p: number): void {
  text('{"$oid": "');
  room(26);
  for (let i = 0; i < 12; i++) {
    const b = buf[p + i];
    out[o++] = HEX_CHARS[b >> 4];
    out[o++] = HEX_CHARS[b & 15];
  }
  out[o++] = 0x22;
  out[o++] = 0x7d;
}

/** Writes the exact decimal text of the int64 at `p`. */
function writeInt64(p: number): void {
  const n = int32At(buf, p + 4) * TWO_32 + (int32At(buf, p) >>> 0);
  if (Number.isSafeInteger(n)) integer(n);
  else text(buf.readBigInt64LE(p).toString());
}

/**
 * Writes the `{"$date": ...}` text of the UTC datetime at `p`: ISO text when in range (as
 * `new Date(ms).toISOString()`, by Howard Hinnant's `civil_from_days`), else its int64.
 */
function writeDate(p: number): void {
  const ms = int32At(buf, p + 4) * TWO_32 + (int32At(buf, p) >>> 0);
  if (!(ms >= 0 && ms <= MAX_ISO_DATE_MS)) {
    text('{"$date": {"$numberLong": "');
    writeInt64(p);
    text('"}}');
    return;
  }
  const days = Math.floor(ms / 86400000);
  let rest = ms - days * 86400000;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const milli = rest % 1000;
  rest = (rest - milli) / 1000;
  const second = rest % 60;
  rest = (rest - second) / 60;
  const minute = rest % 60;
  const hour = (rest - minute) / 60;
  text('{"$date": "');
  room(27);
  // 1970 <= year <= 9999: always four digits.
  twoDigits((year / 100) | 0);
  twoDigits(year % 100);
  out[o++] = 0x2d;
  twoDigits(month);
  out[o++] = 0x2d;
  twoDigits(day);
  out[o++] = 0x54;
  twoDigits(hour);
  out[o++] = 0x3a;
  twoDigits(minute);
  out[o++] = 0x3a;
  twoDigits(second);
  out[o++] = 0x2e;
  out[o++] = 0x30 + ((milli / 100) | 0);
  twoDigits(milli % 100);
  out[o++] = 0x5a;
  out[o++] = 0x22;
  out[o++] = 0x7d;
}

/**
 * Writes the value of BSON type `type` at `pos` (advancing `pos` past it). `depth` is the
 * indentation level of the line the value starts on; `compact` writes documents and arrays on one line.
 */
function writeValue(type: number, depth: number, compact: boolean): void {
  const p = pos;
  switch (type) {
    case 0x01: {
      checkEnd(p + 8);
      pos = p + 8;
      text(doubleText(buf.readDoubleLE(p)));
      return;
    }
    case 0x02:
      return writeString();
    case 0x03:
      return writeDocumentValue(depth, compact, false);
    case 0x04:
      if (depth >= MAX_INDENT - 2) fail('documents nested too deeply');
      return writeMembers(depth, compact, false, true);
    case 0x05: {
      let len = int32At(buf, p);
      const subtype = buf[p + 4];
      let start = p + 5;
      if (len < 0 || start + len > end) fail('bad binary length');
      pos = start + len;
      // Subtype 2 (old binary) repeats the length inside the payload; Extended JSON holds the
      // payload without it, and the reader's serializer writes it back.
      if (subtype === 0x02) {
        if (len < 4 || int32At(buf, start) !== len - 4) fail('binary subtype 2 with inconsistent inner length');
        start += 4;
        len -= 4;
      }
      text('{"$binary": {"base64": "');
      text(buf.base64Slice(start, start + len));
      text('", "subType": "');
      text(HEX2[subtype]);
      text('"}}');
      return;
    }
    case 0x06:
      return text('{"$undefined": true}');
    case 0x07:
      checkEnd(p + 12);
      pos = p + 12;
      return writeObjectId(p);
    case 0x08: {
      checkEnd(p + 1);
      pos = p + 1;
      const b = buf[p];
      if (b === 1) return text('true');
      if (b === 0) return text('false');
      return fail(`boolean byte ${b} is neither 0 nor 1`);
    }
    case 0x09:
      checkEnd(p + 8);
      pos = p + 8;
      return writeDate(p);
    case 0x0a:
      return text('null');
    case 0x0b: {
      const pattern = readCString();
      const options = readCString();
      text('{"$regularExpression": {"pattern": ');
      text(JSON.stringify(pattern));
      text(', "options": ');
      text(JSON.stringify(options));
      return text('}}');
    }
    case 0x0c: {
      const ns = readString();
      checkEnd(pos + 12);
      const at = pos;
      pos += 12;
      text('{"$dbPointer": {"$ref": ');
      text(JSON.stringify(ns));
      text(', "$id": ');
      writeObjectId(at);
      return text('}}');
    }
    case 0x0d:
      text('{"$code": ');
      text(JSON.stringify(readString()));
      return byte(0x7d);
    case 0x0e:
      text('{"$symbol": ');
      text(JSON.stringify(readString()));
      return byte(0x7d);
    case 0x0f: {
      const total = int32At(buf, p);
      if (total < 14 || p + total > end) fail('bad code-with-scope length');
      pos = p + 4;
      const code = readString();
      text('{"$code": ');
      text(JSON.stringify(code));
      text(', "$scope": ');
      writeDocumentValue(depth, true, false);
      if (pos !== p + total) fail('code-with-scope length does not match its parts');
      return byte(0x7d);
    }
    case 0x10:
      checkEnd(p + 4);
      pos = p + 4;
      return integer(int32At(buf, p));
    case 0x11:
      checkEnd(p + 8);
      pos = p + 8;
      text('{"$timestamp": {"t": ');
      integer(int32At(buf, p + 4) >>> 0);
      text(', "i": ');
      integer(int32At(buf, p) >>> 0);
      return text('}}');
    case 0x12:
      checkEnd(p + 8);
      pos = p + 8;
      text('{"$numberLong": "');
      writeInt64(p);
      return text('"}');
    case 0x13:
      checkEnd(p + 16);
      pos = p + 16;
      text('{"$numberDecimal": "');
      text(decimalText(buf, p));
      return text('"}');
    case 0xff:
      return text('{"$minKey": 1}');
    case 0x7f:
      return text('{"$maxKey": 1}');
    default:
      return fail(`unknown BSON type 0x${HEX2[type & 0xff] ?? '??'}`);
  }
}

/** Opens the document at `pos`: checks its length, returns the offset one past its last byte. */
function enterDocument(): number {
  const start = pos;
  const len = int32At(buf, start);
  const stop = start + len;
  if (len < 5 || stop > end || buf[stop - 1] !== 0) fail('bad document length');
  pos = start + 4;
  return stop;
}

function leaveDocument(stop: number): void {
  if (pos !== stop - 1) fail('document length does not match its elements');
  pos = stop;
}

/**
 * Whether the document at `pos` (pointing at its length) must be escaped: its first key (stored
 * order) starts with `$` and is not `$ref`. See docs/FORMAT.md.
 */
function firstKeyNeedsEscape(): boolean {
  const p = pos + 4;
  if (buf[p] === 0 || buf[p + 1] !== 0x24) return false;
  // "$ref\0"
  return !(buf[p + 2] === 0x72 && buf[p + 3] === 0x65 && buf[p + 4] === 0x66 && buf[p + 5] === 0);
}

const ESCAPE_OPEN = '"' + ESCAPE_KEY + '": ';

/** Writes what comes before an escaped document's text (see escapeClose). */
function escapeOpen(depth: number, compact: boolean): void {
  if (compact) {
    byte(0x7b);
  } else {
    text('{\n');
    indent(depth + 1);
  }
  text(ESCAPE_OPEN);
}

function escapeClose(depth: number, compact: boolean): void {
  if (!compact) {
    byte(0x0a);
    indent(depth);
  }
  byte(0x7d);
}

/** Writes the embedded document at `pos`; `top` marks the part-file level (its `_id` is kept on one line). */
function writeDocumentValue(depth: number, compact: boolean, top: boolean): void {
  if (depth >= MAX_INDENT - 2) fail('documents nested too deeply');
  if (sortKeys) return writeSortedDocument(depth, compact, top);
  if (firstKeyNeedsEscape()) {
    escapeOpen(depth, compact);
    writeMembers(depth + 1, compact, top, false);
    return escapeClose(depth, compact);
  }
  writeMembers(depth, compact, top, false);
}

/** Where the top-level `_id` value's text starts and ends in `out` (-1: not written yet). */
let idStart = -1;
let idEnd = -1;

function writeId(type: number, depth: number): void {
  const start = o;
  writeValue(type, depth, true);
  idStart = start;
  idEnd = o;
}

// A BSON document may hold one field name twice ({a: 1, a: 2}: MongoDB stores what it is sent).
// JSON parsers, the driver and dbsnap's reader keep one of them, so such a document cannot be
// committed and restored exactly: it is refused, naming the field (see docs/FORMAT.md).
const keyLists: string[][] = [];
function keysAt(depth: number): string[] {
  const keys = (keyLists[depth] ??= []);
  keys.length = 0;
  return keys;
}
function checkUniqueKey(keys: string[], key: string): void {
  // A linear scan: documents rarely have more than a few dozen fields at one level.
  if (keys.includes(key)) fail(`the field name ${key} appears twice in one document (MongoDB keeps both, JSON and the driver keep one)`);
  keys.push(key);
}

/** Writes the separator before member `n` of a document or array. */
function separator(n: number, depth: number, compact: boolean, array: boolean): void {
  if (compact) {
    if (n === 0) byte(array ? 0x5b : 0x7b);
    else {
      room(2);
      out[o++] = 0x2c;
      out[o++] = 0x20;
    }
    return;
  }
  room(2);
  if (n === 0) out[o++] = array ? 0x5b : 0x7b;
  else out[o++] = 0x2c;
  out[o++] = 0x0a;
  indent(depth + 1);
}

/** Writes the end of a document or array of `n` members. */
function close(n: number, depth: number, compact: boolean, array: boolean): void {
  if (n === 0) {
    room(2);
    out[o++] = array ? 0x5b : 0x7b;
    out[o++] = array ? 0x5d : 0x7d;
    return;
  }
  if (!compact) {
    byte(0x0a);
    indent(depth);
  }
  byte(array ? 0x5d : 0x7d);
}

/**
 * Writes the members of the document or array at `pos`: `{` key: value, ... `}` or `[` value, ... `]`,
 * one per line at `depth + 1` or (`compact`) on one line. `top` marks the part-file level, whose
 * `_id` is kept on one line.
 */
function writeMembers(depth: number, compact: boolean, top: boolean, array: boolean): void {
  const stop = enterDocument();
  const saved = end;
  end = stop;
  let type: number;
  let n = 0;
  const keys = array ? null : keysAt(depth);
  while ((type = buf[pos++]) !== 0) {
    if (pos >= end) fail(array ? 'array ends inside an element' : 'document ends inside an element');
    if (keys === null) {
      skipArrayKey(n);
      separator(n, depth, compact, true);
      try {
        writeValue(type, depth + 1, compact);
      } catch (err) {
        under(String(n), err);
      }
    } else {
      const key = readKeyText();
      checkUniqueKey(keys, key);
      separator(n, depth, compact, false);
      text(key);
      room(2);
      out[o++] = 0x3a;
      out[o++] = 0x20;
      try {
        if (top && key === '"_id"') writeId(type, depth + 1);
        else writeValue(type, depth + 1, compact);
      } catch (err) {
        under(key, err);
      }
    }
    n++;
  }
  pos--;
  end = saved;
  leaveDocument(stop);
  close(n, depth, compact, array);
}

interface Field {
  key: string;
  keyText: string;
  type: number;
  at: number;
}

function compareKeys(a: Field, b: Field): number {
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

function writeSortedDocument(depth: number, compact: boolean, top: boolean): void {
  const stop = enterDocument();
  const saved = end;
  end = stop;
  const fields: Field[] = [];
  let type: number;
  while ((type = buf[pos++]) !== 0) {
    if (pos >= end) fail('document ends inside an element');
    const keyStart = pos;
    const key = readCString();
    const keyText = readKeyTextAt(keyStart);
    const size = valueSize(buf, end, type, pos);
    if (size < 0 || pos + size > end) fail('bad value length');
    fields.push({ key, keyText, type, at: pos });
    pos += size;
  }
  const keys = keysAt(depth);
  for (const f of fields) checkUniqueKey(keys, f.keyText);
  const last = pos - 1;
  const dbref = fields.length > 0 && fields[0].key === '$ref';
  if (!dbref) {
    let id: Field | undefined;
    if (top) {
      const i = fields.findIndex((f) => f.key === '_id');
      if (i >= 0) id = fields.splice(i, 1)[0];
    }
    fields.sort(compareKeys);
    if (id) fields.unshift(id);
  }
  const escape = fields.length > 0 && fields[0].key[0] === '$' && fields[0].key !== '$ref';
  const d = escape ? depth + 1 : depth;
  if (escape) escapeOpen(depth, compact);
  for (let n = 0; n < fields.length; n++) {
    const f = fields[n];
    pos = f.at;
    separator(n, d, compact, false);
    text(f.keyText);
    text(': ');
    try {
      if (top && f.key === '_id') {
        const was = sortKeys;
        sortKeys = false;
        writeId(f.type, d + 1);
        sortKeys = was;
      } else {
        writeValue(f.type, d + 1, compact);
      }
    } catch (err) {
      under(f.keyText, err);
    }
  }
  close(fields.length, d, compact, false);
  if (escape) escapeClose(depth, compact);
  pos = last;
  end = saved;
  leaveDocument(stop);
}

function readKeyTextAt(p: number): string {
  const saved = pos;
  pos = p;
  const keyText = readKeyText();
  pos = saved;
  return keyText;
}

/** The `_id` text written so far ('' when none). */
function idTextWritten(): string {
  return idEnd >= 0 ? out.utf8Slice(idStart, idEnd) : '';
}

/** Walks one top-level document into `out` from offset 0. */
function walk(bson: Uint8Array, opts: WriteDocumentOptions | undefined): void {
  buf = toBuffer(bson);
  pos = 0;
  end = buf.length;
  sortKeys = opts?.sortKeys === true;
  o = 0;
  extra = 0;
  idStart = -1;
  idEnd = -1;
  if (end < 5) fail('document shorter than 5 bytes');
  const len = int32At(buf, 0);
  if (len !== end) fail(`document length ${len} does not match its ${end} bytes`);
  indent(1);
  writeDocumentValue(1, false, true);
}

/** One top-level document's text as UTF-8 bytes (see {@link writeDocumentBytes}). */
export interface DocumentBytes {
  /** The text's UTF-8 bytes: a view of the writer's buffer, valid until its next call. Copy what you keep. */
  bytes: Buffer;
  /** Length of the text in UTF-16 code units (what `text.length` of {@link writeDocument} would be). */
  units: number;
  /** One-line text of the `_id` value, as in {@link DocumentText}. */
  idText: string;
}

/**
 * {@link writeDocument} without the JS string: the text as UTF-8 bytes, which is what part files
 * store and hash. The bytes live in the writer's own buffer and are overwritten by the next call.
 */
export function writeDocumentBytes(bson: Uint8Array, opts?: WriteDocumentOptions): DocumentBytes {
  try {
    walk(bson, opts);
    return { bytes: out.subarray(0, o), units: o - extra, idText: idTextWritten() };
  } catch (err) {
    if (err instanceof WalkError) throw walkFormatError(err, idTextWritten());
    throw err;
  } finally {
    release();
  }
}

/**
 * Writes one top-level document, given as raw BSON bytes (as the driver returns them with
 * `raw: true`), as part-file text: the document indented for its place inside the part array
 * (starts with `  {`, ends with `  }`, no trailing comma or newline). `idText` is the one-line
 * text of the `_id` value, exactly the text after `"_id": ` in `text`.
 *
 * Throws FormatError for malformed BSON and for the few things that cannot be stored losslessly
 * (strings that are not valid UTF-8, arrays whose keys are not 0, 1, 2, ...).
 *
 * @example
 * const { text, idText } = writeDocument(BSON.serialize({ _id: 1, name: 'Ada' }));
 * // text:   '  {\n    "_id": 1,\n    "name": "Ada"\n  }'
 * // idText: '1'
 */
export function writeDocument(bson: Uint8Array, opts?: WriteDocumentOptions): DocumentText {
  try {
    walk(bson, opts);
    return { text: out.utf8Slice(0, o), idText: idTextWritten() };
  } catch (err) {
    if (err instanceof WalkError) throw walkFormatError(err, idTextWritten());
    throw err;
  } finally {
    release();
  }
}
