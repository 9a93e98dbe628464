/** The `addRemote` operation: a named remote URL in the repository's git config (`git remote add`). */
import { remoteKind, SnapshotRepository } from '../store/index.js';
import { remoteUrlForConfig, type RemoteInfo } from './remote-config.js';

export interface AddRemoteOptions {
  repo: string;
  name: string;
  /** `https://host/org/data.git`, `git@host:org/data.git`, `ssh://...`, `file:///path` or a local path. */
  url: string;
}

/**
 * Adds a remote as a standard `[remote "NAME"]` section of the repository's git config, so
 * native git sees it too.
 *
 * @example
 * await addRemote({ repo: 'backup-repo', name: 'nas', url: '/mnt/nas/shop-data.git' });
 */
export async function addRemote(opts: AddRemoteOptions): Promise<RemoteInfo> {
  const url = remoteUrlForConfig(opts.url);
  const repo = await SnapshotRepository.open(opts.repo);
  const added = await repo.config.addRemote(opts.name, url);
  return { name: added.name, url: added.url, kind: remoteKind(added.url) };
}
