/** The `listBranches` operation: the local branches of the snapshot repository, as `git branch` lists them. */
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
