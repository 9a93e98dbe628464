/**
 * The checked-out files of a non-bare repository (a reviewer's `git clone`, a CI checkout).
 * When dbsnap moves the checked-out branch, the index and the files must move with it, or
 * native git shows the previous snapshot as staged changes and `git commit -a` would revert the
 * data. Only the paths whose blob changed are written; everything else keeps its index entry
 * (and its stat data, so `git status` stays fast).
 *
 * The index is locked with git's own `index.lock` for the whole move, so dbsnap and native git
 * exclude each other exactly as two git processes do.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { RepositoryLockedError, WorkTreeDirtyError } from '../errors/index.js';
import { isErrno } from './files.js';
import { entryFromStat, formatIndex, parseIndex, type IndexEntry } from './git-index.js';
import { hashObject } from './objects.js';

/** One uncommitted change in the work tree or the index. */
export interface LocalChange {
  path: string;
  kind: 'modified' | 'deleted' | 'staged' | 'unmerged' | 'untracked';
}

/** Path -> blob id, as SnapshotRepository.listFiles returns it. */
export type FileMap = Map<string, string>;

interface IndexState {
  entries: IndexEntry[];
  /** mtime of the index file in ns; files modified at or after it are "racily clean" and hashed. */
  mtimeNs: bigint;
}

export interface IndexLock {
  release(): Promise<void>;
  /** Writes the new index into the lock file and renames it over the index (releases the lock). */
  commit(entries: IndexEntry[]): Promise<void>;
}

export class WorkTree {
  private constructor(
    readonly root: string,
    readonly gitdir: string,
  ) {}

  /**
   * The work tree of `gitdir`, or null for a bare repository: a `.git` directory whose config
   * does not say `bare = true` has its work tree in the parent directory; `core.worktree`
   * moves it elsewhere.
   */
  static async find(gitdir: string): Promise<WorkTree | null> {
    let config = '';
    try {
      config = await fsp.readFile(path.join(gitdir, 'config'), 'utf8');
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
    const core = /^\s*\[core\]([^[]*)/m.exec(config)?.[1] ?? '';
    const value = (key: string) => new RegExp(`^\\s*${key}\\s*=\\s*(.*?)\\s*$`, 'mi').exec(core)?.[1];
    if (/^(true|yes|on|1)$/i.test(value('bare') ?? '')) return null;
    const worktree = value('worktree');
    if (worktree) return new WorkTree(path.resolve(gitdir, worktree), gitdir);
    if (path.basename(gitdir) === '.git') return new WorkTree(path.dirname(gitdir), gitdir);
    return null;
  }

  private get indexFile(): string {
    return path.join(this.gitdir, 'index');
  }

  /** Takes `index.lock` (git's protocol). @throws RepositoryLockedError while git holds it. */
  async lock(): Promise<IndexLock> {
    const lockFile = `${this.indexFile}.lock`;
    let handle: import('node:fs/promises').FileHandle;
    try {
      handle = await fsp.open(lockFile, 'wx', 0o644);
    } catch (err) {
      if (isErrno(err, 'EEXIST')) {
        throw new RepositoryLockedError(
          `the index of ${this.root} is locked by another process (${lockFile} exists). If no git process is running, delete that file and retry.`,
          { lockFile, reason: 'index-locked' },
        );
      }
      throw err;
    }
    let done = false;
    return {
      release: async () => {
        if (done) return;
        done = true;
        await handle.close().catch(() => undefined);
        await fsp.rm(lockFile, { force: true });
      },
      commit: async (entries) => {
        try {
          await handle.writeFile(formatIndex(entries));
          await handle.close();
          await fsp.rename(lockFile, this.indexFile);
          done = true;
        } catch (err) {
          done = true;
          await handle.close().catch(() => undefined);
          await fsp.rm(lockFile, { force: true });
          throw err;
        }
      },
    };
  }

  /** The current index, or null when there is none (a `--no-checkout` clone, a fresh `git init`). */
  async readIndex(): Promise<IndexState | null> {
    let buf: Buffer;
    let st: import('node:fs').BigIntStats;
    try {
      [buf, st] = await Promise.all([fsp.readFile(this.indexFile), fsp.stat(this.indexFile, { bigint: true })]);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return null;
      throw err;
    }
    return { entries: parseIndex(buf, this.indexFile), mtimeNs: st.mtimeNs };
  }

  private abs(p: string): string {
    return path.join(this.root, ...p.split('/'));
  }

  /** The blob id of the work-tree file at `p` as it is now, or null if it is missing. */
  private async hashFile(p: string, mode: number): Promise<string | null> {
    try {
      if (mode === 0o120000) return hashObject('blob', Buffer.from(await fsp.readlink(this.abs(p))));
      return hashObject('blob', await fsp.readFile(this.abs(p)));
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR') || isErrno(err, 'EISDIR')) return null;
      throw err;
    }
  }

  /** True when the file still is what the index entry recorded (stat first, content when unsure). */
  private async matchesEntry(e: IndexEntry, indexMtimeNs: bigint): Promise<boolean | 'deleted'> {
    if (e.mode === 0o160000) return true; // a submodule: not ours to check
    let st: import('node:fs').BigIntStats;
    try {
      st = await fsp.lstat(this.abs(e.path), { bigint: true });
    } catch (err) {
      if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return 'deleted';
      throw err;
    }
    if (st.isDirectory()) return 'deleted';
    const mtimeNs = st.mtimeNs;
    const sameStat =
      Number(st.size & 0xffffffffn) === e.size &&
      Number((mtimeNs / 1_000_000_000n) & 0xffffffffn) === e.mtimeS &&
      Number(mtimeNs % 1_000_000_000n) === e.mtimeNs &&
      Number(st.ino & 0xffffffffn) === e.ino;
    // "Racy git": a file changed in the same instant the index was written looks unchanged by stat.
    if (sameStat && mtimeNs < indexMtimeNs) return true;
    return (await this.hashFile(e.path, e.mode)) === e.oid;
  }

  /**
   * Uncommitted changes to tracked files (staged or not) relative to `head`, plus untracked
   * files at paths that `next` would write with other content.
   */
  async localChanges(index: IndexState | null, head: FileMap, next: FileMap): Promise<LocalChange[]> {
    const out: LocalChange[] = [];
    const entries = index?.entries ?? [];
    const staged = new Map<string, IndexEntry>();
    for (const e of entries) {
      if (e.stage !== 0) out.push({ path: e.path, kind: 'unmerged' });
      else staged.set(e.path, e);
    }
    for (const [p, oid] of head) {
      const e = staged.get(p);
      if (!e || e.oid !== oid) out.push({ path: p, kind: 'staged' });
    }
    for (const p of staged.keys()) if (!head.has(p)) out.push({ path: p, kind: 'staged' });
    const checks = await mapLimit([...staged.values()], 16, async (e) => [e, await this.matchesEntry(e, index!.mtimeNs)] as const);
    for (const [e, ok] of checks) {
      if (ok === 'deleted') out.push({ path: e.path, kind: 'deleted' });
      else if (!ok) out.push({ path: e.path, kind: 'modified' });
    }
    const incoming = [...next].filter(([p, oid]) => !head.has(p) && !staged.has(p));
    const untracked = await mapLimit(incoming, 16, async ([p, oid]) => {
      const found = await this.hashFile(p, 0o100644);
      return found !== null && found !== oid ? p : null;
    });
    for (const p of untracked) if (p) out.push({ path: p, kind: 'untracked' });
    const seen = new Set<string>();
    return out.filter((c) => (seen.has(c.path) ? false : (seen.add(c.path), true))).sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  /** Throws WorkTreeDirtyError naming the changes, if there are any. */
  assertClean(changes: LocalChange[], what: string): void {
    if (changes.length === 0) return;
    const shown = changes.slice(0, 10).map((c) => `${c.path} (${c.kind === 'untracked' ? 'untracked, would be overwritten' : c.kind})`);
    const more = changes.length > 10 ? `, and ${changes.length - 10} more` : '';
    throw new WorkTreeDirtyError(
      `${what}: the work tree of ${this.root} (checked out, so it moves with its branch) has uncommitted changes: ${shown.join(', ')}${more}. ` +
        'Nothing was changed. dbsnap snapshots the database, not these files: commit them with git, or discard them ' +
        '(`git stash -u`, or `git checkout -- .` and `git clean`), then retry.',
      { root: this.root, changes },
    );
  }

  /**
   * Moves the files and the index from `head` to `next`: removes and writes only the paths whose
   * blob differs and rewrites the index (held by `lock`). Entries of unchanged paths keep their
   * stat data.
   */
  async checkout(
    index: IndexState | null,
    head: FileMap,
    next: FileMap,
    readBlob: (oid: string) => Promise<Buffer>,
    lock: IndexLock,
  ): Promise<{ written: number; removed: number }> {
    const entries = new Map<string, IndexEntry>();
    for (const e of index?.entries ?? []) if (e.stage === 0) entries.set(e.path, e);
    let removed = 0;
    for (const p of head.keys()) {
      if (next.has(p)) continue;
      await fsp.rm(this.abs(p), { force: true });
      entries.delete(p);
      await this.pruneEmptyDirs(path.dirname(this.abs(p)));
      removed++;
    }
    const changed = [...next].filter(([p, oid]) => head.get(p) !== oid || !entries.has(p) || entries.get(p)!.oid !== oid);
    const written = await mapLimit(changed, 8, async ([p, oid]) => {
      const file = this.abs(p);
      await fsp.mkdir(path.dirname(file), { recursive: true });
      // Through a temp file, so a reader (or a crash) never sees half a part.
      const tmp = path.join(path.dirname(file), `.dbsnap-tmp-${process.pid}-${path.basename(file)}`);
      await fsp.writeFile(tmp, await readBlob(oid));
      await fsp.rename(tmp, file).catch(async (err: unknown) => {
        if (!isErrno(err, 'EISDIR')) throw err;
        // A directory stands where the file goes (a path that changed from directory to file).
        await fsp.rm(file, { recursive: true, force: true });
        await fsp.rename(tmp, file);
      });
      return entryFromStat(p, oid, await fsp.lstat(file, { bigint: true }));
    });
    for (const e of written) entries.set(e.path, e);
    await lock.commit([...entries.values()]);
    return { written: written.length, removed };
  }

  private async pruneEmptyDirs(dir: string): Promise<void> {
    while (dir.startsWith(this.root + path.sep) && dir !== this.root) {
      try {
        await fsp.rmdir(dir);
      } catch (err) {
        if (isErrno(err, 'ENOTEMPTY') || isErrno(err, 'EEXIST') || isErrno(err, 'ENOENT')) return;
        throw err;
      }
      dir = path.dirname(dir);
    }
  }
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping the order of the results. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
