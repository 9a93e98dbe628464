/**
 * The snapshot repository: a git repository that dbsnap writes objects and refs into directly.
 * Native git can read it (`git --git-dir <dir> log`, `git clone`), and every id is the one
 * native git computes. dbsnap's own repositories are bare; in a non-bare one (a clone), moving
 * the checked-out branch also moves its index and files (see work-tree.ts), all through
 * `updateRef`, the one path every command that moves a branch takes.
 */
import * as path from 'node:path';
import { promises as fsp } from 'node:fs';
import {
  BranchError,
  CorruptSnapshotError,
  InvalidArgumentError,
  NotADbsnapRepositoryError,
  RefNotFoundError,
  RepositoryNotFoundError,
  TagExistsError,
} from '../errors/index.js';
import { ensureDir, isErrno, pathExists, writeFileAtomic } from './files.js';
import { ObjectDatabase, type StoreStats } from './object-database.js';
import { repack, type RepackProgress, type RepackResult } from './repack.js';
import {
  formatCommit,
  formatTag,
  formatTree,
  hashObject,
  isOid,
  parseCommit,
  parseTag,
  parseTree,
  toBuffer,
  type GitIdentity,
  type ObjectType,
  type TreeEntry,
} from './objects.js';
import { GitConfig } from './git-config.js';
import { isAncestor } from './object-walk.js';
import { assertValidRef, assertValidTagName, checkRefFormat, RefStore } from './refs.js';
import { WorkTree, type LocalChange } from './work-tree.js';

export interface TreeEntryInput {
  /** Slash-separated path inside the snapshot, e.g. `data/users/p-1a2b.json`. */
  path: string;
  oid: string;
  mode?: '100644';
}

export interface CommitInfo {
  oid: string;
  tree: string;
  parents: string[];
  /** Message without the trailing newline git stores. */
  message: string;
  /** Author and committer (dbsnap writes both the same). See GitIdentity for the timezone sign. */
  author: GitIdentity;
}

export interface TagInfo {
  name: string;
  /** The commit the tag points to (annotated tags peeled). */
  commit: string;
  annotated: boolean;
  message?: string;
}

export const DEFAULT_BRANCH = 'main';

/** `refs/heads/<name>`. @throws InvalidArgumentError for a name `git branch` would reject. */
export function branchRef(name: string): string {
  const problem = name.startsWith('-') ? 'starts with "-"' : name === 'HEAD' ? 'is "HEAD"' : checkRefFormat(`refs/heads/${name}`);
  if (problem) throw new InvalidArgumentError(`invalid branch name "${name}": it ${problem}.`, { branch: name });
  return `refs/heads/${name}`;
}

const CONFIG = '[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n';

interface TreeNode {
  files: Map<string, string>;
  dirs: Map<string, TreeNode>;
}

/** Files a directory may hold and still take a new repository: placeholders, nothing of value. */
const PLACEHOLDER = /^(README(\.[A-Za-z]+)?|\.gitkeep|\.keep)$/i;
const HALF_MADE = new Set(['objects', 'refs', 'config']);

async function assertFitForNewRepository(abs: string): Promise<void> {
  let entries: string[];
  try {
    entries = await fsp.readdir(abs);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return;
    if (isErrno(err, 'ENOTDIR')) {
      throw new NotADbsnapRepositoryError(`${abs} is a file, not a directory; choose a new or empty directory for --repo.`, { dir: abs, reason: 'file' });
    }
    throw err;
  }
  const others = entries.filter((e) => !PLACEHOLDER.test(e)).sort();
  // What an init stopped half-way (a full disk, kill -9) leaves: HEAD, written last, is missing.
  if (others.every((e) => HALF_MADE.has(e) || e.startsWith('tmp_'))) return;
  const shown = others.slice(0, 5).join(', ') + (others.length > 5 ? `, and ${others.length - 5} more` : '');
  const what = others.includes('.git') ? 'a git work tree' : 'not empty';
  throw new NotADbsnapRepositoryError(
    `${abs} is ${what} and not a dbsnap repository (it holds ${shown}); nothing was created. Choose a new or empty directory with --repo.`,
    { dir: abs, reason: 'not-empty', entries: others.slice(0, 20) },
  );
}

export class SnapshotRepository {
  /** Absolute path of the git directory. */
  readonly dir: string;
  private readonly objects: ObjectDatabase;
  private readonly refs: RefStore;
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
    await assertFitForNewRepository(abs);
    for (const sub of ['objects/info', 'objects/pack', 'refs/heads', 'refs/tags']) {
      await ensureDir(path.join(abs, sub));
    }
    // The repository directory may exist already (this project tracks backup-repo/ for its
    // README, so a fresh clone has it at 0755): snapshots hold the data, so it becomes owner-only.
    if (process.platform !== 'win32') await fsp.chmod(abs, 0o700);
    await writeFileAtomic(path.join(abs, 'config'), CONFIG);
    // HEAD last: its presence is what makes the directory a repository (for git too).
    await writeFileAtomic(path.join(abs, 'HEAD'), `ref: refs/heads/${DEFAULT_BRANCH}\n`);
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
    const root: TreeNode = { files: new Map(), dirs: new Map() };
    for (const entry of entries) {
      if (!isOid(entry.oid)) throw new InvalidArgumentError(`tree entry ${entry.path}: "${entry.oid}" is not a full object id.`, { path: entry.path });
      const parts = entry.path.split('/');
      if (parts.some((p) => p === '' || p === '.' || p === '..' || p.toLowerCase() === '.git' || p.includes('\0'))) {
        throw new InvalidArgumentError(`invalid path "${entry.path}" in tree: empty, ".", "..", ".git" components and NUL are not allowed.`, { path: entry.path });
      }
      let node = root;
      for (const dirName of parts.slice(0, -1)) {
        if (node.files.has(dirName)) throw new InvalidArgumentError(`path "${entry.path}" needs "${dirName}" as a directory, but it is a file.`, { path: entry.path });
        let child = node.dirs.get(dirName);
        if (!child) node.dirs.set(dirName, (child = { files: new Map(), dirs: new Map() }));
        node = child;
      }
      const name = parts[parts.length - 1]!;
      if (node.files.has(name) || node.dirs.has(name)) throw new InvalidArgumentError(`path "${entry.path}" appears twice in the tree.`, { path: entry.path });
      node.files.set(name, entry.oid);
    }
    return this.writeTreeNode(root);
  }

  private async writeTreeNode(node: TreeNode): Promise<string> {
    const items: { mode: string; name: string; oid: string }[] = [];
    for (const [name, oid] of node.files) items.push({ mode: '100644', name, oid });
    const subtrees = await Promise.all([...node.dirs].map(async ([name, child]) => ({ mode: '40000', name, oid: await this.writeTreeNode(child) })));
    items.push(...subtrees);
    return (await this.objects.write('tree', formatTree(items))).oid;
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
   * `git reset --hard` (or the next dbsnap command's refusal message) explains.
   * @throws WorkTreeDirtyError (EDIRTY) before `move` runs, changing nothing.
   */
  private async moveCheckedOut(target: string | null, what: string, move: () => Promise<void>): Promise<void> {
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
    const current = await this.refs.readSymbolic('HEAD');
    return (await this.refs.list('refs/heads/')).map(({ ref, oid }) => ({ name: ref.slice('refs/heads/'.length), oid, current: ref === current }));
  }

  /**
   * Creates branch `name` at `startPoint` (default HEAD).
   * @throws BranchError (EBRANCH) if it exists; InvalidArgumentError for a name git would reject.
   */
  async createBranch(name: string, startPoint = 'HEAD'): Promise<string> {
    const ref = branchRef(name);
    const oid = await this.resolveCommit(startPoint);
    if ((await this.refs.read(ref)) !== null) {
      throw new BranchError(`branch "${name}" already exists; switch to it with dbsnap switch ${name}.`, { branch: name });
    }
    await this.refs.update(ref, oid, null);
    return oid;
  }

  /**
   * Deletes branch `name`. Refuses the checked-out branch, and (unless `force`) a branch whose
   * commits HEAD does not contain.
   */
  async deleteBranch(name: string, opts: { force?: boolean } = {}): Promise<string> {
    const ref = branchRef(name);
    const oid = await this.refs.read(ref);
    if (oid === null) throw new RefNotFoundError(`branch "${name}" does not exist (see dbsnap branch).`, { branch: name });
    if (ref === (await this.refs.readSymbolic('HEAD'))) {
      throw new BranchError(`cannot delete branch "${name}": it is checked out; dbsnap switch to another branch first.`, { branch: name });
    }
    const head = await this.refs.read('HEAD');
    if (!opts.force && (head === null || !(await this.isAncestor(oid, head)))) {
      throw new BranchError(
        `branch "${name}" has snapshots that HEAD does not contain; use --force to delete it anyway (its commits stay reachable only by hash).`,
        { branch: name, oid },
      );
    }
    await this.refs.delete(ref);
    return oid;
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
   * The best common ancestor of two commits (what `git merge-base` prints for linear and merge
   * histories alike: the first commit reachable from both, searching from `b` breadth-first),
   * or null when they share no history.
   */
  async mergeBase(a: string, b: string): Promise<string | null> {
    const fromA = new Set<string>();
    for (let queue = [a]; queue.length; ) {
      const next: string[] = [];
      for (const oid of queue) {
        if (fromA.has(oid)) continue;
        fromA.add(oid);
        next.push(...(await this.readCommit(oid)).parents);
      }
      queue = next;
    }
    const seen = new Set<string>();
    for (let queue = [b]; queue.length; ) {
      const next: string[] = [];
      for (const oid of queue) {
        if (fromA.has(oid)) return oid;
        if (seen.has(oid)) continue;
        seen.add(oid);
        next.push(...(await this.readCommit(oid)).parents);
      }
      queue = next;
    }
    return null;
  }

  /**
   * Checks out branch `name`: HEAD names it, and in a non-bare repository the index and files
   * follow. With `create` the branch is made at `startPoint` (default HEAD) first; a name that
   * exists only as one remote's branch (`origin/name`) is created from it, as `git switch` does.
   * @throws WorkTreeDirtyError (EDIRTY) when the work tree has uncommitted changes (nothing changes).
   */
  async switchBranch(name: string, opts: { create?: boolean; startPoint?: string } = {}): Promise<{ branch: string; commit: string | null; created: boolean }> {
    const ref = branchRef(name);
    const existing = await this.refs.read(ref);
    let start: string | null = null;
    if (opts.create) {
      if (existing !== null) throw new BranchError(`branch "${name}" already exists; switch to it without --create.`, { branch: name });
      start = (await this.refs.read('HEAD')) === null && opts.startPoint === undefined ? null : await this.resolveCommit(opts.startPoint ?? 'HEAD');
    } else if (existing === null) {
      const remotes = (await this.refs.list('refs/remotes/')).filter((r) => r.ref.endsWith(`/${name}`) && r.ref.split('/').length === name.split('/').length + 3);
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
      if (created) await this.refs.update(ref, start!, null);
      await this.refs.updateSymbolic('HEAD', ref);
    };
    if (this.workTree) await this.moveCheckedOut(existing ?? start, `switching to ${name}`, move);
    else await move();
    return { branch: name, commit: await this.refs.read(ref), created };
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
    const m = /^(.*?)((?:~\d*|\^\d*|\^\{[a-z]*\})*)$/.exec(rev);
    const base = m?.[1] ?? '';
    const suffixes = m?.[2] ?? '';
    if (base === '') throw new RefNotFoundError(`"${rev}" does not name a commit.`, { ref: rev });
    let oid = await this.resolveBase(base, rev);
    for (const [, tilde, peel, caret] of suffixes.matchAll(/~(\d*)|\^\{([a-z]*)\}|\^(\d*)/g)) {
      oid = await this.peelToCommit(oid, rev);
      if (peel !== undefined) {
        if (peel !== '' && peel !== 'commit') throw new RefNotFoundError(`"${rev}": only ^{} and ^{commit} are supported.`, { ref: rev });
      } else if (tilde !== undefined) {
        const n = tilde === '' ? 1 : Number(tilde);
        for (let i = 0; i < n; i++) oid = await this.nthParent(oid, 1, rev);
      } else {
        const n = caret === '' || caret === undefined ? 1 : Number(caret);
        if (n > 0) oid = await this.nthParent(oid, n, rev);
      }
    }
    return this.peelToCommit(oid, rev);
  }

  private async resolveBase(base: string, rev: string): Promise<string> {
    const lower = base.toLowerCase();
    if (isOid(lower)) {
      if (await this.objects.has(lower)) return lower;
      throw new RefNotFoundError(`commit ${lower} is not in the repository.`, { ref: rev });
    }
    if (base === 'HEAD' || base === '@') {
      const head = await this.head();
      if (head.oid === null) throw new RefNotFoundError(`HEAD (${head.ref}) has no commits yet.`, { ref: rev });
      return head.oid;
    }
    // git's DWIM order for names (see gitrevisions(7)); refs win over abbreviated hashes.
    if (checkRefFormat(base) === null) {
      for (const candidate of [base, `refs/${base}`, `refs/tags/${base}`, `refs/heads/${base}`, `refs/remotes/${base}`, `refs/remotes/${base}/HEAD`]) {
        if (!candidate.startsWith('refs/')) continue;
        const oid = await this.refs.read(candidate);
        if (oid !== null) return oid;
      }
    }
    if (/^[0-9a-f]{4,39}$/.test(lower)) {
      const matches = await this.objects.expand(lower);
      if (matches.length === 1) return matches[0]!;
      if (matches.length > 1) {
        throw new RefNotFoundError(`short hash "${base}" is ambiguous (${matches.join(', ')}); use more digits.`, { ref: rev, matches });
      }
    }
    throw new RefNotFoundError(`"${base}" is not a commit, tag or branch in this repository (see dbsnap log).`, { ref: rev });
  }

  /** Reads any object (loose or packed), checking its type when `expected` is given. */
  async readObject(oid: string, expected?: ObjectType): Promise<{ type: ObjectType; content: Buffer }> {
    const obj = await this.objects.read(oid);
    if (expected && obj.type !== expected) {
      throw new CorruptSnapshotError(`git object ${oid} is a ${obj.type}, expected a ${expected}.`, { oid, type: obj.type, expected });
    }
    return obj;
  }

  private async peelToCommit(oid: string, rev: string): Promise<string> {
    for (let depth = 0; depth < 10; depth++) {
      const obj = await this.objects.read(oid);
      if (obj.type === 'commit') return oid;
      if (obj.type !== 'tag') throw new RefNotFoundError(`"${rev}" names a ${obj.type}, not a commit.`, { ref: rev, oid, type: obj.type });
      oid = parseTag(obj.content, oid).object;
    }
    throw new RefNotFoundError(`"${rev}": tag chain too deep.`, { ref: rev });
  }

  private async nthParent(oid: string, n: number, rev: string): Promise<string> {
    const commit = await this.readCommit(oid);
    const parent = commit.parents[n - 1];
    if (parent === undefined) throw new RefNotFoundError(`"${rev}" goes past the history: commit ${oid.slice(0, 7)} has ${commit.parents.length} parent(s).`, { ref: rev, oid });
    return parent;
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

  private async readTreeEntries(treeOid: string): Promise<TreeEntry[]> {
    return parseTree((await this.readObject(treeOid, 'tree')).content, treeOid);
  }

  /** The tree id of the directory `dirPath` ('' = root) in a commit, or null if absent. */
  private async subtree(commitOid: string, dirPath: string): Promise<string | null> {
    let tree = (await this.readCommit(commitOid)).tree;
    for (const part of dirPath.split('/').filter((p) => p !== '')) {
      const entry = (await this.readTreeEntries(tree)).find((e) => e.name === part);
      if (!entry || entry.type !== 'tree') return null;
      tree = entry.oid;
    }
    return tree;
  }

  /**
   * The tree id of directory `dirPath` in a commit, or null if it has none: equal ids mean equal
   * contents, so a caller walking history skips unchanged directories without listing them.
   */
  async treeOid(commitOid: string, dirPath: string): Promise<string | null> {
    return this.subtree(commitOid, dirPath);
  }

  /**
   * Every file in a commit as path -> blob id (recursing into subtrees). With `prefix`, only
   * paths starting with it (a string prefix: `data/users/` or `data/users/p-`); only the
   * subtree that can contain them is read.
   */
  async listFiles(commitOid: string, prefix = ''): Promise<Map<string, string>> {
    const result = new Map<string, string>();
    const dir = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const start = await this.subtree(commitOid, dir);
    if (start === null) return result;
    const walk = async (treeOid: string, base: string): Promise<void> => {
      for (const e of await this.readTreeEntries(treeOid)) {
        const p = base === '' ? e.name : `${base}/${e.name}`;
        if (e.type === 'tree') {
          // Descend only where the prefix can still match.
          if (`${p}/`.startsWith(prefix) || prefix.startsWith(`${p}/`)) await walk(e.oid, p);
        } else if (e.type === 'blob' && p.startsWith(prefix)) {
          result.set(p, e.oid);
        }
      }
    };
    await walk(start, dir);
    return result;
  }

  /** A blob's bytes. */
  async readBlob(oid: string): Promise<Buffer> {
    const { content } = await this.readObject(oid, 'blob');
    this.objects.stats.blobsRead++;
    return content;
  }

  /** The file at `filePath` in a commit, or null if there is none. */
  async readFile(commitOid: string, filePath: string): Promise<Buffer | null> {
    const slash = filePath.lastIndexOf('/');
    const tree = await this.subtree(commitOid, slash < 0 ? '' : filePath.slice(0, slash));
    if (tree === null) return null;
    const name = filePath.slice(slash + 1);
    const entry = (await this.readTreeEntries(tree)).find((e) => e.name === name);
    return entry && entry.type === 'blob' ? this.readBlob(entry.oid) : null;
  }

  /**
   * Tags a commit: annotated when `message` is given (tagger = `tagger`, default "dbsnap" now),
   * lightweight otherwise.
   * @throws TagExistsError (ETAGEXISTS) if the tag exists and `force` is not set.
   * @throws InvalidArgumentError for a name git would reject.
   */
  async createTag(
    name: string,
    commitOid: string,
    opts: { message?: string; tagger?: GitIdentity; force?: boolean } = {},
  ): Promise<void> {
    assertValidTagName(name);
    if ((await this.refs.read(`refs/heads/${name}`)) !== null) {
      throw new InvalidArgumentError(`invalid tag name "${name}": a branch has that name, so "${name}" would name two things; choose another tag name.`, { tag: name });
    }
    const ref = `refs/tags/${name}`;
    const commit = await this.resolveCommit(commitOid);
    const existing = await this.refs.read(ref);
    if (existing !== null && !opts.force) {
      throw new TagExistsError(`tag "${name}" already exists; choose another name or use --force to move it.`, { tag: name, oid: existing });
    }
    let target = commit;
    if (opts.message !== undefined) {
      const tagger = opts.tagger ?? {
        name: 'dbsnap',
        email: 'dbsnap@localhost',
        timestamp: Math.floor(Date.now() / 1000),
        timezoneOffset: new Date().getTimezoneOffset(),
      };
      target = (await this.objects.write('tag', formatTag({ object: commit, type: 'commit', tag: name, tagger, message: opts.message }))).oid;
    }
    await this.refs.update(ref, target, existing);
  }

  /** All tags, sorted by name, with the commit each points to. */
  async listTags(): Promise<TagInfo[]> {
    const out: TagInfo[] = [];
    for (const { ref, oid } of await this.refs.list('refs/tags/')) {
      const name = ref.slice('refs/tags/'.length);
      const obj = await this.objects.read(oid);
      if (obj.type === 'tag') {
        const tag = parseTag(obj.content, oid);
        out.push({ name, commit: await this.peelToCommit(oid, name), annotated: true, message: tag.message });
      } else if (obj.type === 'commit') {
        out.push({ name, commit: oid, annotated: false });
      }
    }
    return out;
  }

  /** Deletes a tag. @throws RefNotFoundError if it does not exist. */
  async deleteTag(name: string): Promise<void> {
    assertValidTagName(name);
    if (!(await this.refs.delete(`refs/tags/${name}`))) {
      throw new RefNotFoundError(`tag "${name}" does not exist (see dbsnap tag --list).`, { tag: name });
    }
  }

  /** Commit id -> names of the tags pointing at it (for log output). */
  async tagsByCommit(): Promise<Map<string, string[]>> {
    const map = new Map<string, string[]>();
    for (const t of await this.listTags()) {
      const names = map.get(t.commit) ?? [];
      names.push(t.name);
      map.set(t.commit, names);
    }
    return map;
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
