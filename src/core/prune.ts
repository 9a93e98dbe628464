/**
 * `dbsnap prune`: retention for what dbsnap keeps beside the history: safety snapshots
 * (`refs/dbsnap/safety/*`, taken before each restore) and restore-drill records. It never
 * deletes a branch or a tag: it only ever touches those two namespaces. Objects no longer
 * reachable stay on disk until a gc.
 */
import { InvalidArgumentError } from '../errors/index.js';
import { SnapshotRepository } from '../store/index.js';
import { readDrills, writeDrills } from './drill-notes.js';
import type { Identity } from './progress.js';

export const SAFETY_PREFIX = 'refs/dbsnap/safety/';

export interface PruneOptions {
  repo: string;
  /** Delete safety snapshots whose commit is older than this (ms). */
  safetyOlderThanMs?: number;
  /** Forget drill records older than this (ms); the newest record of each snapshot is kept. */
  drillsOlderThanMs?: number;
  /** Report what would go, change nothing. */
  dryRun?: boolean;
  author?: Identity;
  now?: Date;
}

export interface PruneResult {
  dryRun: boolean;
  safety: { ref: string; commit: string; date: string }[];
  drills: { commit: string; time: string }[];
}

/**
 * @example
 * const r = await prune({ repo: 'backup-repo', safetyOlderThanMs: 30 * 86_400_000 });
 * console.log(`deleted ${r.safety.length} safety snapshots`);
 */
export async function prune(opts: PruneOptions): Promise<PruneResult> {
  if (opts.safetyOlderThanMs === undefined && opts.drillsOlderThanMs === undefined) {
    throw new InvalidArgumentError('say what to prune: --safety-older-than DURATION and/or --drills-older-than DURATION (e.g. 30d).');
  }
  const repo = await SnapshotRepository.open(opts.repo);
  const now = (opts.now ?? new Date()).getTime();
  const result: PruneResult = { dryRun: Boolean(opts.dryRun), safety: [], drills: [] };
  if (opts.safetyOlderThanMs !== undefined) {
    const cutoff = now - opts.safetyOlderThanMs;
    for (const { ref, oid } of await repo.listRefs(SAFETY_PREFIX)) {
      if (!ref.startsWith(SAFETY_PREFIX)) continue;
      const c = await repo.readCommit(oid);
      const when = c.author.timestamp * 1000;
      if (when >= cutoff) continue;
      if (!opts.dryRun) await repo.deleteRef(ref);
      result.safety.push({ ref, commit: oid, date: new Date(when).toISOString() });
    }
  }
  if (opts.drillsOlderThanMs !== undefined) {
    const cutoff = now - opts.drillsOlderThanMs;
    const all = await readDrills(repo);
    // Newest first: the first record seen for a commit is its latest, which stays so `log` still marks it.
    const latest = new Set<string>();
    const keep = [];
    for (const d of all) {
      const isLatest = !latest.has(d.commit);
      latest.add(d.commit);
      if (isLatest || Date.parse(d.time) >= cutoff) keep.push(d);
      else result.drills.push({ commit: d.commit, time: d.time });
    }
    if (result.drills.length && !opts.dryRun) {
      await writeDrills(repo, keep, `dbsnap prune: forgot ${result.drills.length} drill record${result.drills.length === 1 ? '' : 's'}`, opts.author, opts.now);
    }
  }
  return result;
}
