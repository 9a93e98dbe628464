import { BSON, type Document } from 'bson';
import { parseKey } from '../../src/crypto/index.js';
import { EXACT_DECODE_OPTIONS } from '../../src/crypto/field-cipher.js';

export const KEY_HEX = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';
export const KEY_BASE64 = Buffer.from(KEY_HEX, 'hex').toString('base64');
export const OTHER_KEY_HEX = 'ff'.repeat(32);

export const key = parseKey(KEY_HEX, 'test key');
export const otherKey = parseKey(OTHER_KEY_HEX, 'other key');

/** Decodes like dbsnap does: every value keeps its exact BSON type. */
export function exact(doc: Document): Document {
  return BSON.deserialize(BSON.serialize(doc), EXACT_DECODE_OPTIONS);
}

export function bytesOf(doc: Document): string {
  return Buffer.from(BSON.serialize(doc)).toString('hex');
}

/** The BSON type byte a value serializes with. */
export function bsonType(value: unknown): number {
  return BSON.serialize({ v: value })[4]!;
}

export interface CaughtError {
  code: string;
  message: string;
  data: Record<string, unknown>;
}

/** The error `fn` throws; fails the test when it throws nothing. */
export function caught(fn: () => unknown): CaughtError {
  try {
    fn();
  } catch (err) {
    return err as CaughtError;
  }
  throw new Error('expected an error');
}
