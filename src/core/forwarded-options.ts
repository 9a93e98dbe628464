/** The commit options that operations committing on a user's behalf (watch, snapshotAround) pass through unchanged. */
import type { CommitOptions } from './commit.js';

export type ForwardedCommitOptions = Pick<CommitOptions, 'repo' | 'uri' | 'db' | 'key' | 'useServerHashes' | 'useChangeStreams' | 'author'>;

/** Where and how to commit, taken from the caller's own options (which share these names). */
export function forwardedCommitOptions(opts: ForwardedCommitOptions): ForwardedCommitOptions {
  return {
    repo: opts.repo,
    uri: opts.uri,
    db: opts.db,
    key: opts.key,
    useServerHashes: opts.useServerHashes,
    useChangeStreams: opts.useChangeStreams,
    author: opts.author,
  };
}
