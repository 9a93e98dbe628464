/**
 * Values -> exact BSON bytes: a serializer that writes every value as the BSON type the reader
 * gave it, including the types `BSON.serialize` cannot write (Undefined, DBPointer, far dates).
 *
 * It writes into one module-level buffer (`out`, with the write offset `o`) that is reused across
 * calls, because allocating per document is a measurable part of commit and restore. This is safe
 * because serialization is synchronous and not re-entrant: serializeDocument copies the bytes out
 * before returning, and the buffer is shrunk back after an unusually large document.
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
  ObjectId,
  type Document,
} from 'bson';
import { InvalidArgumentError } from '../errors/index.js';
import { DbPointer, INT64_MAX, INT64_MIN, OUT_OF_RANGE_DATE_MS } from './bson-special-values.js';
import { putBinaryAt, putInt32At, putStringAt } from './bson-value-bytes.js';
import { KEEP_AT_MOST, withRoom } from './byte-buffer.js';

let out: Buffer = Buffer.allocUnsafe(64 * 1024);
let o = 0;

function ensure(n: number): void {
  if (o + n > out.length) out = withRoom(out, o, o + n);
}

function putInt32(v: number): void {
  o = putInt32At(out, o, v);
}

function putCString(s: string, what: string): void {
  if (s.includes('\0')) throw new InvalidArgumentError(`${what} ${JSON.stringify(s)} contains a NUL character, which BSON cannot store`);
  ensure(s.length * 3 + 1);
  o += out.write(s, o, 'utf8');
  out[o++] = 0;
}

function putString(s: string): void {
  ensure(s.length * 3 + 5);
  o = putStringAt(out, o, s);
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
  ensure(data.length + 9);
  o = putBinaryAt(out, o, data, subtype);
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
  if (out.length > KEEP_AT_MOST) out = Buffer.allocUnsafe(64 * 1024);
  return bytes;
}
