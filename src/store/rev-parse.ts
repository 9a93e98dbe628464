/**
 * Revisions to commit ids, as `git rev-parse` reads them: hashes (full or abbreviated), tags,
 * branches, HEAD, and the `~N`, `^N`, `^{}` suffixes.
 */
import { RefNotFoundError } from '../errors/index.js';
import { isOid, parseTag } from './objects.js';
import { checkRefFormat } from './refs.js';
import type { SnapshotRepository } from './repository.js';

/**
 * Resolves a revision to a commit id: full or abbreviated (>= 4 hex) hash, tag (annotated
 * tags peeled), branch, `HEAD`, followed by any `~N`, `^N`, `^{}`, `^{commit}` suffixes.
 * @throws RefNotFoundError (EREFNOTFOUND) if it names no commit or the abbreviation is ambiguous.
 */
export async function resolveCommit(repo: SnapshotRepository, rev: string): Promise<string> {
  const m = /^(.*?)((?:~\d*|\^\d*|\^\{[a-z]*\})*)$/.exec(rev);
  const base = m?.[1] ?? '';
  const suffixes = m?.[2] ?? '';
  if (base === '') throw new RefNotFoundError(`"${rev}" does not name a commit.`, { ref: rev });
  let oid = await resolveBase(repo, base, rev);
  for (const [, tilde, peel, caret] of suffixes.matchAll(/~(\d*)|\^\{([a-z]*)\}|\^(\d*)/g)) {
    oid = await peelToCommit(repo, oid, rev);
    if (peel !== undefined) {
      if (peel !== '' && peel !== 'commit') throw new RefNotFoundError(`"${rev}": only ^{} and ^{commit} are supported.`, { ref: rev });
    } else if (tilde !== undefined) {
      const n = tilde === '' ? 1 : Number(tilde);
      for (let i = 0; i < n; i++) oid = await nthParent(repo, oid, 1, rev);
    } else {
      const n = caret === '' || caret === undefined ? 1 : Number(caret);
      if (n > 0) oid = await nthParent(repo, oid, n, rev);
    }
  }
  return peelToCommit(repo, oid, rev);
}

async function resolveBase(repo: SnapshotRepository, base: string, rev: string): Promise<string> {
  const lower = base.toLowerCase();
  if (isOid(lower)) {
    if (await repo.objects.has(lower)) return lower;
    throw new RefNotFoundError(`commit ${lower} is not in the repository.`, { ref: rev });
  }
  if (base === 'HEAD' || base === '@') {
    const head = await repo.head();
    if (head.oid === null) throw new RefNotFoundError(`HEAD (${head.ref}) has no commits yet.`, { ref: rev });
    return head.oid;
  }
  // git's DWIM order for names (see gitrevisions(7)); refs win over abbreviated hashes.
  if (checkRefFormat(base) === null) {
    for (const candidate of [base, `refs/${base}`, `refs/tags/${base}`, `refs/heads/${base}`, `refs/remotes/${base}`, `refs/remotes/${base}/HEAD`]) {
      if (!candidate.startsWith('refs/')) continue;
      const oid = await repo.refs.read(candidate);
      if (oid !== null) return oid;
    }
  }
  if (/^[0-9a-f]{4,39}$/.test(lower)) {
    const matches = await repo.objects.expand(lower);
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) {
      throw new RefNotFoundError(`short hash "${base}" is ambiguous (${matches.join(', ')}); use more digits.`, { ref: rev, matches });
    }
  }
  throw new RefNotFoundError(`"${base}" is not a commit, tag or branch in this repository (see dbsnap log).`, { ref: rev });
}

/** The commit `oid` names, following annotated tags. @throws RefNotFoundError for another object type. */
export async function peelToCommit(repo: SnapshotRepository, oid: string, rev: string): Promise<string> {
  for (let depth = 0; depth < 10; depth++) {
    const obj = await repo.objects.read(oid);
    if (obj.type === 'commit') return oid;
    if (obj.type !== 'tag') throw new RefNotFoundError(`"${rev}" names a ${obj.type}, not a commit.`, { ref: rev, oid, type: obj.type });
    oid = parseTag(obj.content, oid).object;
  }
  throw new RefNotFoundError(`"${rev}": tag chain too deep.`, { ref: rev });
}

async function nthParent(repo: SnapshotRepository, oid: string, n: number, rev: string): Promise<string> {
  const commit = await repo.readCommit(oid);
  const parent = commit.parents[n - 1];
  if (parent === undefined) throw new RefNotFoundError(`"${rev}" goes past the history: commit ${oid.slice(0, 7)} has ${commit.parents.length} parent(s).`, { ref: rev, oid });
  return parent;
}
