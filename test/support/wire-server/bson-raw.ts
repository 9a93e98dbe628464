/**
 * Byte-level BSON helpers. The wire test server keeps every document as the exact bytes the
 * client sent, so it needs to find elements inside raw documents and to build replies that embed
 * stored documents verbatim (re-serializing would lose Undefined, DBPointer, field order quirks).
 */
import { BSON, ObjectId } from 'bson';

/** A BSON document that is already encoded; embedded as-is when a reply is built. */
export class RawDocument {
  constructor(readonly bytes: Uint8Array) {}
}

/** One element of a raw document: its name, type byte and byte offsets in the buffer. */
export interface RawElement {
  name: string;
  type: number;
  /** Offset of the type byte. */
  start: number;
  /** Offset of the value, just past the element name's NUL. */
  valueStart: number;
  /** Offset just past the value. */
  end: number;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

function int32At(buf: Uint8Array, at: number): number {
  return buf[at]! | (buf[at + 1]! << 8) | (buf[at + 2]! << 16) | (buf[at + 3]! << 24);
}

function cstringEnd(buf: Uint8Array, at: number): number {
  let i = at;
  while (buf[i] !== 0) {
    if (i >= buf.length) throw new Error('unterminated BSON cstring');
    i++;
  }
  return i;
}

function valueLength(buf: Uint8Array, type: number, at: number): number {
  switch (type) {
    case 0x01: // double
    case 0x09: // date
    case 0x11: // timestamp
    case 0x12: // int64
      return 8;
    case 0x02: // string
    case 0x0d: // code
    case 0x0e: // symbol
      return 4 + int32At(buf, at);
    case 0x03: // document
    case 0x04: // array
    case 0x0f: // code with scope
      return int32At(buf, at);
    case 0x05: // binary
      return 5 + int32At(buf, at);
    case 0x06: // undefined
    case 0x0a: // null
    case 0xff: // min key
    case 0x7f: // max key
      return 0;
    case 0x07: // ObjectId
      return 12;
    case 0x08: // bool
      return 1;
    case 0x0b: {
      // regex: two cstrings
      const p = cstringEnd(buf, at);
      return cstringEnd(buf, p + 1) + 1 - at;
    }
    case 0x0c: // DBPointer: string + ObjectId
      return 4 + int32At(buf, at) + 12;
    case 0x10: // int32
      return 4;
    case 0x13: // decimal128
      return 16;
    default:
      throw new Error(`unknown BSON type 0x${type.toString(16)}`);
  }
}

function asciiOrUtf8(buf: Uint8Array, from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i++) {
    const c = buf[i]!;
    if (c >= 0x80) return decoder.decode(buf.subarray(from, to));
    out += String.fromCharCode(c);
  }
  return out;
}

/** True when the document's first element is named `_id` (as mongod stores documents). */
export function idIsFirst(doc: Uint8Array): boolean {
  return doc.length > 9 && doc[5] === 0x5f && doc[6] === 0x69 && doc[7] === 0x64 && doc[8] === 0;
}

/** The first element of a document (without parsing the rest). */
export function firstElement(buf: Uint8Array): RawElement | undefined {
  if (buf.length <= 5) return undefined;
  const type = buf[4]!;
  const nameEnd = cstringEnd(buf, 5);
  const valueStart = nameEnd + 1;
  return { name: asciiOrUtf8(buf, 5, nameEnd), type, start: 4, valueStart, end: valueStart + valueLength(buf, type, valueStart) };
}

/** The elements of the document starting at `offset` in `buf`, in order. */
export function rawElements(buf: Uint8Array, offset = 0): RawElement[] {
  const size = int32At(buf, offset);
  const last = offset + size - 1;
  const out: RawElement[] = [];
  let at = offset + 4;
  while (at < last) {
    const type = buf[at]!;
    const nameEnd = cstringEnd(buf, at + 1);
    const name = asciiOrUtf8(buf, at + 1, nameEnd);
    const valueStart = nameEnd + 1;
    const end = valueStart + valueLength(buf, type, valueStart);
    out.push({ name, type, start: at, valueStart, end });
    at = end;
  }
  return out;
}

/** The raw bytes of the sub-documents of an array (or document) element. */
export function rawSubDocuments(buf: Uint8Array, el: RawElement): Uint8Array[] {
  return rawElements(buf, el.valueStart)
    .filter((e) => e.type === 0x03)
    .map((e) => buf.subarray(e.valueStart, e.end));
}

/** Wrap encoded elements (type byte, name, value) into a document. */
export function documentFromElements(parts: Uint8Array[]): Uint8Array {
  const size = 5 + parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(size);
  new DataView(out.buffer).setInt32(0, size, true);
  let at = 4;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  out[size - 1] = 0;
  return out;
}

function header(type: number, name: string): Uint8Array {
  const n = encoder.encode(name);
  const out = new Uint8Array(n.length + 2);
  out[0] = type;
  out.set(n, 1);
  out[n.length + 1] = 0;
  return out;
}

/** Encode one element with the bson package (for values that hold no RawDocument). */
export function encodeElement(name: string, value: unknown): Uint8Array {
  const doc = BSON.serialize({ [name]: value }, { ignoreUndefined: false });
  return doc.subarray(4, doc.length - 1);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function containsRaw(v: unknown, depth = 0): boolean {
  if (v instanceof RawDocument) return true;
  if (depth > 4) return false;
  if (Array.isArray(v)) return v.some((x) => containsRaw(x, depth + 1));
  if (isPlainObject(v)) return Object.values(v).some((x) => containsRaw(x, depth + 1));
  return false;
}

/**
 * The pieces of an encoded reply, in order: stored documents are referenced, not copied, and the
 * whole reply is copied once at the end. (Building each level into its own buffer copied a
 * 16 MB batch four times per getMore, and the garbage cost more than the copying.)
 */
class Chunks {
  readonly parts: Uint8Array[] = [];
  length = 0;
  push(part: Uint8Array): void {
    this.parts.push(part);
    this.length += part.length;
  }
  /** Reserve a 4-byte little-endian length and return a function that fills it in. */
  lengthSlot(): (value: number) => void {
    const slot = new Uint8Array(4);
    this.push(slot);
    return (value) => {
      slot[0] = value & 0xff;
      slot[1] = (value >>> 8) & 0xff;
      slot[2] = (value >>> 16) & 0xff;
      slot[3] = (value >>> 24) & 0xff;
    };
  }
  concat(): Uint8Array {
    const out = Buffer.allocUnsafe(this.length);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}

const NUL = new Uint8Array([0]);
/** Element headers of array entries `0`, `1`, ... as embedded documents (type 0x03). */
const indexHeaders: Uint8Array[] = [];
function arrayDocumentHeader(i: number): Uint8Array {
  return (indexHeaders[i] ??= header(0x03, String(i)));
}

function pushDocument(out: Chunks, entries: Iterable<[string, unknown]>): void {
  const start = out.length;
  const setLength = out.lengthSlot();
  for (const [k, v] of entries) {
    if (v === undefined) continue;
    pushElement(out, k, v);
  }
  out.push(NUL);
  setLength(out.length - start);
}

function pushElement(out: Chunks, name: string, v: unknown): void {
  if (v instanceof RawDocument) {
    out.push(header(0x03, name));
    out.push(v.bytes);
  } else if (Array.isArray(v) && v.length && v.every((x) => x instanceof RawDocument)) {
    // Cursor batches: headers are shared, the documents' stored bytes are referenced.
    out.push(header(0x04, name));
    const start = out.length;
    const setLength = out.lengthSlot();
    for (let i = 0; i < v.length; i++) {
      out.push(arrayDocumentHeader(i));
      out.push((v[i] as RawDocument).bytes);
    }
    out.push(NUL);
    setLength(out.length - start);
  } else if (Array.isArray(v) && containsRaw(v)) {
    out.push(header(0x04, name));
    pushDocument(out, v.map((x, i) => [String(i), x] as [string, unknown]));
  } else if (isPlainObject(v) && containsRaw(v)) {
    out.push(header(0x03, name));
    pushDocument(out, Object.entries(v));
  } else {
    out.push(encodeElement(name, v));
  }
}

/**
 * Encode a reply document. RawDocument values (at any depth inside plain objects and arrays)
 * are embedded byte for byte; everything else goes through the bson package. Keys whose value
 * is `undefined` are left out.
 */
export function encodeDocument(obj: Record<string, unknown>): Uint8Array {
  if (!containsRaw(obj)) return BSON.serialize(obj, { ignoreUndefined: true });
  const out = new Chunks();
  pushDocument(out, Object.entries(obj));
  return out.concat();
}

/**
 * Like encodeDocument, with `prefix` bytes left free before the document (for a message
 * header), so a reply is copied into its message once.
 */
export function encodeDocumentAfter(prefix: number, obj: Record<string, unknown>): Uint8Array {
  const out = new Chunks();
  out.push(new Uint8Array(prefix));
  if (containsRaw(obj)) pushDocument(out, Object.entries(obj));
  else out.push(BSON.serialize(obj, { ignoreUndefined: true }));
  return out.concat();
}

/** The `_id` element of a raw document, if any. */
export function findElement(buf: Uint8Array, name: string): RawElement | undefined {
  return rawElements(buf).find((e) => e.name === name);
}

/** A copy of `doc` with a new ObjectId `_id` as its first field, as mongod does on insert. */
export function prependObjectId(doc: Uint8Array, id = new ObjectId()): Uint8Array {
  const idEl = encodeElement('_id', id);
  const body = doc.subarray(4, doc.length - 1);
  return documentFromElements([idEl, body]);
}

/**
 * The document as mongod stores it: `_id` is always the first field (moved there if the client
 * put it elsewhere, generated as an ObjectId if absent); all other bytes are kept.
 */
export function withIdFirst(doc: Uint8Array): Uint8Array {
  if (idIsFirst(doc)) return doc;
  const els = rawElements(doc);
  const idIndex = els.findIndex((e) => e.name === '_id');
  if (idIndex === 0) return doc;
  if (idIndex === -1) return prependObjectId(doc);
  const id = els[idIndex]!;
  return documentFromElements([doc.subarray(id.start, id.end), ...els.filter((e) => e !== id).map((e) => doc.subarray(e.start, e.end))]);
}

/** The encoded bytes of an element (type byte through end of value). */
export function elementBytes(buf: Uint8Array, el: RawElement): Uint8Array {
  return buf.subarray(el.start, el.end);
}
