/** The `deleteTag` operation: removes a tag; the snapshot it named stays. */
import { acquireLock, SnapshotRepository } from '../store/index.js';

/**
 * Deletes a tag (the snapshot itself stays).
 *
 * @example
 * await deleteTag({ repo: 'backup-repo', name: 'v1' });
 */
export async function deleteTag(opts: { repo: string; name: string }): Promise<{ name: string; commit: string }> {
  const repo = await SnapshotRepository.open(opts.repo);
  const commit = await repo.resolveCommit(`refs/tags/${opts.name}`).catch(() => '');
  const lock = await acquireLock(repo.dir, 'tag');
  try {
    await repo.deleteTag(opts.name);
  } finally {
    await lock.release();
  }
  return { name: opts.name, commit };
}
