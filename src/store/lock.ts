/**
 * The repository lock: one dbsnap process at a time writes to a repository.
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RepositoryLockedError, RepositoryNotFoundError } from '../errors/index.js';
import { isProcessAlive } from '../host/process-alive.js';
import { FILE_MODE, isErrno, removeDeadTempFiles, tempPathFor } from './files.js';

export const LOCK_FILE_NAME = 'dbsnap.lock';

/** What a lock file records about its holder. */
export interface LockInfo {
  pid: number;
  host: string;
  started: string;
  operation: string;
  /** Random per acquisition, so release never removes a lock someone else took over. */
  token: string;
}

/** Locks this process holds now, so an exit on an unexpected error can still remove them. */
const held = new Map<string, string>();

/**
 * Removes every lock this process still holds (synchronously: it runs from an `exit` or
 * `uncaughtException` handler, where nothing asynchronous completes).
 */
export function releaseHeldLocksSync(): void {
  for (const [lockPath, token] of held) {
    try {
      const info = JSON.parse(readFileSync(lockPath, 'utf8')) as LockInfo;
      if (info.token === token) rmSync(lockPath, { force: true });
    } catch {
      // Gone or unreadable: not ours to remove.
    }
  }
  held.clear();
}

export interface RepositoryLock {
  /** Removes the lock file if it is still ours; safe to call twice. */
  release(): Promise<void>;
}

async function readLock(lockPath: string): Promise<{ info: LockInfo | null; raw: string } | null> {
  let raw: string;
  try {
    raw = await fsp.readFile(lockPath, 'utf8');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return null;
    throw err;
  }
  try {
    const info = JSON.parse(raw) as LockInfo;
    return { info: Number.isInteger(info.pid) && typeof info.host === 'string' ? info : null, raw };
  } catch {
    return { info: null, raw };
  }
}

/**
 * Takes the exclusive lock `<dir>/dbsnap.lock` for `operation`.
 *
 * The lock file is written in full to a temp file and then hard-linked into place, so it
 * appears atomically and is never seen half-written. A lock left by a dead process on this
 * host (`process.kill(pid, 0)` fails with ESRCH) is stale and taken over.
 *
 * @throws RepositoryLockedError (ELOCKED) if a live process, or one on another host, holds it.
 * @throws RepositoryNotFoundError (ENOREPO) if `dir` does not exist.
 * @example
 * const lock = await acquireLock('./backup-repo', 'commit');
 * try { ... } finally { await lock.release(); }
 */
export async function acquireLock(dir: string, operation: string): Promise<RepositoryLock> {
  const lockPath = path.join(path.resolve(dir), LOCK_FILE_NAME);
  const info: LockInfo = {
    pid: process.pid,
    host: os.hostname(),
    started: new Date().toISOString(),
    operation,
    token: randomBytes(8).toString('hex'),
  };
  const content = `${JSON.stringify(info, null, 2)}\n`;

  for (let attempt = 0; attempt < 5; attempt++) {
    // Registered before the file can appear, so a crash at any point after still removes it.
    const previous = held.get(lockPath);
    held.set(lockPath, info.token);
    let created = false;
    try {
      created = await tryCreate(lockPath, content);
    } finally {
      if (!created) {
        if (previous === undefined) held.delete(lockPath);
        else held.set(lockPath, previous);
      }
    }
    if (created) {
      return {
        async release() {
          const current = await readLock(lockPath);
          if (current?.info?.token === info.token) await fsp.rm(lockPath, { force: true });
          if (held.get(lockPath) === info.token) held.delete(lockPath);
        },
      };
    }
    const holder = await readLock(lockPath);
    if (holder === null) continue; // released between our attempt and the read
    const h = holder.info;
    const stale = h !== null && h.host === info.host && h.pid !== process.pid && !isProcessAlive(h.pid);
    if (!stale) {
      const who = h
        ? `process ${h.pid} on ${h.host} (${h.operation}, since ${h.started})`
        : 'an unknown process (the lock file is unreadable)';
      const advice =
        h && h.host !== info.host
          ? `dbsnap cannot check processes on ${h.host}; if none is running there, delete ${lockPath} and retry.`
          : `Wait for it to finish, or, if no dbsnap process is running, delete ${lockPath} and retry.`;
      throw new RepositoryLockedError(`the repository at ${path.dirname(lockPath)} is locked by ${who}. ${advice}`, {
        lockFile: lockPath,
        pid: h?.pid,
        host: h?.host,
        operation: h?.operation,
      });
    }
    // Remove the stale lock only if it is still the one we judged stale: another process may
    // have taken it over in between. A process that died holding the lock may have died
    // mid-write too: its temp files are garbage to native git (fsck: "garbage found").
    const again = await readLock(lockPath);
    if (again?.raw === holder.raw) {
      await fsp.rm(lockPath, { force: true });
      await removeDeadTempFiles(path.dirname(lockPath), isProcessAlive);
    }
  }
  throw new RepositoryLockedError(`could not take the lock ${lockPath}: it keeps changing hands. Retry.`, { lockFile: lockPath });
}

async function tryCreate(lockPath: string, content: string): Promise<boolean> {
  const tmp = tempPathFor(lockPath, 'tmp_lock_');
  try {
    await fsp.writeFile(tmp, content, { mode: FILE_MODE, flag: 'wx' });
  } catch (err) {
    if (isErrno(err, 'ENOENT')) {
      throw new RepositoryNotFoundError(`no repository at ${path.dirname(lockPath)}; run \`dbsnap init\` to create one.`, {
        dir: path.dirname(lockPath),
      });
    }
    throw err;
  }
  try {
    await fsp.chmod(tmp, FILE_MODE);
    await fsp.link(tmp, lockPath);
    return true;
  } catch (err) {
    if (isErrno(err, 'EEXIST')) return false;
    if (isErrno(err, 'EPERM') || isErrno(err, 'ENOTSUP') || isErrno(err, 'EOPNOTSUPP')) {
      // Filesystems without hard links: fall back to O_EXCL (a crash mid-write can leave an
      // unreadable lock, which is reported rather than silently taken over).
      try {
        await fsp.writeFile(lockPath, content, { mode: FILE_MODE, flag: 'wx' });
        return true;
      } catch (e) {
        if (isErrno(e, 'EEXIST')) return false;
        throw e;
      }
    }
    throw err;
  } finally {
    await fsp.rm(tmp, { force: true });
  }
}
