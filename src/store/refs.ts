/**
 * Refs of a bare repository: loose files under `refs/` plus the `packed-refs` file native
 * git writes on `gc`. Updates follow git's own protocol (create `<ref>.lock` exclusively,
 * write the new value, rename over the ref), so dbsnap and native git exclude each other.
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError, RepositoryLockedError } from '../errors/index.js';
import { ensureDir, FILE_MODE, isErrno } from './files.js';

/** git check-ref-format rules (the basic ones). */
export function checkRefFormat(ref: string): string | null {
  if (ref.length === 0) return 'is empty';
  if (ref === '@') return 'is "@"';
  if (ref.startsWith('/') || ref.endsWith('/')) return 'starts or ends with "/"';
  if (ref.includes('//')) return 'contains "//"';
  if (ref.includes('..')) return 'contains ".."';
  if (ref.includes('@{')) return 'contains "@{"';
  if (ref.endsWith('.')) return 'ends with "."';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x20\x7f~^:?*[\\]/.test(ref)) return 'contains a space, control character or one of ~ ^ : ? * [ \\';
  for (const part of ref.split('/')) {
    if (part.startsWith('.')) return `has a component starting with "." ("${part}")`;
    if (part.endsWith('.lock')) return `has a component ending in ".lock" ("${part}")`;
  }
  return null;
}

/** Throws InvalidArgumentError unless `ref` is a full, well-formed ref under `refs/`. */
export function assertValidRef(ref: string): void {
  const problem = ref.startsWith('refs/') ? checkRefFormat(ref) : 'does not start with "refs/"';
  if (problem) throw new InvalidArgumentError(`invalid ref name "${ref}": it ${problem}.`, { ref });
}

/** Throws InvalidArgumentError unless `name` is usable as a tag name (as `git tag` would accept it). */
export function assertValidTagName(name: string): void {
  const problem = name === ''
    ? 'is empty'
    : name.startsWith('-')
    ? 'starts with "-"'
    : /^(HEAD|FETCH_HEAD|ORIG_HEAD|MERGE_HEAD|@)$/.test(name)
      ? 'is a name git gives its own meaning'
      : /^(refs|heads|tags|remotes)\//.test(name)
        ? `starts with "${name.split('/')[0]}/", which git would read as a ref path, not this tag`
        : /^[0-9a-f]{40}$/i.test(name)
          ? 'is a full commit id, which always names that commit, never the tag'
          : checkRefFormat(`refs/tags/${name}`);
  if (problem) throw new InvalidArgumentError(`invalid tag name "${name}": it ${problem}. Choose another name.`, { tag: name });
}

interface PackedRefs {
  refs: Map<string, string>;
  /** Raw lines, kept so rewriting preserves peeled (`^oid`) lines of other refs. */
  lines: string[];
}

export class RefStore {
  constructor(readonly gitdir: string) {}

  private refPath(ref: string): string {
    return path.join(this.gitdir, ...ref.split('/'));
  }

  private async readPacked(): Promise<PackedRefs> {
    let text: string;
    try {
      text = await fsp.readFile(path.join(this.gitdir, 'packed-refs'), 'utf8');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return { refs: new Map(), lines: [] };
      throw err;
    }
    const refs = new Map<string, string>();
    const lines = text.split('\n').filter((l) => l.length > 0);
    for (const line of lines) {
      if (line.startsWith('#') || line.startsWith('^')) continue;
      const sp = line.indexOf(' ');
      if (sp > 0) refs.set(line.slice(sp + 1), line.slice(0, sp));
    }
    return { refs, lines };
  }

  /** The raw content of a ref: an oid, `ref: <target>` for symbolic refs, or null if absent. */
  private async readRaw(ref: string): Promise<string | null> {
    try {
      return (await fsp.readFile(this.refPath(ref), 'utf8')).trim();
    } catch (err) {
      // EISDIR: `refs/tags` itself; ENOTDIR: a path below a file. Neither is a ref.
      if (!isErrno(err, 'ENOENT') && !isErrno(err, 'EISDIR') && !isErrno(err, 'ENOTDIR')) throw err;
    }
    if (ref === 'HEAD') return null;
    return (await this.readPacked()).refs.get(ref) ?? null;
  }

  /** The oid a ref points to, following symbolic refs; null if it does not exist. */
  async read(ref: string): Promise<string | null> {
    let current = ref;
    for (let depth = 0; depth < 5; depth++) {
      const raw = await this.readRaw(current);
      if (raw === null) return null;
      if (!raw.startsWith('ref: ')) return raw;
      current = raw.slice(5).trim();
    }
    return null;
  }

  /** The ref a symbolic ref (HEAD) names, or null if it holds an oid directly. */
  async readSymbolic(ref: string): Promise<string | null> {
    const raw = await this.readRaw(ref);
    return raw !== null && raw.startsWith('ref: ') ? raw.slice(5).trim() : null;
  }

  /** All refs under `prefix` (loose and packed; loose wins), sorted by name. */
  async list(prefix: string): Promise<{ ref: string; oid: string }[]> {
    const found = new Map<string, string>();
    for (const [ref, oid] of (await this.readPacked()).refs) if (ref.startsWith(prefix)) found.set(ref, oid);
    // Walk the directory that contains the prefix, then filter by the full string prefix.
    const baseDir = prefix.endsWith('/') ? prefix.slice(0, -1) : path.posix.dirname(prefix);
    const walk = async (rel: string): Promise<void> => {
      let entries: import('node:fs').Dirent[];
      try {
        entries = await fsp.readdir(this.refPath(rel), { withFileTypes: true });
      } catch (err) {
        if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return;
        throw err;
      }
      for (const e of entries) {
        const child = `${rel}/${e.name}`;
        if (e.isDirectory()) await walk(child);
        else if (e.isFile() && !e.name.endsWith('.lock') && !e.name.startsWith('tmp_') && child.startsWith(prefix)) {
          const raw = (await fsp.readFile(this.refPath(child), 'utf8')).trim();
          if (/^[0-9a-f]{40}$/.test(raw)) found.set(child, raw);
        }
      }
    };
    await walk(baseDir.startsWith('refs/') ? baseDir : 'refs');
    return [...found]
      .map(([ref, oid]) => ({ ref, oid }))
      .sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
  }

  /**
   * Runs `fn` while holding `<ref>.lock` (git's lock protocol). `fn` receives the current
   * value and returns the new content to write, or null to delete the ref.
   */
  private async withRefLock(ref: string, fn: (current: string | null) => Promise<string | null>): Promise<void> {
    const refFile = this.refPath(ref);
    const lockFile = `${refFile}.lock`;
    await ensureDir(path.dirname(refFile));
    let handle: import('node:fs/promises').FileHandle;
    try {
      handle = await fsp.open(lockFile, 'wx', FILE_MODE);
    } catch (err) {
      if (isErrno(err, 'EEXIST')) {
        throw new RepositoryLockedError(
          `ref ${ref} is being updated by another process (${lockFile} exists). If no dbsnap or git process is running, delete that file and retry.`,
          { ref, lockFile, reason: 'ref-locked' },
        );
      }
      if (isErrno(err, 'ENOTDIR')) throw new InvalidArgumentError(`ref ${ref} conflicts with an existing ref that is a prefix of it.`, { ref });
      throw err;
    }
    let committed = false;
    try {
      const next = await fn(await this.read(ref));
      if (next === null) {
        await handle.close();
        await fsp.rm(refFile, { force: true });
        await this.removePacked(ref);
      } else {
        await handle.writeFile(`${next}\n`);
        await handle.chmod(FILE_MODE);
        await handle.close();
        await fsp.rename(lockFile, refFile);
        committed = true;
      }
    } finally {
      if (!committed) {
        await handle.close().catch(() => undefined);
        await fsp.rm(lockFile, { force: true });
      }
    }
  }

  /**
   * Points `ref` at `oid`. With `expectedOld` (an oid, or null = must not exist) the update
   * is a compare-and-swap: RepositoryLockedError if the ref holds something else.
   */
  async update(ref: string, oid: string, expectedOld?: string | null): Promise<void> {
    await this.withRefLock(ref, async (current) => {
      if (expectedOld !== undefined && current !== expectedOld) {
        throw new RepositoryLockedError(
          `ref ${ref} was changed by another process (expected ${expectedOld ?? 'no ref'}, found ${current ?? 'no ref'}). Retry the operation.`,
          { ref, expected: expectedOld, actual: current, reason: 'ref-moved' },
        );
      }
      return oid;
    });
  }

  /** Points the symbolic ref `name` (HEAD) at the ref `target` (`ref: refs/heads/x`). */
  async updateSymbolic(name: string, target: string): Promise<void> {
    await this.withRefLock(name, async () => `ref: ${target}`);
  }

  /** Deletes `ref`; returns false if it did not exist. */
  async delete(ref: string): Promise<boolean> {
    let existed = false;
    await this.withRefLock(ref, async (current) => {
      existed = current !== null;
      return null;
    });
    return existed;
  }

  private async removePacked(ref: string): Promise<void> {
    const packed = await this.readPacked();
    if (!packed.refs.has(ref)) return;
    const packedFile = path.join(this.gitdir, 'packed-refs');
    const lockFile = `${packedFile}.lock`;
    let handle: import('node:fs/promises').FileHandle;
    try {
      handle = await fsp.open(lockFile, 'wx', FILE_MODE);
    } catch (err) {
      if (isErrno(err, 'EEXIST')) {
        throw new RepositoryLockedError(`packed-refs is being rewritten by another process (${lockFile} exists). If no git process is running, delete that file and retry.`, { lockFile, reason: 'ref-locked' });
      }
      throw err;
    }
    try {
      const kept: string[] = [];
      let skipPeel = false;
      for (const line of packed.lines) {
        if (line.startsWith('^')) {
          if (!skipPeel) kept.push(line);
          continue;
        }
        skipPeel = !line.startsWith('#') && line.slice(line.indexOf(' ') + 1) === ref;
        if (!skipPeel) kept.push(line);
      }
      await handle.writeFile(kept.map((l) => `${l}\n`).join(''));
      await handle.chmod(FILE_MODE);
      await handle.close();
      await fsp.rename(lockFile, packedFile);
    } catch (err) {
      await handle.close().catch(() => undefined);
      await fsp.rm(lockFile, { force: true });
      throw err;
    }
  }
}
