/** The `gc` operation: packs the repository's loose objects into one packfile (src/store does the work). */
import { acquireLock, SnapshotRepository, type RepackResult } from '../store/index.js';
import type { ProgressCallback } from './progress.js';

export interface GcOptions {
  repo: string;
  onProgress?: ProgressCallback;
}

export interface GcResult extends RepackResult {
  durationMs: number;
}

/**
 * Packs the repository: every loose object and every earlier pack go into one git packfile in
 * which each changed part and tree is a delta against the same path's previous version. The pack
 * is read back and every object re-hashed before the loose objects and old packs it replaces are
 * deleted, so an interrupted gc leaves the repository as it was (plus at most a `tmp_pack_*`
 * file). Native git reads the result (`git fsck`, `git clone`); so does every dbsnap command.
 * Takes the repository lock; readers (`diff`, `verify`, `restore`, native git) may run meanwhile.
 *
 * @example
 * const r = await gc({ repo: 'backup-repo' });
 * console.log(`${r.looseObjects} objects packed (${r.deltas} as deltas): ${r.bytesBefore} -> ${r.bytesAfter} bytes`);
 */
export async function gc(opts: GcOptions): Promise<GcResult> {
  const started = performance.now();
  const repo = await SnapshotRepository.open(opts.repo);
  const lock = await acquireLock(repo.dir, 'gc');
  try {
    const r = await repo.repack((p) => opts.onProgress?.({ phase: 'pack', collection: p.phase, done: p.done, total: p.total }));
    return { ...r, durationMs: Math.round(performance.now() - started) };
  } finally {
    await repo.close();
    await lock.release();
  }
}
