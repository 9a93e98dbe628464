/**
 * A local, uncommitted record of the server's collection hashes (dbHash) at the last commit, kept
 * inside the repository's git directory. It only lets a commit or a live diff skip reading a
 * collection whose hash is unchanged; deleting it costs one full read, never correctness.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RepositoryConfig } from '../canonical/format.js';
import { keyedDigest, type DbsnapKey } from '../crypto/index.js';
import { ensureDir, writeFileAtomic } from '../store/index.js';

export type ServerHashCache = Record<string, { serverHash: string; config: string; parts: string }>;

const FILE = join('dbsnap', 'server-hashes.json');

export async function readServerHashCache(repoDir: string): Promise<ServerHashCache> {
  try {
    return JSON.parse(await readFile(join(repoDir, FILE), 'utf8')) as ServerHashCache;
  } catch {
    return {};
  }
}

export async function writeServerHashCache(repoDir: string, cache: ServerHashCache): Promise<void> {
  await ensureDir(join(repoDir, 'dbsnap'));
  await writeFileAtomic(join(repoDir, FILE), JSON.stringify(cache));
}

/**
 * The server hashes as the cache records them: a collection with sensitive fields gets an HMAC of
 * its hash under the key, never the server's MD5 itself, which is a hash of the plaintext and so
 * would let anyone holding the repository confirm a guess of the data.
 */
export function recordableHashes(
  hashes: Record<string, string> | null,
  key: DbsnapKey | undefined,
  sensitive: (collection: string) => boolean,
): Record<string, string> | null {
  if (!hashes) return null;
  const out: Record<string, string> = {};
  for (const [name, hash] of Object.entries(hashes)) {
    if (!sensitive(name)) out[name] = hash;
    // Without the key there is nothing safe to record or compare: the collection is read.
    else if (key) out[name] = `hmac-sha256:${keyedDigest(key, hash)}`;
  }
  return out;
}

/** The settings that change how documents are encoded: a cached hash is valid only under the same ones. */
export function configDigest(config: RepositoryConfig): string {
  return JSON.stringify([config.formatVersion, config.sortKeys, config.partBits, config.maxPartBytes, config.sensitive, config.keyId ?? null]);
}

/**
 * What the hash cache and the read point remember of a collection's part files: the id of its
 * parts/ tree (equal ids, equal files), `none` for a collection without parts. 40 bytes however
 * many parts it has.
 */
export function partsFingerprint(partsTree: string | null): string {
  return partsTree ?? 'none';
}

/**
 * True when the server's current hash of a collection equals the one recorded when the snapshot's
 * parts (given by partsFingerprint) were written, under the same encoding settings.
 */
export function serverHashMatches(
  cache: ServerHashCache,
  collection: string,
  serverHash: string | undefined,
  configKey: string,
  parts: string,
): boolean {
  const cached = cache[collection];
  return Boolean(serverHash && cached && cached.serverHash === serverHash && cached.config === configKey && cached.parts === parts);
}
