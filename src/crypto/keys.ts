/**
 * The dbsnap encryption key: parsing, sub-key derivation, and keeping the material out of logs.
 *
 * One 32-byte master key is never used directly; HKDF-SHA256 derives independent sub-keys for
 * each purpose, so a leak or misuse of one (say, the mask key shared with a team that only
 * masks data) reveals nothing about the others. The key id is derived the same way and is
 * public: the repository config stores it so a wrong key is reported as such, not as
 * "authentication failed" on every field.
 */
import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import { KeyError } from '../errors/index.js';

const KEY_BYTES = 32;
// A fixed salt is fine for HKDF when the input key is already uniformly random; it only
// separates dbsnap's derivations from any other use of the same key material.
const HKDF_SALT = Buffer.from('dbsnap hkdf salt v1', 'utf8');
const EXPECTED_FORMAT =
  'a 32-byte key written as 64 hexadecimal characters or 44 base64 characters';

/** The derived sub-keys; reachable only through {@link subKeysOf} inside src/crypto. */
export interface SubKeys {
  /** AES-256-SIV key (RFC 5297: 64 bytes, CMAC half then CTR half) for field values, version 2. */
  readonly siv: Buffer;
  /** AES-256-GCM key for field values, version 1 (read only). */
  readonly encryption: Buffer;
  /** HMAC-SHA256 key for version 1's synthetic nonce (read only). */
  readonly nonce: Buffer;
  /** HMAC-SHA256 key for masking pseudonyms. */
  readonly mask: Buffer;
  /** HMAC-SHA256 key for digests kept outside the snapshot (the server-hash cache). */
  readonly digest: Buffer;
}

function derive(ikm: Uint8Array, info: string, length = KEY_BYTES): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, HKDF_SALT, Buffer.from(info, 'utf8'), length));
}

let readSubKeys: (key: DbsnapKey) => SubKeys;

/**
 * A parsed key. Only its public `id` (16 hex chars) and `source` are visible: `toString`,
 * `toJSON` and `util.inspect` never show key material, so a key logged by accident leaks
 * nothing.
 */
export class DbsnapKey {
  /** Public key id (first 8 bytes of HKDF(key, 'dbsnap key id'), hex). Safe to store and print. */
  readonly id: string;
  /** Where the key came from (e.g. `DBSNAP_KEY`, `key file ./dbsnap.key`), for messages. */
  readonly source: string;
  // A private field, not a property: invisible to Object.keys, JSON, structuredClone and inspect.
  readonly #subKeys: SubKeys;

  static {
    readSubKeys = (key) => key.#subKeys;
  }

  private constructor(material: Uint8Array, source: string) {
    this.id = derive(material, 'dbsnap key id', 8).toString('hex');
    this.source = source;
    this.#subKeys = Object.freeze({
      siv: derive(material, 'dbsnap field encryption v2 aes-siv', 64),
      encryption: derive(material, 'dbsnap field encryption'),
      nonce: derive(material, 'dbsnap field nonce'),
      mask: derive(material, 'dbsnap mask'),
      digest: derive(material, 'dbsnap keyed digest'),
    });
  }

  /**
   * Builds a key from 32 raw bytes (use {@link parseKey} for text from the environment or a file).
   *
   * @example
   * const key = DbsnapKey.fromBytes(crypto.randomBytes(32), 'test');
   */
  static fromBytes(material: Uint8Array, source: string): DbsnapKey {
    if (material.length !== KEY_BYTES) {
      throw new KeyError(
        `${source}: the key must be 32 bytes, got ${material.length}. Expected ${EXPECTED_FORMAT}.`,
        { source },
      );
    }
    return new DbsnapKey(material, source);
  }

  toString(): string {
    return `DbsnapKey(${this.id})`;
  }

  toJSON(): { keyId: string } {
    return { keyId: this.id };
  }

  [inspect.custom](): string {
    return `DbsnapKey { id: '${this.id}', source: '${this.source}' }`;
  }
}

/** The derived sub-keys of `key`. Internal to src/crypto; not re-exported from the package. */
export function subKeysOf(key: DbsnapKey): SubKeys {
  return readSubKeys(key);
}

const HEX_KEY = /^[0-9a-fA-F]{64}$/;
// Standard or URL-safe alphabet, padding optional: 32 bytes are 43 characters plus one '='.
const BASE64_KEY = /^(?:[A-Za-z0-9+/]{43}|[A-Za-z0-9_-]{43})=?$/;

/**
 * Key text for sensitive fields as a caller passes it: the text alone, or with where it came from
 * (`DBSNAP_KEY`, `key file ./dbsnap.key`) so that an error names the source actually used.
 */
export type KeyMaterial = string | { text: string; source: string };

/** The text and the source of key material (`the key` when the caller did not say where it came from). */
export function keyMaterialParts(material: KeyMaterial): { text: string; source: string } {
  return typeof material === 'string' ? { text: material, source: 'the key' } : material;
}

/**
 * Parses key text as found in `DBSNAP_KEY` or a key file: 64 hex characters or base64 (standard
 * or URL-safe) of exactly 32 bytes, surrounding whitespace ignored. `source` names where the
 * text came from, for the error message.
 *
 * @throws KeyError (`EKEY`) saying which format is expected; the message and data never
 *   contain the key text.
 * @example
 * const key = parseKey(process.env.DBSNAP_KEY ?? '', 'DBSNAP_KEY');
 * config.keyId = key.id;
 */
export function parseKey(material: string | Uint8Array, source: string): DbsnapKey {
  const text = (typeof material === 'string' ? material : Buffer.from(material).toString('utf8')).trim();
  if (HEX_KEY.test(text)) return keyFromDecoded(Buffer.from(text, 'hex'), source);
  if (BASE64_KEY.test(text)) {
    const bytes = Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (bytes.length === KEY_BYTES) return keyFromDecoded(bytes, source);
  }
  throw new KeyError(
    `${source} does not hold a valid dbsnap key (${describeShape(text)}). Expected ${EXPECTED_FORMAT}; ` +
      'generate one with generateKey() or `openssl rand -hex 32`.',
    { source, length: text.length },
  );
}

// Describes what was found without echoing any of it.
function describeShape(text: string): string {
  if (text.length === 0) return 'it is empty';
  if (/^[0-9a-fA-F]+$/.test(text)) return `found ${text.length} hexadecimal characters`;
  return `found ${text.length} characters`;
}

// The decoded master key is only needed for derivation; wipe the temporary copy afterwards.
function keyFromDecoded(bytes: Buffer, source: string): DbsnapKey {
  try {
    return DbsnapKey.fromBytes(bytes, source);
  } finally {
    bytes.fill(0);
  }
}

/**
 * A new random key as 64 hex characters, ready for `DBSNAP_KEY` or a key file.
 *
 * @example
 * fs.writeFileSync('dbsnap.key', generateKey() + '\n', { mode: 0o600 });
 */
export function generateKey(): string {
  return randomBytes(KEY_BYTES).toString('hex');
}

/**
 * HMAC-SHA256 of `text` under the key's digest sub-key (hex). A plain hash of plaintext data
 * (say the server's MD5 of a collection holding sensitive fields) lets anyone with the file
 * confirm a guess of the data; a keyed one does not.
 *
 * @example
 * keyedDigest(key, serverMd5) // '3f1c...' (64 hex characters), stable for the same key and text
 */
export function keyedDigest(key: DbsnapKey, text: string): string {
  return createHmac('sha256', subKeysOf(key).digest).update(text, 'utf8').digest('hex');
}
