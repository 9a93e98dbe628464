/**
 * Committing a tree onto a ref: the one place that writes a commit object and moves a ref, so
 * every operation that makes a commit (commit, config, rekey) moves refs the same way.
 */
import { acquireLock, SnapshotRepository, type TreeEntryInput } from '../store/index.js';
import type { RepositoryConfig } from '../canonical/format.js';
import { defaultIdentity, gitTime } from './identity.js';
import type { Identity } from './progress.js';
import { readHeadConfig } from './snapshot.js';

/** HEAD as an operation that commits onto it sees it, with the repository lock held. */
export interface LockedHead {
  repo: SnapshotRepository;
  /** dbsnap.json at HEAD. */
  config: RepositoryConfig;
  /** HEAD's commit. */
  head: string;
  /** The ref HEAD points at (`refs/heads/main`). */
  ref: string;
}

/**
 * Opens the repository, takes its lock for `purpose`, reads HEAD and its dbsnap.json, runs `fn`
 * and releases the lock, also when `fn` throws.
 */
export async function withLockedHead<T>(repoDir: string, purpose: string, fn: (h: LockedHead) => Promise<T>): Promise<T> {
  const repo = await SnapshotRepository.open(repoDir);
  const lock = await acquireLock(repo.dir, purpose);
  try {
    const { config, head } = await readHeadConfig(repo);
    const ref = (await repo.head()).ref;
    return await fn({ repo, config, head: head!, ref });
  } finally {
    await lock.release();
  }
}

export interface CommitTreeOptions {
  /** The ref to move (a branch, or a safety ref). */
  ref: string;
  /** The new commit's parent (null: a commit without history). */
  parent: string | null;
  /** What `ref` must still hold for the move (compare-and-swap; null: the ref must not exist); default `parent`. */
  expect?: string | null;
  /** The tree: its id, or its entries (written here). */
  tree: string | TreeEntryInput[];
  /** The commit message; a trailing newline is added when missing. */
  message: string;
  author?: Identity;
  now?: Date;
}

/**
 * Writes a commit of `tree` with `parent` and moves `ref` to it, only if `ref` still holds
 * `parent`. Returns the new commit's id.
 */
export async function commitTree(repo: SnapshotRepository, opts: CommitTreeOptions): Promise<string> {
  const tree = typeof opts.tree === 'string' ? opts.tree : await repo.writeTree(opts.tree);
  const who = opts.author ?? defaultIdentity();
  const commit = await repo.writeCommit({
    tree,
    parents: opts.parent ? [opts.parent] : [],
    message: opts.message.endsWith('\n') ? opts.message : `${opts.message}\n`,
    author: { ...who, ...gitTime(opts.now ?? new Date()) },
  });
  await repo.updateRef(opts.ref, commit, opts.expect === undefined ? opts.parent : opts.expect);
  return commit;
}
