/**
 * Extended JSON text of the scalar values whose form is a rule of docs/FORMAT.md (doubles, dates,
 * decimals), as pure functions of the value: the document writer's hot loop calls them per value,
 * and the canonical-form check (canonical-part.ts) compares text with them.
 */
import { Decimal128 } from 'bson';

/** Largest epoch milliseconds that is still in year 9999 (9999-12-31T23:59:59.999Z). */
export const MAX_ISO_DATE_MS = 253402300799999;

/** Text of a double, by the rule in docs/FORMAT.md: plain only when finite and non-integral. */
export function doubleText(x: number): string {
  if (Number.isFinite(x)) {
    if (!Number.isInteger(x)) return String(x);
    if (x === 0 && 1 / x < 0) return '{"$numberDouble": "-0.0"}';
    const s = String(x);
    // Below 1e21 String() gives plain digits, which need ".0" to read as a double-looking string;
    // above it gives exponent form ("1e+300"), which Number() reads back exactly as it is.
    return '{"$numberDouble": "' + (s.includes('e') ? s : s + '.0') + '"}';
  }
  if (x !== x) return '{"$numberDouble": "NaN"}';
  return x > 0 ? '{"$numberDouble": "Infinity"}' : '{"$numberDouble": "-Infinity"}';
}

const TWO_32 = 4294967296;

function int32In(b: Uint8Array, p: number): number {
  return b[p] | (b[p + 1] << 8) | (b[p + 2] << 16) | (b[p + 3] << 24);
}

/**
 * Text of the Decimal128 whose 16 bytes start at `p`, as bson's `Decimal128.toString` gives it
 * (the Extended JSON form). Common values (coefficient below 2^53, finite) are formatted here;
 * bson's general 128-bit routine is several times slower and dominated writing money-heavy documents.
 */
export function decimalText(b: Uint8Array, p: number): string {
  const w0 = int32In(b, p) >>> 0;
  const w1 = int32In(b, p + 4) >>> 0;
  const w2 = int32In(b, p + 8);
  const w3 = int32In(b, p + 12);
  if (((w3 >>> 29) & 3) === 3 || (w3 & 0x1ffff) !== 0 || w2 !== 0 || w1 >= 0x200000) {
    // Decimal128 keeps a reference to the bytes; toString only reads them.
    return new Decimal128(b.subarray(p, p + 16)).toString();
  }
  const digits = String(w1 * TWO_32 + w0);
  const n = digits.length;
  const exponent = ((w3 >>> 17) & 0x3fff) - 6176;
  const sign = w3 < 0 ? '-' : '';
  const scientific = n - 1 + exponent;
  if (scientific >= 34 || scientific <= -7 || exponent > 0) {
    return sign + digits[0] + (n > 1 ? '.' + digits.slice(1) : '') + 'E' + (scientific > 0 ? '+' : '') + scientific;
  }
  if (exponent === 0) return sign + digits;
  const radix = n + exponent;
  if (radix > 0) return sign + digits.slice(0, radix) + '.' + digits.slice(radix);
  return sign + '0.' + '0'.repeat(-radix) + digits;
}
