/** The `fetch` operation: copies a remote's snapshots into the repository under its remote-tracking refs. */
import { InvalidArgumentError, RemoteNotFoundError } from '../errors/index.js';
import { acquireLock, openTransport, redactUrl, SnapshotRepository, type FetchedRef, type RemoteConfig } from '../store/index.js';
import type { ProgressCallback } from './progress.js';
import { noSuchRemote } from './remote-config.js';

export interface FetchOptions {
  repo: string;
  /** The remote to fetch from. Default: the only remote, else `origin`. */
  remote?: string;
  /** Token for HTTPS remotes (the CLI passes DBSNAP_GIT_TOKEN / GIT_TOKEN); never stored. */
  token?: string;
  /** Ask the git credential helper when an HTTPS server wants credentials and there is no token (default true). */
  credentialHelper?: boolean;
  onProgress?: ProgressCallback;
}

export interface FetchResult {
  remote: string;
  /** The remote's URL without credentials. */
  url: string;
  /** Refs that changed: `refs/remotes/NAME/...` for branches, `refs/tags/...` for new tags. */
  refs: FetchedRef[];
  /** Objects received (undefined where native git or isomorphic-git did the transfer). */
  objects?: number;
  bytes?: number;
  /** The remote's default branch (`refs/heads/main`), when it says. */
  head: string | null;
}

/**
 * Brings a remote's branches into `refs/remotes/NAME/...` and its new tags into `refs/tags/`,
 * objects first, under the repository lock. Local branches are not touched (see pull).
 *
 * @throws RemoteNotFoundError (ENOREMOTE), RemoteUnreachableError (EREMOTE), AuthenticationError (EAUTH).
 * @example
 * const r = await fetchRemote({ repo: 'backup-repo', remote: 'origin' });
 * console.log(r.refs.map((x) => x.ref));
 */
export async function fetchRemote(opts: FetchOptions): Promise<FetchResult> {
  const repo = await SnapshotRepository.open(opts.repo);
  const lock = await acquireLock(repo.dir, 'fetch');
  try {
    return await fetchLocked(repo, opts);
  } finally {
    await lock.release();
  }
}

/** fetchRemote's work, for callers already holding the repository lock (pull, clone). */
export async function fetchLocked(repo: SnapshotRepository, opts: Omit<FetchOptions, 'repo'> & { url?: string }): Promise<FetchResult> {
  const target = chooseRemote(await repo.config.remotes(), opts.remote);
  // `url` (clone only): the URL as typed, which may carry credentials the config must not keep.
  const transport = openTransport(opts.url ?? target.url, { token: opts.token, credentialHelper: opts.credentialHelper }, repo.dir);
  const r = await transport.fetch(repo, target.name, {
    onProgress: (p) => opts.onProgress?.({ phase: p.phase, remote: target.name, done: p.done, total: p.total }),
  });
  return { remote: target.name, url: redactUrl(target.url), refs: r.refs, objects: r.objects, bytes: r.bytes, head: r.head };
}

function chooseRemote(configured: RemoteConfig[], name: string | undefined): RemoteConfig {
  if (name !== undefined) {
    const r = configured.find((c) => c.name === name);
    if (!r) throw noSuchRemote(name, configured);
    return r;
  }
  if (configured.length === 0) throw new RemoteNotFoundError('this repository has no remotes; add one with dbsnap remote add NAME URL.', {});
  if (configured.length === 1) return configured[0]!;
  const origin = configured.find((c) => c.name === 'origin');
  if (origin) return origin;
  throw new InvalidArgumentError(`this repository has ${configured.length} remotes (${configured.map((c) => c.name).join(', ')}): name the one to fetch from.`, {});
}
