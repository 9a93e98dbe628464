/** What `watch` does after each tick (internal; the CLI's watch passes it as a callback): prune, and drill when due. */
import type { KeyMaterial } from '../crypto/index.js';
import { SnapshotRepository } from '../store/index.js';
import { readDrills } from './drill-notes.js';
import { drill, type DrillResult } from './drill.js';
import { prune } from './prune.js';
import type { Identity } from './progress.js';

export interface HousekeepingOptions {
  repo: string;
  uri: string;
  db?: string;
  key?: KeyMaterial;
  now?: Date;
  safetyOlderThanMs?: number;
  drillsOlderThanMs?: number;
  /** Drill HEAD when the newest drill of any snapshot is older than this. */
  drillEveryMs?: number;
  author?: Identity;
}

/**
 * What `watch` does after each tick: pruning, and a drill of HEAD when one is due. Returns one
 * short note per job that did something (for the tick line).
 */
export async function housekeeping(opts: HousekeepingOptions): Promise<string[]> {
  const notes: string[] = [];
  const now = opts.now ?? new Date();
  if (opts.safetyOlderThanMs !== undefined || opts.drillsOlderThanMs !== undefined) {
    const r = await prune({ repo: opts.repo, safetyOlderThanMs: opts.safetyOlderThanMs, drillsOlderThanMs: opts.drillsOlderThanMs, now, author: opts.author });
    if (r.safety.length) notes.push(`pruned ${r.safety.length} safety snapshot${r.safety.length === 1 ? '' : 's'}`);
    if (r.drills.length) notes.push(`forgot ${r.drills.length} old drill record${r.drills.length === 1 ? '' : 's'}`);
  }
  if (opts.drillEveryMs !== undefined) {
    const repo = await SnapshotRepository.open(opts.repo);
    const last = (await readDrills(repo))[0];
    if ((await repo.head()).oid && (!last || now.getTime() - Date.parse(last.time) >= opts.drillEveryMs)) {
      const d: DrillResult = await drill({ repo: opts.repo, uri: opts.uri, db: opts.db, key: opts.key, now, author: opts.author });
      notes.push(d.ok ? `drill ok: ${d.documents} documents restored and verified` : `DRILL FAILED: ${d.error}`);
    }
  }
  return notes;
}
