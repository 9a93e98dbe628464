/** The `listRemotes` operation: the remotes of the repository's git config, passwords never shown. */
import { redactUrl, remoteKind, SnapshotRepository, type RemoteKind } from '../store/index.js';
import type { RemoteInfo } from './remote-config.js';

/**
 * The configured remotes, in config order.
 *
 * @example
 * for (const r of await listRemotes({ repo: 'backup-repo' })) console.log(r.name, r.url);
 */
export async function listRemotes(opts: { repo: string }): Promise<RemoteInfo[]> {
  const repo = await SnapshotRepository.open(opts.repo);
  return (await repo.config.remotes()).map((r) => ({ name: r.name, url: redactUrl(r.url), kind: safeKind(r.url) }));
}

function safeKind(url: string): RemoteKind {
  try {
    return remoteKind(url);
  } catch {
    return 'http';
  }
}
