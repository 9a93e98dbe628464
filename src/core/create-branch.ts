/** The `createBranch` operation: a new branch at any commit, without switching to it (`git branch NAME START`). */
import { SnapshotRepository } from '../store/index.js';

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
