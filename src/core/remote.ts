/** The remote operations (add, remove, list): named remote URLs in the repository's git config. */
import { InvalidArgumentError, RemoteNotFoundError } from '../errors/index.js';
import { localRemotePath, redactUrl, remoteKind, SnapshotRepository, urlHasPassword, type RemoteConfig, type RemoteKind } from '../store/index.js';

export interface RemoteInfo {
  name: string;
  /** As stored in the git config (never with a password). */
  url: string;
  kind: RemoteKind;
}

export interface AddRemoteOptions {
  repo: string;
  name: string;
  /** `https://host/org/data.git`, `git@host:org/data.git`, `ssh://...`, `file:///path` or a local path. */
  url: string;
}

/**
 * The URL as it goes into the git config: a local path made absolute (it must not depend on
 * the directory dbsnap runs in), and never a password or token.
 * @throws InvalidArgumentError for a URL carrying a password, or an unsupported scheme.
 */
export function remoteUrlForConfig(url: string): string {
  const kind = remoteKind(url);
  if (urlHasPassword(url)) {
    throw new InvalidArgumentError(
      `the URL ${redactUrl(url)} contains a password or token, and dbsnap never stores credentials in the repository: give the URL without it and put the token in DBSNAP_GIT_TOKEN (or use a git credential helper).`,
      { url: redactUrl(url) },
    );
  }
  return kind === 'file' && !/^file:\/\//i.test(url) ? localRemotePath(url) : url;
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

export function noSuchRemote(name: string, remotes: RemoteConfig[]): RemoteNotFoundError {
  const known = remotes.length ? `configured: ${remotes.map((r) => r.name).join(', ')}` : 'none is configured; add one with dbsnap remote add NAME URL';
  return new RemoteNotFoundError(`no remote named "${name}" (${known}).`, { remote: name });
}
