/** The `listTags` operation: every tag of the repository with the commit it names. */
import { SnapshotRepository } from '../store/index.js';

/**
 * Every tag with the commit it names.
 *
 * @example
 * for (const t of await listTags({ repo: 'backup-repo' })) console.log(t.name, t.commit);
 */
export async function listTags(opts: { repo: string }) {
  const repo = await SnapshotRepository.open(opts.repo);
  return repo.listTags();
}

