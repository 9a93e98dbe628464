/**
 * What the remote operations (add-remote, remove-remote, list-remotes, push, fetch, clone) share:
 * a remote as they report it, the URL as it goes into the git config, and the not-found error.
 */
import { InvalidArgumentError, RemoteNotFoundError } from '../errors/index.js';
import { localRemotePath, redactUrl, remoteKind, urlHasPassword, type RemoteConfig, type RemoteKind } from '../store/index.js';

export interface RemoteInfo {
  name: string;
  /** As stored in the git config (never with a password). */
  url: string;
  kind: RemoteKind;
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

/** The error for a remote name the config does not have, naming the ones it has. */
export function noSuchRemote(name: string, remotes: RemoteConfig[]): RemoteNotFoundError {
  const known = remotes.length ? `configured: ${remotes.map((r) => r.name).join(', ')}` : 'none is configured; add one with dbsnap remote add NAME URL';
  return new RemoteNotFoundError(`no remote named "${name}" (${known}).`, { remote: name });
}
