/**
 * What a commit leaves beside the repository for the next one (both uncommitted, both only
 * shortcuts): the server hashes of the collections it read (hash-cache.ts) and the cluster time
 * it read at (read-point.ts).
 */
import type { CollectionResult } from './commit-read.js';
import { partsFingerprint, readServerHashCache, writeServerHashCache } from './hash-cache.js';
import { writeReadPoint } from './read-point.js';

/** Records the server hash of each collection that has one, under the encoding settings `configKey`. */
export async function recordServerHashes(dir: string, results: Map<string, CollectionResult>, configKey: string): Promise<void> {
  const hashed = [...results].filter(([, r]) => r.serverHash);
  if (!hashed.length) return;
  const cache = await readServerHashCache(dir);
  for (const [name, r] of hashed) cache[name] = { serverHash: r.serverHash!, config: configKey, parts: partsFingerprint(r.partsTree) };
  await writeServerHashCache(dir, cache);
}

/**
 * Where the next change stream starts: this read's cluster time, for the collections whose data
 * is as of that time (not those kept from HEAD).
 */
export async function recordReadPoint(
  dir: string,
  read: { source: string; clusterTime: string; configKey: string; results: Map<string, CollectionResult> },
): Promise<void> {
  const point: Record<string, string> = {};
  for (const [name, r] of read.results) if (r.record.type === 'collection') point[name] = partsFingerprint(r.partsTree);
  await writeReadPoint(dir, { source: read.source, clusterTime: read.clusterTime, config: read.configKey, collections: point });
}
