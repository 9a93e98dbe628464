/**
 * Content hashes. dbsnap hashes manifests and snapshot parts (SHA-256) and BSON streams (MD5, the
 * algorithm of the server's dbHash) and names parts, cache entries and over-long dump file names
 * (SHA-1) through this module only, so algorithms and encodings are decided in one place. Git
 * object ids belong to src/store.
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

/** An incremental hash (SHA-256, or MD5 from createMd5): feed chunks with `update`, read the result once with `digestHex`. */
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
  return incremental('sha256');
}

/**
 * Starts an incremental MD5 of a stream of BSON documents: the hash MongoDB's `dbHash` reports
 * for a collection, so a loaded collection can be compared with the bytes that were sent.
 */
export function createMd5(): Sha256 {
  return incremental('md5');
}

/** Starts an incremental SHA-1: for names and fingerprints (part file names, the hash cache), never for integrity. */
export function createSha1(): Sha256 {
  return incremental('sha1');
}

/**
 * SHA-1 of `data` as unpadded base64url: the suffix mongodump gives a collection name too long for
 * a file name (`%24` + this), so dbsnap export writes the file mongorestore looks for.
 *
 * @example
 * sha1Base64Url('abc') // 'qZk-NkcGgWq6PiVxeFDCbJzQ2J0'
 */
export function sha1Base64Url(data: HashInput): string {
  return createHash('sha1').update(data).digest('base64url');
}

function incremental(algorithm: 'sha256' | 'md5' | 'sha1'): Sha256 {
  const hash: Hash = createHash(algorithm);
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
