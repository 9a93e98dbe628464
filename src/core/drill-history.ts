/** The `drillHistory` operation: the restore drills recorded as git notes (drill-notes.ts). */
import { SnapshotRepository } from '../store/index.js';
import { readDrills, type DrillRecord } from './drill-notes.js';

/**
 * Recorded drills, newest first (optionally of one snapshot).
 *
 * @example
 * const [last] = await drillHistory({ repo: 'backup-repo' });
 * console.log(last ? `${last.time} ${last.ok ? 'ok' : 'FAILED'}` : 'never drilled');
 */
export async function drillHistory(opts: { repo: string; ref?: string }): Promise<DrillRecord[]> {
  const repo = await SnapshotRepository.open(opts.repo);
  const all = await readDrills(repo);
  if (!opts.ref) return all;
  const commit = await repo.resolveCommit(opts.ref);
  return all.filter((d) => d.commit === commit);
}
