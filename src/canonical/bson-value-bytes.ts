// BSON values at a byte offset: int32 read and written, strings and binary written, and each type's byte size.
import { fail } from './walk-error.js';
import { HEX2 } from './bson-text-tables.js';

/** The little-endian int32 at `p`. */
export function int32At(buf: Uint8Array, p: number): number {
  return buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24);
}

/** Writes `v` as a little-endian int32 at `p`; returns the offset after it. */
export function putInt32At(buf: Uint8Array, p: number, v: number): number {
  buf[p] = v;
  buf[p + 1] = v >>> 8;
  buf[p + 2] = v >>> 16;
  buf[p + 3] = v >>> 24;
  return p + 4;
}

/**
 * Writes a binary value (length, subtype, bytes) at `p`, with room for `data.length + 9` bytes;
 * returns the offset after it. Subtype 2 (the old binary) holds its length once more inside.
 */
export function putBinaryAt(buf: Uint8Array, p: number, data: Uint8Array, subtype: number): number {
  const old = subtype === 0x02;
  p = putInt32At(buf, p, data.length + (old ? 4 : 0));
  buf[p++] = subtype;
  if (old) p = putInt32At(buf, p, data.length);
  buf.set(data, p);
  return p + data.length;
}

/** Writes `s` as a BSON string (length, UTF-8, NUL) at `p`, with room for `s.length * 3 + 5` bytes; returns the offset after it. */
export function putStringAt(buf: Buffer, p: number, s: string): number {
  const n = buf.write(s, p + 4, 'utf8');
  putInt32At(buf, p, n + 1);
  buf[p + 4 + n] = 0;
  return p + 5 + n;
}

/** Byte length of the value of `type` at `p` (used to collect fields before sorting them). */
export function valueSize(buf: Uint8Array, end: number, type: number, p: number): number {
  switch (type) {
    case 0x01:
    case 0x09:
    case 0x11:
    case 0x12:
      return 8;
    case 0x02:
    case 0x0d:
    case 0x0e:
      return 4 + int32At(buf, p);
    case 0x03:
    case 0x04:
    case 0x0f:
      return int32At(buf, p);
    case 0x05:
      return 5 + int32At(buf, p);
    case 0x06:
    case 0x0a:
    case 0xff:
    case 0x7f:
      return 0;
    case 0x07:
      return 12;
    case 0x08:
      return 1;
    case 0x0b: {
      let q = p;
      while (q < end && buf[q] !== 0) q++;
      q++;
      while (q < end && buf[q] !== 0) q++;
      return q + 1 - p;
    }
    case 0x0c:
      return 4 + int32At(buf, p) + 12;
    case 0x10:
      return 4;
    case 0x13:
      return 16;
    default:
      return fail(`unknown BSON type 0x${HEX2[type & 0xff] ?? '??'}`);
  }
}
