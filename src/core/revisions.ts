/**
 * Revision ranges as git takes them (gitrevisions(7)): `A..B` (reachable from B, not from A) and
 * `A...B` (for log: reachable from either but not both; for diff: from the merge base of A and B
 * to B). Graph walks over the store's commit objects; no git binary.
 */
import { RefNotFoundError } from '../errors/index.js';
import type { CommitInfo, SnapshotRepository } from '../store/index.js';

/** A parsed `A..B` / `A...B`; an empty side means HEAD. */
export interface RevisionRange {
  from: string;
  to: string;
  symmetric: boolean;
}

/** `A..B` or `A...B` as a range, or null for a single revision. */
export function parseRange(spec: string): RevisionRange | null {
  const m = /^(.*?)(\.\.\.?)(.*)$/.exec(spec);
  if (!m) return null;
  return { from: m[1] || 'HEAD', to: m[3] || 'HEAD', symmetric: m[2] === '...' };
}

/** Every commit reachable from `starts` (all parents), as id -> commit. */
export async function ancestors(repo: SnapshotRepository, starts: string[]): Promise<Map<string, CommitInfo>> {
  const seen = new Map<string, CommitInfo>();
  const queue = [...starts];
  while (queue.length) {
    const oid = queue.pop()!;
    if (seen.has(oid)) continue;
    const c = await repo.readCommit(oid);
    seen.set(oid, c);
    queue.push(...c.parents);
  }
  return seen;
}

/**
 * The best common ancestor of two commits (git merge-base for two heads): a common ancestor that
 * no other common ancestor descends from; the newest by date when several qualify.
 *
 * @throws RefNotFoundError (`EREFNOTFOUND`) when the histories share no commit.
 */
export async function mergeBase(repo: SnapshotRepository, a: string, b: string): Promise<string> {
  const [fromA, fromB] = await Promise.all([ancestors(repo, [a]), ancestors(repo, [b])]);
  const common = [...fromA.keys()].filter((oid) => fromB.has(oid));
  if (common.length === 0) {
    throw new RefNotFoundError(`${a.slice(0, 7)} and ${b.slice(0, 7)} have no common history, so A...B has no merge base; use A..B.`, { from: a, to: b });
  }
  // Drop every common ancestor that is a (strict) ancestor of another one: one walk from all
  // their parents finds them all.
  const redundant = await ancestors(repo, common.flatMap((oid) => fromA.get(oid)!.parents));
  const best = common.filter((oid) => !redundant.has(oid));
  best.sort((x, y) => fromA.get(y)!.author.timestamp - fromA.get(x)!.author.timestamp);
  return best[0]!;
}
