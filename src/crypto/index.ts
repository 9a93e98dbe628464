/**
 * Sensitive data: keys, deterministic field encryption, masking, field paths, hashing.
 * Pure functions over documents and bytes; Node's `crypto` is the only primitive provider.
 */
export { DbsnapKey, generateKey, keyedDigest, keyMaterialParts, parseKey, type KeyMaterial } from './keys.js';
export {
  decryptDocument,
  decryptValue,
  encryptDocument,
  encryptValue,
  findEncryptedFields,
  isEncryptedValue,
  ENCRYPTED_FORMAT_VERSION,
  ENCRYPTED_MARKER_FIELD,
  EXACT_DECODE_OPTIONS,
  type DecryptOptions,
  type EncryptedValue,
  type EncryptResult,
} from './field-cipher.js';
export { maskDocument, maskValue, type MaskKey } from './mask.js';
export {
  fieldsForCollection,
  parseSensitiveFields,
  validateFieldPath,
  type FieldPathOptions,
  type SensitiveFields,
} from './paths.js';
export { createSha256, sha256Hex, type HashInput, type Sha256 } from './hash.js';
