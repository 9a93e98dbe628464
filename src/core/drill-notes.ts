/**
 * Restore-drill results, kept as git notes on the drilled commit under `refs/notes/dbsnap-drills`
 * so that native git shows them (`git log --notes=dbsnap-drills`, `git notes --ref=dbsnap-drills
 * show <commit>`) and they travel with `git push origin refs/notes/*`. Each note holds one JSON
 * line per drill of that commit, oldest first. See docs/FORMAT.md.
 */
import { SnapshotRepository } from '../store/index.js';
import { defaultIdentity, gitTime } from './identity.js';
import type { Identity } from './progress.js';

export const DRILL_NOTES_REF = 'refs/notes/dbsnap-drills';

/** One drill, as recorded. */
export interface DrillRecord {
  /** When it started (ISO 8601, UTC). */
  time: string;
  /** The drilled snapshot. */
  commit: string;
  /** The ref as given (`HEAD`, `v1`). */
  ref: string;
  ok: boolean;
  collections: number;
  documents: number;
  durationMs: number;
  /** Where it was restored (credentials removed), e.g. `mongodb://host/shop_dbsnap_drill_...`. */
  target: string;
  /** Why it failed (ok: false). */
  error?: string;
}

/** Every recorded drill, newest first. */
export async function readDrills(repo: SnapshotRepository): Promise<DrillRecord[]> {
  const head = (await repo.listRefs(DRILL_NOTES_REF)).find((r) => r.ref === DRILL_NOTES_REF);
  if (!head) return [];
  const out: DrillRecord[] = [];
  for (const [, oid] of await repo.listFiles(head.oid)) {
    for (const line of (await repo.readBlob(oid)).toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      try {
        out.push(JSON.parse(line) as DrillRecord);
      } catch {
        // A note edited by hand into something else is not a drill record; skip it.
      }
    }
  }
  return out.sort((a, b) => b.time.localeCompare(a.time));
}

/**
 * Rewrites the notes so that they hold exactly `records` (grouped by commit), as one new notes
 * commit; the notes ref moves by compare-and-swap, so a concurrent writer fails instead of
 * being overwritten.
 */
export async function writeDrills(repo: SnapshotRepository, records: DrillRecord[], message: string, author?: Identity, now = new Date()): Promise<void> {
  const head = (await repo.listRefs(DRILL_NOTES_REF)).find((r) => r.ref === DRILL_NOTES_REF)?.oid ?? null;
  const byCommit = new Map<string, DrillRecord[]>();
  for (const r of [...records].sort((a, b) => a.time.localeCompare(b.time))) {
    const list = byCommit.get(r.commit) ?? [];
    list.push(r);
    byCommit.set(r.commit, list);
  }
  const entries = [];
  for (const [commit, list] of byCommit) {
    entries.push({ path: commit, oid: await repo.writeBlob(list.map((r) => JSON.stringify(r)).join('\n') + '\n') });
  }
  const tree = await repo.writeTree(entries);
  const who = author ?? defaultIdentity();
  const oid = await repo.writeCommit({ tree, parents: head ? [head] : [], message: `${message}\n`, author: { ...who, ...gitTime(now) } });
  await repo.updateRef(DRILL_NOTES_REF, oid, head);
}

/** Adds one drill record to the notes. */
export async function recordDrill(repo: SnapshotRepository, record: DrillRecord, author?: Identity, now?: Date): Promise<void> {
  const all = await readDrills(repo);
  await writeDrills(repo, [...all, record], `dbsnap drill ${record.commit.slice(0, 7)}: ${record.ok ? 'ok' : 'failed'}`, author, now);
}
