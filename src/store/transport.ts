/**
 * Remotes: where a snapshot repository is copied to and fetched from. One transport per kind
 * of URL: smart HTTP(S) (GitHub, GitLab, Gitea...), a local path or `file://` URL (a second
 * disk, a NAS mount), SSH through the native git binary.
 */
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '../errors/index.js';
import type { SnapshotRepository } from './repository.js';

/** One ref to change on the remote: `old` is what the remote had (null = no such ref). */
export interface RefUpdate {
  ref: string;
  old: string | null;
  new: string;
}

/** One ref changed by a fetch: `old` null for a new ref. */
export interface FetchedRef {
  ref: string;
  old: string | null;
  new: string;
}

export interface TransferStats {
  /** Objects sent or received; undefined where the native git binary did the transfer. */
  objects?: number;
  /** Bytes sent or received (pack bytes over the network, object bytes for a local path). */
  bytes?: number;
}

export interface TransportProgress {
  phase: 'count' | 'send' | 'receive';
  done: number;
  total?: number;
}

export interface Credentials {
  /** A token for HTTPS (sent as the basic-auth password). */
  token?: string;
  /** Ask the user's configured git credential helper when the server wants credentials and there is no token (needs native git). */
  credentialHelper?: boolean;
}

export interface Transport {
  /** The URL with any credentials removed, for messages. */
  readonly display: string;
  /** The remote's refs (ref -> oid; annotated tags not peeled) and its default branch if it says. */
  listRefs(forPush: boolean): Promise<{ refs: Map<string, string>; head: string | null }>;
  /**
   * Sends what `updates` need and applies them, each as a compare-and-swap on `old`.
   * `headBranch` becomes HEAD of a repository the push creates.
   */
  push(local: SnapshotRepository, updates: RefUpdate[], opts: { headBranch: string; onProgress?: (p: TransportProgress) => void }): Promise<TransferStats>;
  /**
   * Brings the remote's branches into `refs/remotes/<remoteName>/` and its tags that `local`
   * does not have into `refs/tags/`, objects first; returns the refs it changed.
   */
  fetch(local: SnapshotRepository, remoteName: string, opts: { onProgress?: (p: TransportProgress) => void }): Promise<TransferStats & { refs: FetchedRef[]; head: string | null }>;
}

export type RemoteKind = 'http' | 'file' | 'ssh';

/**
 * What kind of remote a URL names. `host:path` (scp-like, as `git@github.com:org/data.git`)
 * is SSH, as in git; a path containing a slash before the first colon is a local path.
 */
export function remoteKind(url: string): RemoteKind {
  if (/^https?:\/\//i.test(url)) return 'http';
  if (/^file:\/\//i.test(url)) return 'file';
  if (/^(ssh|git\+ssh|ssh\+git):\/\//i.test(url)) return 'ssh';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url)) {
    throw new InvalidArgumentError(`unsupported remote URL "${redactUrl(url)}": use https://, ssh:// (or user@host:path), file:// or a local path.`, { url: redactUrl(url) });
  }
  const colon = url.indexOf(':');
  if (colon > 1 && !url.slice(0, colon).includes('/')) return 'ssh';
  return 'file';
}

/** The local directory a file remote names (`file://` URL or a path, resolved against the working directory). */
export function localRemotePath(url: string): string {
  return /^file:\/\//i.test(url) ? fileURLToPath(url) : path.resolve(url);
}

/** The URL without a password (user names stay: they say which account is used). */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)([^/@]*)@/i, (_m, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon < 0 ? `${scheme}${userinfo}@` : `${scheme}${userinfo.slice(0, colon)}:***@`;
  });
}

/** True if the URL carries a password or token (`https://user:secret@host/...`). */
export function urlHasPassword(url: string): boolean {
  return redactUrl(url) !== url;
}
