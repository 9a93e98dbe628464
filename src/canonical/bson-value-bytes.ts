// Fixed-layout BSON values read at a byte offset: int32, and each type's byte size.
import { fail } from './walk-error.js';
import { HEX2 } from './bson-text-tables.js';

/** The little-endian int32 at `p`. */
export function int32At(buf: Uint8Array, p: number): number {
  return buf[p] | (buf[p + 1] << 8) | (buf[p + 2] << 16) | (buf[p + 3] << 24);
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
