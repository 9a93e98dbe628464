/** The `removeRemote` operation: `git remote remove`, with the remote-tracking refs. */
import { redactUrl, remoteKind, SnapshotRepository } from '../store/index.js';
import { noSuchRemote, type RemoteInfo } from './remote-config.js';

/**
 * Removes a remote and its remote-tracking refs (`refs/remotes/NAME/...`); the remote itself is not touched.
 *
 * @example
 * await removeRemote({ repo: 'backup-repo', name: 'nas' });
 */
export async function removeRemote(opts: { repo: string; name: string }): Promise<RemoteInfo> {
  const repo = await SnapshotRepository.open(opts.repo);
  const existing = (await repo.config.remotes()).find((r) => r.name === opts.name);
  if (!existing || !(await repo.config.removeRemote(opts.name))) throw noSuchRemote(opts.name, await repo.config.remotes());
  for (const { ref } of await repo.listRefs(`refs/remotes/${opts.name}/`)) await repo.deleteRef(ref);
  return { name: existing.name, url: redactUrl(existing.url), kind: remoteKind(existing.url) };
}
