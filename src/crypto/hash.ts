/**
 * SHA-256 helpers. dbsnap hashes manifests and snapshot parts through this module only, so the
 * hash algorithm and its encoding (lowercase hex) are decided in one place.
 */
import { createHash, type Hash } from 'node:crypto';

/** Input accepted by the hash helpers: strings are hashed as UTF-8. */
export type HashInput = string | Uint8Array;

/**
 * SHA-256 of `data` as 64 lowercase hex characters.
 *
 * @example
 * sha256Hex('abc') // 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
 */
export function sha256Hex(data: HashInput): string {
  return createHash('sha256').update(data).digest('hex');
}

/** An incremental SHA-256: feed chunks with `update`, read the result once with `digestHex`. */
export interface Sha256 {
  update(data: HashInput): Sha256;
  /** Finishes the hash; the object cannot be updated afterwards. */
  digestHex(): string;
}

/**
 * Starts an incremental SHA-256, for data too large or too streamed to hash in one call.
 *
 * @example
 * const h = createSha256();
 * for (const line of lines) h.update(line);
 * const manifestHash = h.digestHex();
 */
export function createSha256(): Sha256 {
  const hash: Hash = createHash('sha256');
  const wrapper: Sha256 = {
    update(data) {
      hash.update(data);
      return wrapper;
    },
    digestHex() {
      return hash.digest('hex');
    },
  };
  return wrapper;
}
