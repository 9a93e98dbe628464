/**
 * Deterministic authenticated encryption of document fields (format: docs/FORMAT.md,
 * "Encrypted fields").
 *
 * A sensitive value is replaced by a marker sub-document:
 *
 *     { "$dbsnapEncrypted": { "v": 2, "k": "<key id>", "c": Binary(siv ‖ ciphertext, 0) } }
 *
 * Version 2 (written): AES-256-SIV, RFC 5297, from @noble/ciphers (audited), a standard
 * deterministic AEAD:
 *
 *     plaintext = BSON type byte ‖ BSON element value bytes
 *     c         = AES-SIV(K = 64-byte HKDF sub-key, AD = [path (UTF-8)], plaintext) = V(16) ‖ C
 *
 * Version 1 (read only, until `dbsnap rekey` or a new commit rewrites the value): AES-256-GCM with
 * a synthetic nonce built from HMAC-SHA256(nonceKey, path ‖ 0x00 ‖ plaintext)[0..12], AAD = path,
 * c = nonce ‖ ciphertext ‖ tag. It was home-made; version 2 replaces it by the standard
 * construction.
 *
 * Why deterministic: snapshots live in git, and a random nonce would rewrite every encrypted
 * field on every commit, burying real changes in noise. The same value at the same path under
 * the same key always yields the same bytes; the same value at another path does not (the path
 * is authenticated data, so a value moved to another field fails authentication). Because the
 * plaintext keeps the BSON type byte and exact value bytes, decryption restores the value bit
 * for bit (Int32 stays Int32, -0.0 stays -0.0, Decimal128 keeps its exponent).
 *
 * What an observer of the repository still learns, by design: which fields are present (null
 * values are encrypted too, so null and a value look alike; only absence shows), whether two
 * values at the same path are equal, and each value's approximate length.
 */
import { aessiv } from '@noble/ciphers/aes.js';
import { createDecipheriv, createHmac, timingSafeEqual } from 'node:crypto';
import { Binary, BSON, Int32, type Document } from 'bson';
import {
  CorruptSnapshotError,
  InvalidArgumentError,
  KeyError,
  UnsupportedFormatError,
} from '../errors/index.js';
import { subKeysOf, type DbsnapKey } from './keys.js';
import { isPlainDocument, replaceAtPaths, setField, validateFieldPath, withField } from './paths.js';

/** Field name of the encrypted-value marker. */
export const ENCRYPTED_MARKER_FIELD = '$dbsnapEncrypted';
/** Version of the marker format written by this code (2: AES-256-SIV). Version 1 is still read. */
export const ENCRYPTED_FORMAT_VERSION = 2;
/** Every marker version this code reads. */
export const READABLE_ENCRYPTED_VERSIONS: readonly number[] = [1, 2];

const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const SIV_BYTES = 16;
// The smallest body of each version: its overhead plus the one-byte BSON type of the plaintext.
const MIN_BODY: Record<number, number> = { 1: NONCE_BYTES + TAG_BYTES + 1, 2: SIV_BYTES + 1 };
/** Decoding options that keep every value's exact BSON type (Int32/Double/Long wrappers, BSONRegExp). */
export const EXACT_DECODE_OPTIONS = { promoteValues: false, bsonRegExp: true } as const;

/** The marker that replaces an encrypted value. */
export interface EncryptedValue {
  $dbsnapEncrypted: { v: Int32 | number; k: string; c: Binary };
}

/**
 * Whether `value` is an encrypted-value marker (a document whose only field is
 * `$dbsnapEncrypted`). Its contents are checked when decrypting.
 */
export function isEncryptedValue(value: unknown): value is EncryptedValue {
  if (!isPlainDocument(value)) return false;
  const keys = Object.keys(value);
  return keys.length === 1 && keys[0] === ENCRYPTED_MARKER_FIELD && isPlainDocument(value[ENCRYPTED_MARKER_FIELD]);
}

// BSON.serialize({ v }) lays out: int32 size | type | 'v' 0x00 | value bytes | 0x00.
function toPlaintext(value: unknown, path: string): Buffer {
  const doc = BSON.serialize({ v: value });
  if (doc.length <= 7) {
    throw new InvalidArgumentError(`encrypted field ${path}: the value cannot be stored as BSON.`, { path });
  }
  return Buffer.concat([doc.subarray(4, 5), doc.subarray(7, doc.length - 1)]);
}

function fromPlaintext(plaintext: Uint8Array): unknown {
  const doc = Buffer.alloc(plaintext.length + 7);
  doc.writeInt32LE(doc.length, 0);
  doc[4] = plaintext[0]!;
  doc[5] = 0x76; // 'v'
  doc.set(plaintext.subarray(1), 7);
  return BSON.deserialize(doc, EXACT_DECODE_OPTIONS).v;
}

function syntheticNonce(nonceKey: Buffer, path: string, plaintext: Uint8Array): Buffer {
  return createHmac('sha256', nonceKey)
    .update(path, 'utf8')
    .update(Buffer.of(0))
    .update(plaintext)
    .digest()
    .subarray(0, NONCE_BYTES);
}

/**
 * Encrypts one value for the field at `path` (the configured path, e.g. `items.note`).
 *
 * @example
 * const marker = encryptValue('ada@example.org', 'email', key);
 */
export function encryptValue(value: unknown, path: string, key: DbsnapKey): EncryptedValue {
  const body = aessiv(subKeysOf(key).siv, Buffer.from(path, 'utf8')).encrypt(toPlaintext(value, path));
  return {
    [ENCRYPTED_MARKER_FIELD]: { v: new Int32(ENCRYPTED_FORMAT_VERSION), k: key.id, c: new Binary(body, 0) },
  };
}

interface MarkerParts {
  version: number;
  keyId: string;
  body: Uint8Array;
}

function readMarker(marker: EncryptedValue, where: string): MarkerParts {
  const inner = marker[ENCRYPTED_MARKER_FIELD] as Record<string, unknown>;
  const version = Number((inner.v as { valueOf(): unknown } | undefined)?.valueOf());
  if (!READABLE_ENCRYPTED_VERSIONS.includes(version)) {
    throw new UnsupportedFormatError(
      `${where}: encrypted with marker version ${String(inner.v)}, which this dbsnap does not know. Upgrade dbsnap.`,
      { field: where, version: inner.v },
    );
  }
  const c = inner.c;
  // _bsontype rather than instanceof: the driver may bring its own copy of bson.
  if (typeof inner.k !== 'string' || !isBinary(c) || c.sub_type !== 0 || c.length() < MIN_BODY[version]!) {
    throw new CorruptSnapshotError(
      `${where}: the encrypted value marker is malformed (expected k: key id string, c: binary of at least ${MIN_BODY[version]} bytes). The snapshot may have been edited by hand; run dbsnap verify.`,
      { field: where },
    );
  }
  return { version, keyId: inner.k, body: c.value() };
}

/**
 * Decrypts one marker found at `path` (configured path). `location` names the concrete field
 * in messages (defaults to `path`).
 *
 * @throws KeyError (`EKEY`) when the marker was written with another key.
 * @throws CorruptSnapshotError (`ECORRUPT`) when authentication fails: the value was modified,
 *   truncated or moved from another field.
 * @example
 * decryptValue(encryptValue(42, 'age', key), 'age', key) // 42
 */
export function decryptValue(marker: EncryptedValue, path: string, key: DbsnapKey, location = path): unknown {
  const { version, keyId, body } = readMarker(marker, location);
  if (keyId !== key.id) throw wrongKeyError([path], keyId, key);
  return openBody(version, body, path, key, location);
}

function openBody(version: number, body: Uint8Array, path: string, key: DbsnapKey, location: string): unknown {
  if (version === 1) return openVersion1(body, path, key, location);
  let plaintext: Uint8Array;
  try {
    plaintext = aessiv(subKeysOf(key).siv, Buffer.from(path, 'utf8')).decrypt(body);
  } catch {
    throw tamperedError(location, path);
  }
  return fromPlaintext(plaintext);
}

function openVersion1(body: Uint8Array, path: string, key: DbsnapKey, location: string): unknown {
  const { encryption, nonce: nonceKey } = subKeysOf(key);
  const nonce = body.subarray(0, NONCE_BYTES);
  const tag = body.subarray(body.length - TAG_BYTES);
  let plaintext: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', encryption, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(path, 'utf8'));
    decipher.setAuthTag(tag);
    plaintext = Buffer.concat([decipher.update(body.subarray(NONCE_BYTES, body.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw tamperedError(location, path);
  }
  // GCM alone accepts any nonce; checking the synthetic one keeps the determinism contract.
  if (!timingSafeEqual(syntheticNonce(nonceKey, path, plaintext), nonce)) throw tamperedError(location, path);
  return fromPlaintext(plaintext);
}

function tamperedError(location: string, path: string): CorruptSnapshotError {
  return new CorruptSnapshotError(
    `${location}: the encrypted value failed authentication; it was modified, truncated or copied from another field. ` +
      'The snapshot may have been edited by hand; run dbsnap verify.',
    { field: location, path },
  );
}

function wrongKeyError(fields: string[], expectedKeyId: string, key: DbsnapKey): KeyError {
  return new KeyError(
    `${fields.join(', ')} ${fields.length === 1 ? 'was' : 'were'} encrypted with key id ${expectedKeyId}, ` +
      `but the key from ${key.source} has id ${key.id}. Supply the key this repository was created with.`,
    { expectedKeyId, actualKeyId: key.id, fields },
  );
}

/** Result of {@link encryptDocument}. */
export interface EncryptResult {
  /** A new document with the values at the paths replaced by markers. */
  doc: Document;
  /** How many values were encrypted. */
  encrypted: number;
}

/**
 * Encrypts the values at `paths` (relative to the document, e.g. `email`, `address.phone`,
 * `items.note` for every element of `items`). Returns a new document with field order kept;
 * the input is not mutated. Every present value is encrypted, null included; missing fields
 * are skipped, and values that are already markers are left alone, so encrypting twice is a
 * no-op.
 *
 * @throws InvalidArgumentError (`EINVALIDARG`) for a malformed path or one starting at `_id`.
 * @example
 * const { doc, encrypted } = encryptDocument(user, ['email', 'address.phone'], key);
 */
export function encryptDocument(doc: Document, paths: readonly string[], key: DbsnapKey): EncryptResult {
  for (const path of paths) validateFieldPath(path, { label: `encrypted field "${path}"` });
  let encrypted = 0;
  const result = replaceAtPaths(
    doc,
    paths,
    (value, site) => {
      if (isEncryptedValue(value)) return value;
      encrypted++;
      return encryptValue(value, site.path, key);
    },
    (value) => !isEncryptedValue(value),
  );
  return { doc: result, encrypted };
}

/** Options for {@link decryptDocument}. */
export interface DecryptOptions {
  /** Collection name, to prefix field names in messages (`users.email`). */
  collection?: string;
}

interface MarkerSite {
  path: string;
  location: string;
  marker: EncryptedValue;
}

/**
 * Replaces every encrypted marker in `doc`, wherever it is, by its original value. The key id
 * of all markers is checked before anything is decrypted. Returns `doc` itself when it holds
 * no markers, otherwise a new document (field order kept).
 *
 * @throws KeyError (`EKEY`) when markers were written with another key; `data` holds
 *   `expectedKeyId` (the id in the snapshot), `actualKeyId` (the key given) and `fields`.
 * @throws CorruptSnapshotError (`ECORRUPT`) naming the field whose value fails authentication.
 * @example
 * const plain = decryptDocument(stored, key, { collection: 'users' });
 */
export function decryptDocument(doc: Document, key: DbsnapKey, options: DecryptOptions = {}): Document {
  const prefix = options.collection ? `${options.collection}.` : '';
  const sites: MarkerSite[] = [];
  walkMarkers(doc, '', '', (marker, path, location) => {
    sites.push({ path, location, marker });
    return marker;
  });
  if (sites.length === 0) return doc;
  const parsed = sites.map((s) => ({ ...s, ...readMarker(s.marker, prefix + s.location) }));
  const foreign = parsed.filter((s) => s.keyId !== key.id);
  if (foreign.length > 0) {
    throw wrongKeyError(uniquePaths(foreign.map((s) => prefix + s.path)), foreign[0]!.keyId, key);
  }
  let i = 0;
  return walkMarkers(doc, '', '', () => {
    const site = parsed[i++]!;
    return openBody(site.version, site.body, site.path, key, prefix + site.location);
  }) as Document;
}

/**
 * The configured-style paths (`email`, `items.note`) of all encrypted values in `doc`, unique,
 * in document order. Use it to name the fields when no key is available.
 *
 * @example
 * findEncryptedFields(stored) // ['email', 'address.phone']
 */
export function findEncryptedFields(doc: Document): string[] {
  const paths: string[] = [];
  walkMarkers(doc, '', '', (marker, path) => {
    paths.push(path);
    return marker;
  });
  return uniquePaths(paths);
}

function uniquePaths(paths: string[]): string[] {
  return [...new Set(paths)];
}

type MarkerVisitor = (marker: EncryptedValue, path: string, location: string) => unknown;

// Depth-first in document order, so a collecting pass and a replacing pass visit markers in
// the same sequence. Array indexes go into `location` but not into `path`.
function walkMarkers(value: unknown, path: string, location: string, visit: MarkerVisitor): unknown {
  if (isEncryptedValue(value)) return visit(value, path, location);
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((element, i) => {
      const next = walkMarkers(element, path, join(location, String(i)), visit);
      if (next !== element) (copy ??= [...value])[i] = next;
    });
    return copy ?? value;
  }
  if (isPlainDocument(value)) {
    let copy: Document | undefined;
    for (const k of Object.keys(value)) {
      const element = value[k];
      const next = walkMarkers(element, join(path, k), join(location, k), visit);
      if (next === element) continue;
      if (copy) setField(copy, k, next);
      else copy = withField(value, k, next);
    }
    return copy ?? value;
  }
  return value;
}

function join(prefix: string, segment: string): string {
  return prefix === '' ? segment : `${prefix}.${segment}`;
}

function isBinary(value: unknown): value is Binary {
  return (value as { _bsontype?: string } | null)?._bsontype === 'Binary';
}
