/**
 * The `switchBranch` operation, as `git switch` does it. In a non-bare repository (a clone) the
 * index and the checked-out files follow, and it refuses while they hold uncommitted changes
 * (see store/work-tree.ts).
 */
import { SnapshotRepository } from '../store/index.js';

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
