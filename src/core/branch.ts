/**
 * Branches of the snapshot repository, as `git branch` and `git switch` handle them. In a
 * non-bare repository (a clone) switching also moves the index and the checked-out files, and
 * refuses while they hold uncommitted changes (see store/work-tree.ts).
 */
import { SnapshotRepository } from '../store/index.js';

export interface BranchInfo {
  name: string;
  commit: string;
  /** The branch HEAD names. */
  current: boolean;
}

/**
 * Every local branch, sorted by name.
 *
 * @example
 * const current = (await listBranches({ repo: 'backup-repo' })).find((b) => b.current)?.name;
 */
export async function listBranches(opts: { repo: string }): Promise<BranchInfo[]> {
  const repo = await SnapshotRepository.open(opts.repo);
  return (await repo.listBranches()).map((b) => ({ name: b.name, commit: b.oid, current: b.current }));
}

/**
 * Creates a branch at `startPoint` (any commit, tag, branch or `origin/main`; default HEAD)
 * without switching to it.
 *
 * @example
 * await createBranch({ repo: 'backup-repo', name: 'data/price-fix' });
 */
export async function createBranch(opts: { repo: string; name: string; startPoint?: string }): Promise<{ name: string; commit: string }> {
  const repo = await SnapshotRepository.open(opts.repo);
  return { name: opts.name, commit: await repo.createBranch(opts.name, opts.startPoint) };
}

/**
 * Deletes a branch. The checked-out branch is refused, and so (unless `force`) is one holding
 * snapshots that HEAD does not contain.
 */
export async function deleteBranch(opts: { repo: string; name: string; force?: boolean }): Promise<{ name: string; commit: string }> {
  const repo = await SnapshotRepository.open(opts.repo);
  return { name: opts.name, commit: await repo.deleteBranch(opts.name, { force: opts.force }) };
}

/**
 * Checks out a branch (`create`: a new one at `startPoint`, default HEAD). A name that exists
 * only as one remote's branch (`origin/NAME` after a fetch) is created from it.
 *
 * @example
 * await switchBranch({ repo: '.', name: 'data/price-fix', create: true });
 */
export async function switchBranch(opts: {
  repo: string;
  name: string;
  create?: boolean;
  startPoint?: string;
}): Promise<{ branch: string; commit: string | null; created: boolean }> {
  const repo = await SnapshotRepository.open(opts.repo);
  return repo.switchBranch(opts.name, { create: opts.create, startPoint: opts.startPoint });
}
