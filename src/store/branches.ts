/**
 * Local branches: naming, listing, creating, deleting, and switching HEAD between them (in a
 * non-bare repository the index and files follow, through SnapshotRepository.moveCheckedOut).
 */
import { BranchError, InvalidArgumentError, RefNotFoundError } from '../errors/index.js';
import { checkRefFormat } from './refs.js';
import type { SnapshotRepository } from './repository.js';

/** `refs/heads/<name>`. @throws InvalidArgumentError for a name `git branch` would reject. */
export function branchRef(name: string): string {
  const problem = name === '' ? 'is empty' : name.startsWith('-') ? 'starts with "-"' : name === 'HEAD' ? 'is "HEAD"' : checkRefFormat(`refs/heads/${name}`);
  if (problem) throw new InvalidArgumentError(`invalid branch name "${name}": it ${problem}.`, { branch: name });
  return `refs/heads/${name}`;
}

/** Local branches, sorted, with the one HEAD names marked. */
export async function listBranches(repo: SnapshotRepository): Promise<{ name: string; oid: string; current: boolean }[]> {
  const current = await repo.refs.readSymbolic('HEAD');
  return (await repo.refs.list('refs/heads/')).map(({ ref, oid }) => ({ name: ref.slice('refs/heads/'.length), oid, current: ref === current }));
}

/**
 * Creates branch `name` at `startPoint` (default HEAD).
 * @throws BranchError (EBRANCH) if it exists; InvalidArgumentError for a name git would reject.
 */
export async function createBranch(repo: SnapshotRepository, name: string, startPoint = 'HEAD'): Promise<string> {
  const ref = branchRef(name);
  const oid = await repo.resolveCommit(startPoint);
  if ((await repo.refs.read(ref)) !== null) {
    throw new BranchError(`branch "${name}" already exists; switch to it with dbsnap switch ${name}.`, { branch: name });
  }
  await repo.refs.update(ref, oid, null);
  return oid;
}

/**
 * Deletes branch `name`. Refuses the checked-out branch, and (unless `force`) a branch whose
 * commits HEAD does not contain.
 */
export async function deleteBranch(repo: SnapshotRepository, name: string, opts: { force?: boolean } = {}): Promise<string> {
  const ref = branchRef(name);
  const oid = await repo.refs.read(ref);
  if (oid === null) throw new RefNotFoundError(`branch "${name}" does not exist (see dbsnap branch).`, { branch: name });
  if (ref === (await repo.refs.readSymbolic('HEAD'))) {
    throw new BranchError(`cannot delete branch "${name}": it is checked out; dbsnap switch to another branch first.`, { branch: name });
  }
  const head = await repo.refs.read('HEAD');
  if (!opts.force && (head === null || !(await repo.isAncestor(oid, head)))) {
    throw new BranchError(
      `branch "${name}" has snapshots that HEAD does not contain; use --force to delete it anyway (its commits stay reachable only by hash).`,
      { branch: name, oid },
    );
  }
  await repo.refs.delete(ref);
  return oid;
}

/**
 * Checks out branch `name`: HEAD names it, and in a non-bare repository the index and files
 * follow. With `create` the branch is made at `startPoint` (default HEAD) first; a name that
 * exists only as one remote's branch (`origin/name`) is created from it, as `git switch` does.
 * @throws WorkTreeDirtyError (EDIRTY) when the work tree has uncommitted changes (nothing changes).
 */
export async function switchBranch(
  repo: SnapshotRepository,
  name: string,
  opts: { create?: boolean; startPoint?: string } = {},
): Promise<{ branch: string; commit: string | null; created: boolean }> {
  const ref = branchRef(name);
  const existing = await repo.refs.read(ref);
  let start: string | null = null;
  if (opts.create) {
    if (existing !== null) throw new BranchError(`branch "${name}" already exists; switch to it without --create.`, { branch: name });
    start = (await repo.refs.read('HEAD')) === null && opts.startPoint === undefined ? null : await repo.resolveCommit(opts.startPoint ?? 'HEAD');
  } else if (existing === null) {
    const remotes = (await repo.refs.list('refs/remotes/')).filter((r) => r.ref.endsWith(`/${name}`) && r.ref.split('/').length === name.split('/').length + 3);
    if (remotes.length !== 1) {
      throw new RefNotFoundError(
        remotes.length
          ? `branch "${name}" exists on several remotes (${remotes.map((r) => r.ref.slice('refs/remotes/'.length)).join(', ')}); use dbsnap switch --create ${name} <remote>/${name}.`
          : `branch "${name}" does not exist; create it with dbsnap switch --create ${name}.`,
        { branch: name },
      );
    }
    start = remotes[0]!.oid;
  }
  const created = existing === null && start !== null;
  const move = async (): Promise<void> => {
    if (created) await repo.refs.update(ref, start!, null);
    await repo.refs.updateSymbolic('HEAD', ref);
  };
  if (repo.workTree) await repo.moveCheckedOut(existing ?? start, `switching to ${name}`, move);
  else await move();
  return { branch: name, commit: await repo.refs.read(ref), created };
}
