/**
 * The walk at the heart of the writer of dbsnap's document text (docs/FORMAT.md, "Document encoding"): raw BSON bytes
 * -> readable, lossless Extended JSON v2 text, fields in stored order.
 *
 * It walks the BSON buffer directly instead of deserializing: decoding into JS objects and then
 * stringifying them costs two passes and an allocation per value, and committing a large database
 * spends most of its time here.
 *
 * The walker keeps its cursor in module state (`buf`, `pos`) because passing and returning it
 * through every recursive call measurably slows the hot loop; all entry points are synchronous,
 * so no two walks can interleave.
 */
import type { DocumentText, WriteDocumentOptions } from './document-writer.js';
import { ESCAPE_KEY } from './extended-json-values.js';
import { decimalText, doubleText } from './scalar-text.js';
import { EMPTY, HEX2, INDENT, MAX_INDENT, toBuffer } from './bson-text-tables.js';
import { dateText, int32At, int64TextAt, objectIdText, valueSize } from './bson-value-bytes.js';
import { fail, under, walkFormatError, WalkError } from './walk-error.js';

let buf = EMPTY;
let pos = 0;
let end = 0;
let sortKeys = false;

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

/** Reads a BSON string at `pos` as JSON text (quoted, escaped): `JSON.stringify(readString())`, faster. */
function stringText(): string {
  const start = skipString();
  const stop = pos - 1;
  for (let p = start; p < stop; p++) {
    const c = buf[p];
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) {
      return JSON.stringify(checkedUtf8(start, stop));
    }
  }
  return '"' + buf.latin1Slice(start, stop) + '"';
}

function checkEnd(p: number): void {
  if (p > end) fail('value runs past the end of its document');
}

/**
 * Writes the value of BSON type `type` at `pos` (advancing `pos` past it). `depth` is the
 * indentation level of the line the value starts on; `compact` writes documents and arrays on one line.
 */
function valueText(type: number, depth: number, compact: boolean): string {
  const p = pos;
  switch (type) {
    case 0x01: {
      checkEnd(p + 8);
      pos = p + 8;
      return doubleText(buf.readDoubleLE(p));
    }
    case 0x02:
      return stringText();
    case 0x03:
      return documentText(depth, compact, false);
    case 0x04:
      if (depth >= MAX_INDENT - 2) fail('documents nested too deeply');
      return membersText(depth, compact, false, true);
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
      return (
        '{"$binary": {"base64": "' + buf.base64Slice(start, start + len) + '", "subType": "' + HEX2[subtype] + '"}}'
      );
    }
    case 0x06:
      return '{"$undefined": true}';
    case 0x07:
      checkEnd(p + 12);
      pos = p + 12;
      return objectIdText(buf, p);
    case 0x08: {
      checkEnd(p + 1);
      pos = p + 1;
      const b = buf[p];
      if (b === 1) return 'true';
      if (b === 0) return 'false';
      return fail(`boolean byte ${b} is neither 0 nor 1`);
    }
    case 0x09:
      checkEnd(p + 8);
      pos = p + 8;
      return dateText(buf, p);
    case 0x0a:
      return 'null';
    case 0x0b: {
      const pattern = readCString();
      const options = readCString();
      return (
        '{"$regularExpression": {"pattern": ' + JSON.stringify(pattern) + ', "options": ' + JSON.stringify(options) + '}}'
      );
    }
    case 0x0c: {
      const ns = readString();
      checkEnd(pos + 12);
      const oid = objectIdText(buf, pos);
      pos += 12;
      return '{"$dbPointer": {"$ref": ' + JSON.stringify(ns) + ', "$id": ' + oid + '}}';
    }
    case 0x0d:
      return '{"$code": ' + JSON.stringify(readString()) + '}';
    case 0x0e:
      return '{"$symbol": ' + JSON.stringify(readString()) + '}';
    case 0x0f: {
      const total = int32At(buf, p);
      if (total < 14 || p + total > end) fail('bad code-with-scope length');
      pos = p + 4;
      const code = readString();
      const scope = documentText(depth, true, false);
      if (pos !== p + total) fail('code-with-scope length does not match its parts');
      return '{"$code": ' + JSON.stringify(code) + ', "$scope": ' + scope + '}';
    }
    case 0x10:
      checkEnd(p + 4);
      pos = p + 4;
      return String(int32At(buf, p));
    case 0x11:
      checkEnd(p + 8);
      pos = p + 8;
      return '{"$timestamp": {"t": ' + (int32At(buf, p + 4) >>> 0) + ', "i": ' + (int32At(buf, p) >>> 0) + '}}';
    case 0x12:
      checkEnd(p + 8);
      pos = p + 8;
      return '{"$numberLong": "' + int64TextAt(buf, p) + '"}';
    case 0x13:
      checkEnd(p + 16);
      pos = p + 16;
      return '{"$numberDecimal": "' + decimalText(buf, p) + '"}';
    case 0xff:
      return '{"$minKey": 1}';
    case 0x7f:
      return '{"$maxKey": 1}';
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

function escapedText(inner: string, depth: number, compact: boolean): string {
  if (compact) return '{"' + ESCAPE_KEY + '": ' + inner + '}';
  return '{\n' + INDENT[depth + 1] + '"' + ESCAPE_KEY + '": ' + inner + '\n' + INDENT[depth] + '}';
}

/** Writes the embedded document at `pos`; `top` marks the part-file level (its `_id` is kept on one line). */
function documentText(depth: number, compact: boolean, top: boolean): string {
  if (depth >= MAX_INDENT - 2) fail('documents nested too deeply');
  if (sortKeys) return sortedDocumentText(depth, compact, top);
  if (firstKeyNeedsEscape()) return escapedText(membersText(depth + 1, compact, top, false), depth, compact);
  return membersText(depth, compact, top, false);
}

let idText = '';

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

/**
 * Writes the members of the document or array at `pos`: `{` key: value, ... `}` or `[` value, ... `]`,
 * one per line at `depth + 1` or (`compact`) on one line. `top` marks the part-file level, whose
 * `_id` is kept on one line.
 */
function membersText(depth: number, compact: boolean, top: boolean, array: boolean): string {
  const stop = enterDocument();
  const saved = end;
  end = stop;
  let out = '';
  let type: number;
  const inner = INDENT[depth + 1];
  let n = 0;
  const keys = array ? null : keysAt(depth);
  while ((type = buf[pos++]) !== 0) {
    if (pos >= end) fail(array ? 'array ends inside an element' : 'document ends inside an element');
    let member: string;
    if (keys === null) {
      skipArrayKey(n);
      try {
        member = valueText(type, depth + 1, compact);
      } catch (err) {
        under(String(n), err);
      }
    } else {
      const key = readKeyText();
      checkUniqueKey(keys, key);
      try {
        member = key + ': ' + (top && key === '"_id"' ? (idText = valueText(type, depth + 1, true)) : valueText(type, depth + 1, compact));
      } catch (err) {
        under(key, err);
      }
    }
    if (compact) out += (n === 0 ? (array ? '[' : '{') : ', ') + member;
    else out += (n === 0 ? (array ? '[\n' : '{\n') : ',\n') + inner + member;
    n++;
  }
  pos--;
  end = saved;
  leaveDocument(stop);
  if (n === 0) return array ? '[]' : '{}';
  const close = array ? ']' : '}';
  return compact ? out + close : out + '\n' + INDENT[depth] + close;
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

function sortedDocumentText(depth: number, compact: boolean, top: boolean): string {
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
  const inner = INDENT[d + 1];
  let out = '';
  for (let n = 0; n < fields.length; n++) {
    const f = fields[n];
    pos = f.at;
    let value: string;
    try {
      if (top && f.key === '_id') {
        const was = sortKeys;
        sortKeys = false;
        value = idText = valueText(f.type, d + 1, true);
        sortKeys = was;
      } else {
        value = valueText(f.type, d + 1, compact);
      }
    } catch (err) {
      under(f.keyText, err);
    }
    if (compact) out += (n === 0 ? '{' : ', ') + f.keyText + ': ' + value;
    else out += (n === 0 ? '{\n' : ',\n') + inner + f.keyText + ': ' + value;
  }
  pos = last;
  end = saved;
  leaveDocument(stop);
  const text = fields.length === 0 ? '{}' : compact ? out + '}' : out + '\n' + INDENT[d] + '}';
  return escape ? escapedText(text, depth, compact) : text;
}

function readKeyTextAt(p: number): string {
  const saved = pos;
  pos = p;
  const text = readKeyText();
  pos = saved;
  return text;
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
  buf = toBuffer(bson);
  pos = 0;
  end = buf.length;
  sortKeys = opts?.sortKeys === true;
  idText = '';
  try {
    if (end < 5) fail('document shorter than 5 bytes');
    const len = int32At(buf, 0);
    if (len !== end) fail(`document length ${len} does not match its ${end} bytes`);
    const text = INDENT[1] + documentText(1, false, true);
    // Concatenation builds a rope of thousands of pieces; callers keep many document texts alive
    // until a part file is joined, and retained ropes cost several times the writing itself in GC.
    // Reading a character from the middle makes V8 flatten the rope into one flat string now.
    text.charCodeAt(text.length >> 1);
    return { text, idText };
  } catch (err) {
    if (err instanceof WalkError) throw walkFormatError(err, idText);
    throw err;
  } finally {
    // Drop the reference so a large input buffer can be collected.
    buf = EMPTY;
  }
}
