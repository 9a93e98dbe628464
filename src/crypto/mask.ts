/**
 * Masking: replacing sensitive values with realistic pseudonyms, for copies of a database
 * that should look real but identify no one.
 *
 * A pseudonym is derived from a keyed hash (HMAC-SHA256 under the mask key) of the value
 * alone, never of its path, so a value masks to the same pseudonym in every field and every
 * collection and joins on masked fields (user ids, emails) still match. Pseudonyms keep the
 * value's BSON type and shape:
 *
 * - email-shaped string -> `u<16 hex>@example.com` (64 hash bits: collisions are negligible;
 *   example.com so a masked address can never reach a real person)
 * - other string -> same length in code points, letters -> ASCII letters with case kept,
 *   digits -> digits, everything else kept (a phone number stays phone-shaped)
 * - Int32 / Int64 / integral Double -> same type, same sign, same number of decimal digits
 * - other Double / Decimal128 -> same type, digits replaced keeping the decimal point,
 *   exponent and number of digits (so the same magnitude)
 * - Date -> within ±1 year (whole days kept whole, whole seconds kept whole)
 * - ObjectId -> keyed ObjectId whose embedded time is within ±1 year
 * - Binary / UUID -> keyed bytes of the same length and subtype (UUID version bits and the
 *   vector header kept valid)
 * - documents and arrays -> masked leaf by leaf, field names kept
 * - left as is: null, booleans, ±0, NaN, ±Infinity, Timestamp, regex, Code, MinKey, MaxKey
 *
 * Masking is one-way and works on plaintext: an encrypted marker is refused (decrypt first).
 */
import { createHmac } from 'node:crypto';
import {
  Binary,
  BSONSymbol,
  DBRef,
  Decimal128,
  Double,
  Int32,
  Long,
  ObjectId,
  UUID,
  type Document,
} from 'bson';
import { InvalidArgumentError, KeyError } from '../errors/index.js';
import { isEncryptedValue } from './field-cipher.js';
import { DbsnapKey, subKeysOf } from './keys.js';
import { isPlainDocument, replaceAtPaths, setField, validateFieldPath } from './paths.js';

/** A key for masking: a dbsnap key (its derived mask sub-key is used) or raw HMAC key bytes. */
export type MaskKey = DbsnapKey | Uint8Array;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const DAY_MS = 86_400_000;
const YEAR_DAYS = 365;
const INT32_MAX = 2n ** 31n - 1n;
const INT64_MAX = 2n ** 63n - 1n;
const SAFE_MAX = 2n ** 53n;

/**
 * Returns a copy of `doc` with the values at `paths` replaced by pseudonyms (paths as for
 * encryption, `_id` allowed). The input is not mutated; missing fields are skipped.
 *
 * @throws InvalidArgumentError (`EINVALIDARG`) for a malformed path or an encrypted value.
 * @example
 * const masked = maskDocument(user, ['email', 'name', 'address.phone'], key);
 */
export function maskDocument(doc: Document, paths: readonly string[], key: MaskKey): Document {
  for (const path of paths) validateFieldPath(path, { allowId: true, label: `masked field "${path}"` });
  const hmacKey = maskKeyBytes(key);
  return replaceAtPaths(doc, paths, (value, site) => maskAt(value, hmacKey, site.location));
}

/**
 * The pseudonym of one value (see the module comment for the rules per type).
 *
 * @example
 * maskValue('ada@example.org', key) // 'u3f9c...@example.com'
 */
export function maskValue(value: unknown, key: MaskKey): unknown {
  return maskAt(value, maskKeyBytes(key), 'value');
}

function maskKeyBytes(key: MaskKey): Uint8Array {
  if (key instanceof DbsnapKey) return subKeysOf(key).mask;
  if (key.length < 16) {
    throw new KeyError(`mask key: expected at least 16 bytes, got ${key.length}.`, { length: key.length });
  }
  return key;
}

/**
 * A deterministic byte stream seeded by HMAC(maskKey, domain ‖ 0x00 ‖ value): the domain
 * keeps, say, a string and a Binary with the same bytes from masking alike.
 */
class KeyedStream {
  private readonly seed: Buffer;
  private buffer = Buffer.alloc(0);
  private offset = 0;
  private counter = 0;

  constructor(maskKey: Uint8Array, domain: string, value: Uint8Array | string) {
    this.seed = createHmac('sha256', maskKey).update(domain).update(Buffer.of(0)).update(value).digest();
  }

  /** The first 8 seed bytes as hex: the pseudonym for identifiers such as emails. */
  hex64(): string {
    return this.seed.subarray(0, 8).toString('hex');
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) {
      if (this.offset === this.buffer.length) {
        const block = Buffer.alloc(4);
        block.writeUInt32BE(this.counter++);
        this.buffer = createHmac('sha256', this.seed).update(block).digest();
        this.offset = 0;
      }
      out[i] = this.buffer[this.offset++]!;
    }
    return out;
  }

  /** Uniform enough in [0, n): 128 random bits reduced mod n, bias below 2^-64. */
  below(n: bigint): bigint {
    return BigInt('0x' + this.bytes(16).toString('hex')) % n;
  }

  digit(from = 0): string {
    return String(from + Number(this.below(BigInt(10 - from))));
  }
}

function maskAt(value: unknown, key: Uint8Array, location: string): unknown {
  if (value === null || value === undefined || typeof value === 'boolean') return value;
  if (typeof value === 'string') return maskString(value, key);
  if (typeof value === 'number') return maskNumber(value, key);
  if (typeof value === 'bigint') return maskInteger(value, key, { maxPositive: INT64_MAX, maxNegative: INT64_MAX + 1n });
  if (value instanceof Date) return maskDate(value, key);
  if (Array.isArray(value)) return value.map((element, i) => maskAt(element, key, `${location}.${i}`));
  if (isEncryptedValue(value)) {
    throw new InvalidArgumentError(
      `${location}: the value is encrypted; decrypt the document before masking it.`,
      { field: location },
    );
  }
  if (isPlainDocument(value)) {
    const out: Document = Object.getPrototypeOf(value) === null ? Object.create(null) : {};
    for (const k of Object.keys(value)) setField(out, k, maskAt(value[k], key, `${location}.${k}`));
    return out;
  }
  // Dispatch on _bsontype, not instanceof: Timestamp extends Long, UUID extends Binary.
  switch ((value as { _bsontype?: string })._bsontype) {
    case 'Int32': {
      const masked = maskInteger(BigInt((value as Int32).value), key, { maxPositive: INT32_MAX, maxNegative: INT32_MAX + 1n });
      return new Int32(Number(masked));
    }
    case 'Long': {
      const masked = maskInteger((value as Long).toBigInt(), key, { maxPositive: INT64_MAX, maxNegative: INT64_MAX + 1n });
      return Long.fromBigInt(masked);
    }
    case 'Double':
      return new Double(maskDouble((value as Double).value, key));
    case 'Decimal128':
      return maskDecimal128(value as Decimal128, key);
    case 'ObjectId':
      return maskObjectId(value as ObjectId, key);
    case 'Binary':
      return maskBinary(value as Binary, key);
    case 'BSONSymbol':
      return new BSONSymbol(maskString((value as BSONSymbol).value, key));
    case 'DBRef': {
      const ref = value as DBRef;
      const fields = maskAt(ref.fields, key, `${location}.fields`) as Document;
      return new DBRef(ref.collection, maskAt(ref.oid, key, `${location}.$id`) as ObjectId, ref.db, fields);
    }
    default:
      // Timestamp, BSONRegExp, Code, MinKey, MaxKey: structural or server-internal values.
      return value;
  }
  return value;
}

function maskString(value: string, key: Uint8Array): string {
  const stream = new KeyedStream(key, 'string', value);
  if (EMAIL.test(value)) return `u${stream.hex64()}@example.com`;
  let out = '';
  for (const ch of value) {
    if (/\p{Nd}/u.test(ch)) out += stream.digit();
    else if (/\p{L}/u.test(ch)) {
      const letter = String.fromCharCode(0x61 + Number(stream.below(26n)));
      out += /\p{Lu}/u.test(ch) ? letter.toUpperCase() : letter;
    } else out += ch;
  }
  return out;
}

interface IntegerBounds {
  maxPositive: bigint;
  maxNegative: bigint;
  /** Smallest magnitude allowed (keeps a plain JS number outside int32 from becoming int32). */
  minPositive?: bigint;
  minNegative?: bigint;
}

// Same sign, same number of decimal digits, within the type's range. Hashed by numeric value,
// so 42 as Int32, Int64 or 42.0 masks to the same number (MongoDB compares them as equal).
function maskInteger(value: bigint, key: Uint8Array, bounds: IntegerBounds): bigint {
  if (value === 0n) return 0n;
  const negative = value < 0n;
  const magnitude = negative ? -value : value;
  const digits = magnitude.toString().length;
  const stream = new KeyedStream(key, 'integer', value.toString());
  const floor = (negative ? bounds.minNegative : bounds.minPositive) ?? 1n;
  const ceiling = negative ? bounds.maxNegative : bounds.maxPositive;
  const lo = max(10n ** BigInt(digits - 1), floor);
  const hi = min(10n ** BigInt(digits) - 1n, ceiling);
  const masked = lo + stream.below(hi - lo + 1n);
  return negative ? -masked : masked;
}

const max = (a: bigint, b: bigint) => (a > b ? a : b);
const min = (a: bigint, b: bigint) => (a < b ? a : b);

// A plain JS number becomes int32 or double when serialized, by value; the pseudonym must
// land in the same class.
function maskNumber(value: number, key: Uint8Array): number {
  if (!Number.isSafeInteger(value) || Object.is(value, -0)) return maskDouble(value, key);
  const int = BigInt(value);
  if (int >= -(INT32_MAX + 1n) && int <= INT32_MAX) {
    return Number(maskInteger(int, key, { maxPositive: INT32_MAX, maxNegative: INT32_MAX + 1n }));
  }
  return Number(
    maskInteger(int, key, {
      maxPositive: SAFE_MAX,
      maxNegative: SAFE_MAX,
      minPositive: INT32_MAX + 1n,
      minNegative: INT32_MAX + 2n,
    }),
  );
}

function maskDouble(value: number, key: Uint8Array): number {
  if (!Number.isFinite(value) || value === 0) return value;
  if (Number.isInteger(value) && Math.abs(value) <= Number(SAFE_MAX)) {
    return Number(maskInteger(BigInt(value), key, { maxPositive: SAFE_MAX, maxNegative: SAFE_MAX }));
  }
  const text = String(value);
  const stream = new KeyedStream(key, 'double', text);
  // Parsing can round a 17-digit string onto an integer or past the largest double; the
  // stream is long, so draw again until the pseudonym is of the same kind.
  let masked = value;
  for (let attempt = 0; attempt < 16; attempt++) {
    masked = Number(maskDigits(text, stream, true));
    if (Number.isFinite(masked) && Number.isInteger(masked) === Number.isInteger(value)) return masked;
  }
  return Number.isFinite(masked) ? masked : Math.sign(value) * Number.MAX_VALUE;
}

function maskDecimal128(value: Decimal128, key: Uint8Array): Decimal128 {
  const text = value.toString();
  if (!/[1-9]/.test(text.split(/[eE]/)[0]!)) return value; // zero, NaN, Infinity
  return Decimal128.fromString(maskDigits(text, new KeyedStream(key, 'decimal', text), false));
}

/**
 * Replaces the digits of a decimal number's coefficient (the exponent is kept): leading zeros
 * stay, the first significant digit stays non-zero, so the magnitude is unchanged.
 * `nonZeroLast` keeps a fraction from ending in 0 (which would shorten it when reparsed).
 */
function maskDigits(text: string, stream: KeyedStream, nonZeroLast: boolean): string {
  const [coefficient, exponent] = text.split(/(?=[eE])/);
  const chars = [...coefficient!];
  const lastDigit = chars.findLastIndex((c) => c >= '0' && c <= '9');
  const hasFraction = coefficient!.includes('.');
  let significant = false;
  const out = chars.map((c, i) => {
    if (c < '0' || c > '9') return c;
    if (!significant && c === '0') return c;
    const first = !significant;
    significant = true;
    return stream.digit(first || (nonZeroLast && hasFraction && i === lastDigit) ? 1 : 0);
  });
  return out.join('') + (exponent ?? '');
}

const MAX_DATE_MS = 8.64e15;

function maskDate(value: Date, key: Uint8Array): Date {
  const time = value.getTime();
  if (Number.isNaN(time)) return value;
  const unit = time % DAY_MS === 0 ? DAY_MS : time % 1000 === 0 ? 1000 : 1;
  const span = BigInt((YEAR_DAYS * DAY_MS) / unit);
  const stream = new KeyedStream(key, 'date', String(time));
  const offset = Number(stream.below(2n * span + 1n) - span) * unit;
  return new Date(Math.min(MAX_DATE_MS, Math.max(-MAX_DATE_MS, time + offset)));
}

function maskObjectId(value: ObjectId, key: Uint8Array): ObjectId {
  const bytes = Buffer.from(value.id);
  const stream = new KeyedStream(key, 'objectid', bytes);
  const seconds = bytes.readUInt32BE(0);
  const span = YEAR_DAYS * 86_400;
  const shifted = seconds + Number(stream.below(BigInt(2 * span + 1))) - span;
  const out = Buffer.alloc(12);
  out.writeUInt32BE(Math.min(0xffffffff, Math.max(0, shifted)), 0);
  stream.bytes(8).copy(out, 4);
  return new ObjectId(out);
}

function maskBinary(value: Binary, key: Uint8Array): Binary {
  const original = value.value();
  const stream = new KeyedStream(key, 'binary', Buffer.concat([Buffer.of(value.sub_type), original]));
  const bytes = stream.bytes(original.length);
  if (value.sub_type === Binary.SUBTYPE_UUID && bytes.length === 16) {
    // Keep the version nibble and variant bits so the pseudonym is still a valid UUID.
    bytes[6] = (original[6]! & 0xf0) | (bytes[6]! & 0x0f);
    bytes[8] = (original[8]! & 0xc0) | (bytes[8]! & 0x3f);
  }
  if (value.sub_type === Binary.SUBTYPE_VECTOR && bytes.length >= 2) {
    // A vector starts with a dtype byte and a padding byte that the server validates.
    bytes[0] = original[0]!;
    bytes[1] = original[1]!;
  }
  if (value instanceof UUID) return new UUID(bytes);
  return new Binary(bytes, value.sub_type);
}
