/** Tags: creating (annotated or lightweight), listing with the commit each names, deleting. */
import { InvalidArgumentError, RefNotFoundError, TagExistsError } from '../errors/index.js';
import { formatTag, parseTag, type GitIdentity } from './objects.js';
import { assertValidTagName } from './refs.js';
import { peelToCommit } from './rev-parse.js';
import type { SnapshotRepository } from './repository.js';

export interface TagInfo {
  name: string;
  /** The commit the tag points to (annotated tags peeled). */
  commit: string;
  annotated: boolean;
  message?: string;
}

/**
 * Tags a commit: annotated when `message` is given (tagger = `tagger`, default "dbsnap" now),
 * lightweight otherwise.
 * @throws TagExistsError (ETAGEXISTS) if the tag exists and `force` is not set.
 * @throws InvalidArgumentError for a name git would reject.
 */
export async function createTag(
  repo: SnapshotRepository,
  name: string,
  commitOid: string,
  opts: { message?: string; tagger?: GitIdentity; force?: boolean } = {},
): Promise<void> {
  assertValidTagName(name);
  if ((await repo.refs.read(`refs/heads/${name}`)) !== null) {
    throw new InvalidArgumentError(`invalid tag name "${name}": a branch has that name, so "${name}" would name two things; choose another tag name.`, { tag: name });
  }
  const ref = `refs/tags/${name}`;
  const commit = await repo.resolveCommit(commitOid);
  const existing = await repo.refs.read(ref);
  if (existing !== null && !opts.force) {
    throw new TagExistsError(`tag "${name}" already exists; choose another name or use --force to move it.`, { tag: name, oid: existing });
  }
  const clash = existing === null ? await tagPathConflict(repo, name) : null;
  if (clash !== null) throw tagPathConflictError(name, clash);
  let target = commit;
  if (opts.message !== undefined) {
    const tagger = opts.tagger ?? {
      name: 'dbsnap',
      email: 'dbsnap@localhost',
      timestamp: Math.floor(Date.now() / 1000),
      timezoneOffset: new Date().getTimezoneOffset(),
    };
    target = (await repo.objects.write('tag', formatTag({ object: commit, type: 'commit', tag: name, tagger, message: opts.message }))).oid;
  }
  await repo.refs.update(ref, target, existing);
}

/**
 * The existing tag that keeps `name` from being created: git stores tags as paths, so `v1` and
 * `v1/before` cannot both exist. Null when there is none (or the tag `name` itself exists).
 */
export async function tagPathConflict(repo: SnapshotRepository, name: string): Promise<string | null> {
  for (const { ref } of await repo.refs.list('refs/tags/')) {
    const other = ref.slice('refs/tags/'.length);
    if (name.startsWith(`${other}/`) || other.startsWith(`${name}/`)) return other;
  }
  return null;
}

/** ETAGEXISTS for a name that clashes with the path of an existing tag, saying what to do. */
export function tagPathConflictError(name: string, other: string): TagExistsError {
  return new TagExistsError(
    `cannot create tag "${name}": tag "${other}" exists, and git keeps tags as paths, so one cannot be inside the other; choose another name or delete "${other}" with dbsnap tag -d ${other}.`,
    { tag: name, conflictsWith: other },
  );
}

/** All tags, sorted by name, with the commit each points to. */
export async function listTags(repo: SnapshotRepository): Promise<TagInfo[]> {
  const out: TagInfo[] = [];
  for (const { ref, oid } of await repo.refs.list('refs/tags/')) {
    const name = ref.slice('refs/tags/'.length);
    const obj = await repo.objects.read(oid);
    if (obj.type === 'tag') {
      const tag = parseTag(obj.content, oid);
      out.push({ name, commit: await peelToCommit(repo, oid, name), annotated: true, message: tag.message });
    } else if (obj.type === 'commit') {
      out.push({ name, commit: oid, annotated: false });
    }
  }
  return out;
}

/** Deletes a tag. @throws RefNotFoundError if it does not exist. */
export async function deleteTag(repo: SnapshotRepository, name: string): Promise<void> {
  assertValidTagName(name);
  if (!(await repo.refs.delete(`refs/tags/${name}`))) {
    throw new RefNotFoundError(`tag "${name}" does not exist (see dbsnap tag --list).`, { tag: name });
  }
}

/** Commit id -> names of the tags pointing at it (for log output). */
export async function tagsByCommit(repo: SnapshotRepository): Promise<Map<string, string[]>> {
  const map = new Map<string, string[]>();
  for (const t of await listTags(repo)) {
    const names = map.get(t.commit) ?? [];
    names.push(t.name);
    map.set(t.commit, names);
  }
  return map;
}
