/**
 * The snapshot repository: a git repository that dbsnap writes objects and refs into directly.
 * Native git can read it (`git --git-dir <dir> log`, `git clone`), and every id is the one
 * native git computes. dbsnap's own repositories are bare; in a non-bare one (a clone), moving
 * the checked-out branch also moves its index and files (see work-tree.ts), all through
 * `updateRef`, the one path every command that moves a branch takes.
 *
 * This class is the store's one handle: opening, objects and refs live here; each other job has
 * its own module that the methods below call (repository-init, tree-write, tree-read, rev-parse,
 * branches, tags, object-walk, repack).
 */
import * as path from 'node:path';
import { promises as fsp } from 'node:fs';
import { CorruptSnapshotError, InvalidArgumentError, RepositoryNotFoundError } from '../errors/index.js';
import { pathExists, writeFileAtomic } from './files.js';
import { ObjectDatabase, type StoreStats } from './object-database.js';
import { repack, type RepackProgress, type RepackResult } from './repack.js';
import { formatCommit, hashObject, isOid, parseCommit, toBuffer, type GitIdentity, type ObjectType, type TreeEntry } from './objects.js';
import { GitConfig } from './git-config.js';
import { isAncestor, mergeBase } from './object-walk.js';
import { assertValidRef, RefStore } from './refs.js';
import { WorkTree, type LocalChange } from './work-tree.js';
import { createBareRepository } from './repository-init.js';
import { writeFileTree, writeTree, type TreeEntryInput } from './tree-write.js';
import { listFiles, readFile, readTreeEntries, subtree } from './tree-read.js';
import { resolveCommit } from './rev-parse.js';
import { createBranch, deleteBranch, listBranches, switchBranch } from './branches.js';
import { createTag, deleteTag, listTags, tagsByCommit, type TagInfo } from './tags.js';

export { DEFAULT_BRANCH } from './repository-init.js';
export { branchRef } from './branches.js';
export type { TreeEntryInput } from './tree-write.js';
export type { TagInfo } from './tags.js';

export interface CommitInfo {
  oid: string;
  tree: string;
  parents: string[];
  /** Message without the trailing newline git stores. */
  message: string;
  /** Author and committer (dbsnap writes both the same). See GitIdentity for the timezone sign. */
  author: GitIdentity;
}

export class SnapshotRepository {
  /** Absolute path of the git directory. */
  readonly dir: string;
  /** The object database; for the store's own modules (tree-write, rev-parse, tags ...), not its callers. */
  readonly objects: ObjectDatabase;
  /** The refs; for the store's own modules (branches, tags, rev-parse ...), not its callers. */
  readonly refs: RefStore;
  /** The checked-out files of a non-bare repository; null for a bare one. */
  readonly workTree: WorkTree | null;

  private constructor(dir: string, workTree: WorkTree | null) {
    this.dir = dir;
    this.objects = new ObjectDatabase(dir);
    this.refs = new RefStore(dir);
    this.workTree = workTree;
  }

  private static async at(gitdir: string): Promise<SnapshotRepository> {
    return new SnapshotRepository(gitdir, await WorkTree.find(gitdir));
  }

  /** `dir` itself when it is a git directory, else its `.git` when that is one (a clone's work tree). */
  private static async gitDirOf(dir: string): Promise<string | null> {
    if (await SnapshotRepository.isRepository(dir)) return dir;
    const dotGit = path.join(dir, '.git');
    return (await SnapshotRepository.isRepository(dotGit)) ? dotGit : null;
  }

  /** Counters for tests and benchmarks: blobs read, blobs actually written, bytes of those blobs. */
  get stats(): StoreStats {
    return this.objects.stats;
  }

  /** True if `dir` itself is a git directory (a bare repository, or a `.git`). */
  static async isRepository(dir: string): Promise<boolean> {
    return (
      (await pathExists(path.join(dir, 'HEAD'))) &&
      (await pathExists(path.join(dir, 'objects'))) &&
      (await pathExists(path.join(dir, 'refs')))
    );
  }

  /**
   * Creates a bare repository at `dir` with default branch `main`, or opens the one there.
   * Directories it creates get 0700 and files 0600 whatever the umask. `dir` must be new,
   * empty, or hold only placeholders (README*, .gitkeep, .keep), which are left alone: a
   * repository scattered among someone's files (or inside a code work tree) is refused.
   *
   * @throws NotADbsnapRepositoryError (ENOTDBSNAP) if `dir` is a file or a non-empty directory.
   * @example
   * const { repo, created } = await SnapshotRepository.init('./backup-repo');
   */
  static async init(dir: string): Promise<{ repo: SnapshotRepository; created: boolean }> {
    const abs = path.resolve(dir);
    const existing = await SnapshotRepository.gitDirOf(abs);
    if (existing) return { repo: await SnapshotRepository.at(existing), created: false };
    await createBareRepository(abs);
    return { repo: new SnapshotRepository(abs, null), created: true };
  }

  /**
   * Opens the repository at `dir`.
   * @throws RepositoryNotFoundError (ENOREPO) if `dir` holds no git repository.
   * @example
   * const repo = await SnapshotRepository.open('./backup-repo');
   */
  static async open(dir: string): Promise<SnapshotRepository> {
    const abs = path.resolve(dir);
    // A clone of the snapshot repository (a reviewer's checkout, a CI job) keeps its git dir in .git.
    const gitdir = await SnapshotRepository.gitDirOf(abs);
    if (!gitdir) {
      const stat = await fsp.stat(abs).catch(() => null);
      if (stat && !stat.isDirectory()) {
        throw new RepositoryNotFoundError(`${abs} is a file, not a dbsnap repository; point --repo (or DBSNAP_REPO) at the repository directory.`, { dir: abs });
      }
      throw new RepositoryNotFoundError(`no dbsnap repository at ${abs}; run \`dbsnap init\` to create one.`, { dir: abs });
    }
    return SnapshotRepository.at(gitdir);
  }

  /** The id git gives `content` as a blob (`git hash-object`), without writing it. */
  static hashBlob(content: Uint8Array | string): string {
    return hashObject('blob', toBuffer(content));
  }

  /** Stores a blob (skipped if it exists); returns its id. */
  async writeBlob(content: Uint8Array | string): Promise<string> {
    const buf = toBuffer(content);
    const { oid, written } = await this.objects.write('blob', buf);
    if (written) {
      this.objects.stats.blobsWritten++;
      this.objects.stats.bytesWritten += buf.length;
    }
    return oid;
  }

  /**
   * Builds the nested trees for a flat list of files, stores them and returns the root tree id.
   * @throws InvalidArgumentError for empty, absolute, `.`/`..`/`.git` or duplicate paths, or a
   *   path that is both a file and a directory.
   */
  async writeTree(entries: TreeEntryInput[]): Promise<string> {
    return writeTree(this.objects, entries);
  }

  /** Stores one tree of files only (no directories), e.g. a collection's parts/; returns its id. */
  async writeFileTree(entries: { name: string; oid: string }[]): Promise<string> {
    return writeFileTree(this.objects, entries);
  }

  /**
   * Until finishBatch(), collects new objects into one packfile instead of loose files (see
   * object-batch.ts): for an operation that writes many objects, such as a commit. A ref update
   * finishes the batch first, so no ref points at an object not yet durable.
   */
  startBatch(minPackObjects?: number): void {
    this.objects.startBatch(minPackObjects);
  }

  /** Writes the open batch's objects durably (its pack, or loose files when few); a no-op without one. */
  async finishBatch(): Promise<{ objects: number; pack: string | null }> {
    return this.objects.finishBatch();
  }

  /** Drops the objects of an open batch that nothing will reference (an operation failed). */
  abortBatch(): void {
    this.objects.abortBatch();
  }

  /** Stores a commit (committer = author) and returns its id; does not move any ref. */
  async writeCommit(c: Omit<CommitInfo, 'oid'>): Promise<string> {
    return (await this.objects.write('commit', formatCommit(c))).oid;
  }

  /**
   * Atomically points `ref` (e.g. `refs/heads/main`) at `oid`. With `expectedOld` (an oid,
   * or null = the ref must not exist) it fails with RepositoryLockedError (ELOCKED) if the
   * ref moved meanwhile.
   * @throws InvalidArgumentError for a malformed ref name.
   * @throws CorruptSnapshotError if `oid` is not in the repository: a ref must never point at a missing object.
   */
  async updateRef(ref: string, oid: string, expectedOld?: string | null): Promise<void> {
    assertValidRef(ref);
    if (!isOid(oid)) throw new InvalidArgumentError(`cannot point ${ref} at "${oid}": not a full object id.`, { ref, oid });
    await this.objects.finishBatch();
    if (!(await this.objects.has(oid))) {
      throw new CorruptSnapshotError(`cannot point ${ref} at ${oid}: the object is not in the repository.`, { ref, oid, missing: true });
    }
    if (this.workTree && ref === (await this.refs.readSymbolic('HEAD'))) {
      await this.moveCheckedOut(oid, `moving ${ref.replace(/^refs\/heads\//, '')}`, () => this.refs.update(ref, oid, expectedOld));
      return;
    }
    await this.refs.update(ref, oid, expectedOld);
  }

  /**
   * Moves what HEAD shows in a non-bare repository to commit `target` (null: an unborn branch):
   * under git's index lock, refuses if the work tree has uncommitted changes, runs `move` (which
   * updates the refs), then writes the changed files and the index. A crash between the ref
   * update and the index write leaves the files of the old commit, which `git status` shows and
   * `git reset --hard` (or the next dbsnap command's refusal message) explains. For the store's
   * own modules (updateRef, branches.ts).
   * @throws WorkTreeDirtyError (EDIRTY) before `move` runs, changing nothing.
   */
  async moveCheckedOut(target: string | null, what: string, move: () => Promise<void>): Promise<void> {
    const wt = this.workTree!;
    const lock = await wt.lock();
    try {
      const current = await this.refs.read('HEAD');
      const head = current ? await this.listFiles(current) : new Map<string, string>();
      const next = target ? await this.listFiles(target) : new Map<string, string>();
      const index = await wt.readIndex();
      wt.assertClean(await wt.localChanges(index, head, next), what);
      await move();
      await wt.checkout(index, head, next, (oid) => this.readBlob(oid), lock);
    } finally {
      await lock.release();
    }
  }

  /**
   * Uncommitted changes in the work tree of a non-bare repository (none for a bare one), so a
   * command can refuse before doing any work.
   */
  async localChanges(): Promise<LocalChange[]> {
    if (!this.workTree) return [];
    const current = await this.refs.read('HEAD');
    const head = current ? await this.listFiles(current) : new Map<string, string>();
    return this.workTree.localChanges(await this.workTree.readIndex(), head, new Map());
  }

  /** @throws WorkTreeDirtyError (EDIRTY) when the work tree has uncommitted changes; `what` names the command. */
  async assertWorkTreeClean(what: string): Promise<void> {
    if (this.workTree) this.workTree.assertClean(await this.localChanges(), what);
  }

  /** Local branches, sorted, with the one HEAD names marked. */
  async listBranches(): Promise<{ name: string; oid: string; current: boolean }[]> {
    return listBranches(this);
  }

  /**
   * Creates branch `name` at `startPoint` (default HEAD).
   * @throws BranchError (EBRANCH) if it exists; InvalidArgumentError for a name git would reject.
   */
  async createBranch(name: string, startPoint = 'HEAD'): Promise<string> {
    return createBranch(this, name, startPoint);
  }

  /**
   * Deletes branch `name`. Refuses the checked-out branch, and (unless `force`) a branch whose
   * commits HEAD does not contain.
   */
  async deleteBranch(name: string, opts: { force?: boolean } = {}): Promise<string> {
    return deleteBranch(this, name, opts);
  }

  /**
   * True if `ancestor` is `descendant` or reachable from it through any parents. Walks back
   * from `descendant` only; an `ancestor` this repository does not have (a remote's commit, on
   * a push) is simply not an ancestor.
   */
  async isAncestor(ancestor: string, descendant: string): Promise<boolean> {
    return isAncestor(this, ancestor, descendant);
  }

  /**
   * The best common ancestor of two commits (what `git merge-base` prints), or null when they
   * share no history.
   */
  async mergeBase(a: string, b: string): Promise<string | null> {
    return mergeBase(this, a, b);
  }

  /**
   * Checks out branch `name`: HEAD names it, and in a non-bare repository the index and files
   * follow. With `create` the branch is made at `startPoint` (default HEAD) first; a name that
   * exists only as one remote's branch (`origin/name`) is created from it, as `git switch` does.
   * @throws WorkTreeDirtyError (EDIRTY) when the work tree has uncommitted changes (nothing changes).
   */
  async switchBranch(name: string, opts: { create?: boolean; startPoint?: string } = {}): Promise<{ branch: string; commit: string | null; created: boolean }> {
    return switchBranch(this, name, opts);
  }

  /** The branch HEAD names (normally `refs/heads/main`) and its commit, null before the first commit. */
  async head(): Promise<{ ref: string; oid: string | null }> {
    const ref = await this.refs.readSymbolic('HEAD');
    if (ref === null) return { ref: 'HEAD', oid: await this.refs.read('HEAD') }; // detached
    return { ref, oid: await this.refs.read(ref) };
  }

  /**
   * Resolves a revision to a commit id: full or abbreviated (>= 4 hex) hash, tag (annotated
   * tags peeled), branch, `HEAD`, followed by any `~N`, `^N`, `^{}`, `^{commit}` suffixes.
   * @throws RefNotFoundError (EREFNOTFOUND) if it names no commit or the abbreviation is ambiguous.
   * @example
   * await repo.resolveCommit('v1~1');
   */
  async resolveCommit(rev: string): Promise<string> {
    return resolveCommit(this, rev);
  }

  /** Reads any object (loose or packed), checking its type when `expected` is given. */
  async readObject(oid: string, expected?: ObjectType): Promise<{ type: ObjectType; content: Buffer }> {
    const obj = await this.objects.read(oid);
    if (expected && obj.type !== expected) {
      throw new CorruptSnapshotError(`git object ${oid} is a ${obj.type}, expected a ${expected}.`, { oid, type: obj.type, expected });
    }
    return obj;
  }

  /** Reads a commit object. */
  async readCommit(oid: string): Promise<CommitInfo> {
    const { content } = await this.readObject(oid, 'commit');
    const c = parseCommit(content, oid);
    return { oid, tree: c.tree, parents: c.parents, message: c.message, author: c.author };
  }

  /** History from `ref` following first parents, newest first, at most `n` commits. */
  async log(ref: string, n = Infinity): Promise<CommitInfo[]> {
    const out: CommitInfo[] = [];
    let oid: string | undefined = await this.resolveCommit(ref);
    while (oid !== undefined && out.length < n) {
      const commit = await this.readCommit(oid);
      out.push(commit);
      oid = commit.parents[0];
    }
    return out;
  }

  /**
   * The tree id of directory `dirPath` in a commit, or null if it has none: equal ids mean equal
   * contents, so a caller walking history skips unchanged directories without listing them.
   */
  async treeOid(commitOid: string, dirPath: string): Promise<string | null> {
    return subtree(this, commitOid, dirPath);
  }

  /**
   * Every file in a commit as path -> blob id (recursing into subtrees). With `prefix`, only
   * paths starting with it (a string prefix: `data/users/` or `data/users/p-`); only the
   * subtree that can contain them is read. Directories `skipDir` accepts are not entered.
   */
  async listFiles(commitOid: string, prefix = '', skipDir?: (path: string) => boolean): Promise<Map<string, string>> {
    return listFiles(this, commitOid, prefix, skipDir);
  }

  /** The entries of one tree object. */
  async readTree(treeOid: string): Promise<TreeEntry[]> {
    return readTreeEntries(this, treeOid);
  }

  /** A blob's bytes. */
  async readBlob(oid: string): Promise<Buffer> {
    const { content } = await this.readObject(oid, 'blob');
    this.objects.stats.blobsRead++;
    return content;
  }

  /** The file at `filePath` in a commit, or null if there is none. */
  async readFile(commitOid: string, filePath: string): Promise<Buffer | null> {
    return readFile(this, commitOid, filePath);
  }

  /**
   * Tags a commit: annotated when `message` is given (tagger = `tagger`, default "dbsnap" now),
   * lightweight otherwise.
   * @throws TagExistsError (ETAGEXISTS) if the tag exists and `force` is not set.
   * @throws InvalidArgumentError for a name git would reject.
   */
  async createTag(name: string, commitOid: string, opts: { message?: string; tagger?: GitIdentity; force?: boolean } = {}): Promise<void> {
    return createTag(this, name, commitOid, opts);
  }

  /** All tags, sorted by name, with the commit each points to. */
  async listTags(): Promise<TagInfo[]> {
    return listTags(this);
  }

  /** Deletes a tag. @throws RefNotFoundError if it does not exist. */
  async deleteTag(name: string): Promise<void> {
    return deleteTag(this, name);
  }

  /** Commit id -> names of the tags pointing at it (for log output). */
  async tagsByCommit(): Promise<Map<string, string[]>> {
    return tagsByCommit(this);
  }

  /** Refs whose full name starts with `prefix` (e.g. `refs/dbsnap/safety/`), sorted by name. */
  async listRefs(prefix: string): Promise<{ ref: string; oid: string }[]> {
    return this.refs.list(prefix);
  }

  /** Deletes a ref (not a tag: use deleteTag); returns false if it did not exist. */
  async deleteRef(ref: string): Promise<boolean> {
    assertValidRef(ref);
    return this.refs.delete(ref);
  }

  /**
   * Stores an object of any type as received from another repository (a push or fetch);
   * returns its id and whether it was new. The id is computed from the bytes, so a damaged
   * source object cannot enter under the name of the one it should have been.
   */
  async writeObject(type: ObjectType, content: Buffer): Promise<{ oid: string; written: boolean }> {
    return this.objects.write(type, content);
  }

  /** Points HEAD at a branch (`refs/heads/NAME`), as a clone does for the remote's default branch. */
  async setHeadBranch(ref: string): Promise<void> {
    assertValidRef(ref);
    await writeFileAtomic(path.join(this.dir, 'HEAD'), `ref: ${ref}\n`);
  }

  /** The remotes configured in this repository's git config. */
  get config(): GitConfig {
    return new GitConfig(this.dir);
  }

  /** True if the object is in the repository (loose or packed). */
  async hasObject(oid: string): Promise<boolean> {
    return isOid(oid) && this.objects.has(oid);
  }

  /**
   * Packs every object into one packfile with deltas (see repack.ts) and deletes the loose
   * objects and packs it replaces. The caller holds the repository lock.
   */
  async repack(onProgress?: (p: RepackProgress) => void): Promise<RepackResult> {
    const tips = new Set((await this.refs.list('refs/')).map((r) => r.oid));
    const head = await this.head();
    if (head.oid) tips.add(head.oid);
    return repack(this.objects, [...tips], onProgress);
  }

  /** Releases open pack files (long-lived callers, tests that delete the repository). */
  async close(): Promise<void> {
    await this.objects.close();
  }
}
