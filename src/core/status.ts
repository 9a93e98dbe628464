/** The `status` operation: the live database against HEAD, as per-collection counts of changes. */
import type { CollectionStatus, SnapshotDiff } from '../diff/index.js';
import type { KeyMaterial } from '../crypto/index.js';
import { diff } from './diff.js';
import type { ProgressCallback } from './progress.js';
import type { ChangeDetection } from './unchanged-collections.js';

export interface StatusOptions {
  repo: string;
  uri: string;
  db?: string;
  key?: KeyMaterial;
  /** dbHash allowed (see CommitOptions.useServerHashes). */
  useServerHashes?: boolean;
  /** Ask a change stream what changed since the last commit's read. Default true. */
  useChangeStreams?: boolean;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

export interface StatusResult {
  /** True when the live database equals HEAD (data, indexes and options). */
  clean: boolean;
  against: string;
  collections: { name: string; status: CollectionStatus; added: number; removed: number; changed: number; indexes: number; options: number }[];
  /** How unchanged collections were recognised without reading them. */
  detection: ChangeDetection;
  diff: SnapshotDiff;
}

/**
 * What changed in the live database since HEAD, as counts per collection.
 *
 * @example
 * const s = await status({ repo: 'backup-repo', uri: process.env.MONGODB_URI! });
 * if (!s.clean) console.log('uncommitted changes');
 */
export async function status(opts: StatusOptions): Promise<StatusResult> {
  const d = await diff({ ...opts, limit: 0 });
  const collections = d.collections.map((c) => ({
    name: c.name,
    status: c.status,
    ...c.counts,
    indexes: c.indexes.added.length + c.indexes.removed.length + c.indexes.changed.length,
    options: c.options.length,
  }));
  return { clean: collections.every((c) => c.status === 'unchanged'), against: d.from, collections, detection: d.detection!, diff: d };
}
