/** The `pull` operation: fetch from a remote, then fast-forward the current branch. */
import { InvalidArgumentError, PushRejectedError } from '../errors/index.js';
import { acquireLock, SnapshotRepository } from '../store/index.js';
import { fetchLocked, type FetchOptions, type FetchResult } from './fetch.js';

export type PullOptions = FetchOptions;

export interface PullResult {
  fetch: FetchResult;
  /** The local branch (`refs/heads/main`). */
  branch: string;
  old: string | null;
  new: string | null;
  /** up-to-date: nothing new; fast-forward: the branch moved; ahead: local has commits the remote lacks (nothing to do). */
  status: 'up-to-date' | 'fast-forward' | 'ahead';
}

/**
 * Fetches, then fast-forwards the current branch to the remote's branch of the same name.
 * Never merges: if both sides have new commits it changes no branch and says so.
 *
 * @throws PushRejectedError (EREJECTED) if the branches have diverged.
 * @example
 * const r = await pull({ repo: 'backup-repo' });
 * if (r.status === 'fast-forward') console.log(`now at ${r.new}`);
 */
export async function pull(opts: PullOptions): Promise<PullResult> {
  const repo = await SnapshotRepository.open(opts.repo);
  const lock = await acquireLock(repo.dir, 'pull');
  try {
    const fetched = await fetchLocked(repo, opts);
    const head = await repo.head();
    if (!head.ref.startsWith('refs/heads/')) throw new InvalidArgumentError('HEAD is detached; pull needs a branch.', { ref: head.ref });
    const name = head.ref.slice('refs/heads/'.length);
    const trackingRef = `refs/remotes/${fetched.remote}/${name}`;
    const theirs = (await repo.listRefs(trackingRef)).find((r) => r.ref === trackingRef)?.oid ?? null;
    const base = { fetch: fetched, branch: head.ref, old: head.oid };
    if (theirs === null) throw new InvalidArgumentError(`${fetched.remote} has no branch ${name}; nothing to pull.`, { remote: fetched.remote, branch: name });
    if (theirs === head.oid) return { ...base, new: head.oid, status: 'up-to-date' };
    if (head.oid !== null && (await repo.isAncestor(theirs, head.oid))) return { ...base, new: head.oid, status: 'ahead' };
    if (head.oid !== null && !(await repo.isAncestor(head.oid, theirs))) {
      throw new PushRejectedError(
        `${name} and ${fetched.remote}/${name} have diverged (each has commits the other lacks); pull only fast-forwards, so ${name} was left at ${head.oid.slice(0, 7)}. Inspect with dbsnap log ${fetched.remote}/${name}, then restore or push --force as appropriate.`,
        { branch: name, local: head.oid, remote: theirs },
      );
    }
    await repo.updateRef(head.ref, theirs, head.oid);
    return { ...base, new: theirs, status: 'fast-forward' };
  } finally {
    await lock.release();
  }
}
