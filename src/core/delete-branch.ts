/** The `deleteBranch` operation: `git branch -d`, refusing the checked-out branch and (unless forced) unmerged snapshots. */
import { SnapshotRepository } from '../store/index.js';

/**
 * Deletes a branch. The checked-out branch is refused, and so (unless `force`) is one holding
 * snapshots that HEAD does not contain.
 *
 * @example
 * await deleteBranch({ repo: 'backup-repo', name: 'data/price-fix' });
 */
export async function deleteBranch(opts: { repo: string; name: string; force?: boolean }): Promise<{ name: string; commit: string }> {
  const repo = await SnapshotRepository.open(opts.repo);
  return { name: opts.name, commit: await repo.deleteBranch(opts.name, { force: opts.force }) };
}
