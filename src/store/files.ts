/**
 * Small filesystem helpers shared by the store: private permissions that do not depend on
 * the caller's umask, and crash-safe writes (temp file + rename).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';

export const DIR_MODE = 0o700;
export const FILE_MODE = 0o600;

export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}

export async function pathExists(p: string): Promise<boolean> {
  try {
    await fsp.stat(p);
    return true;
  } catch (err) {
    if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) return false;
    throw err;
  }
}

/**
 * Creates `dir` and any missing parents; each directory this call creates gets mode 0700
 * (chmod after mkdir because mkdir's mode is filtered by the umask). Existing directories
 * keep their mode: they may be the user's.
 */
export async function ensureDir(dir: string): Promise<void> {
  const missing: string[] = [];
  let current = path.resolve(dir);
  for (;;) {
    if (await pathExists(current)) break;
    missing.push(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const d of missing.reverse()) {
    try {
      await fsp.mkdir(d);
      await fsp.chmod(d, DIR_MODE);
    } catch (err) {
      // A concurrent writer created it first; it used the same mode.
      if (!isErrno(err, 'EEXIST')) throw err;
    }
  }
}

// One random stem per process plus a counter: as unique as fresh random bytes per file (the pid
// and the stem tell processes apart, the counter files), without a getrandom call per object.
const TEMP_STEM = randomBytes(6).toString('hex');
let tempCounter = 0;

/** A recognisable temp-file name next to `finalPath` (git's gc/fsck tolerate `tmp_obj_*`). */
export function tempPathFor(finalPath: string, prefix = 'tmp_obj_'): string {
  return path.join(path.dirname(finalPath), `${prefix}${process.pid}_${TEMP_STEM}${(tempCounter++).toString(16)}`);
}

/**
 * Has `write` create a temp file next to `finalPath` and renames it into place, so readers never
 * see a partial file and a killed process leaves only the temp file. `write` must create the file
 * with mode FILE_MODE: the umask can only take bits away from 0600, never make it looser, and
 * skipping a chmod per object is measurable when a commit writes thousands of them.
 */
export async function writeViaTemp(finalPath: string, prefix: string, write: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = tempPathFor(finalPath, prefix);
  try {
    await write(tmp);
    await fsp.rename(tmp, finalPath);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
}

/**
 * writeViaTemp for a small file, with synchronous calls: a commit writes thousands of objects of
 * a few kilobytes, and each asynchronous call is a thread-pool round trip (futex wake-ups, an
 * event-loop turn) costing more CPU than the write itself. The temp file is created with `wx` and
 * FILE_MODE, as writeViaTemp's callers do.
 */
export function writeFileViaTempSync(finalPath: string, prefix: string, data: Uint8Array): void {
  const tmp = tempPathFor(finalPath, prefix);
  try {
    fs.writeFileSync(tmp, data, { mode: FILE_MODE, flag: 'wx' });
    fs.renameSync(tmp, finalPath);
  } catch (err) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch {
      // The write's own error says what went wrong; a temp file left behind is removed later.
    }
    throw err;
  }
}

/** Writes `data` to `finalPath` through a temp file (see writeViaTemp). */
export async function writeFileAtomic(finalPath: string, data: Uint8Array | string, prefix = 'tmp_'): Promise<void> {
  await writeViaTemp(finalPath, prefix, (tmp) => fsp.writeFile(tmp, data, { mode: FILE_MODE, flag: 'wx' }));
}

/** Names of dbsnap's temp files; the number is the writer's pid (see tempPathFor). */
const TEMP_NAME = /^(?:tmp_(?:obj_|lock_|pack_|idx_)?(\d+)_[0-9a-f]+|.+\.tmp-(\d+))$/;

/**
 * Removes temp files that a killed dbsnap process left in the repository (`tmp_obj_*` in
 * objects/xx/, a commit's or gc's `tmp_pack_*` and `tmp_idx_*` in objects/pack/, `tmp_lock_*`
 * and `tmp_*` beside HEAD, the hash cache's `*.tmp-PID`), keeping
 * those of processes still alive. Returns how many it removed.
 */
export async function removeDeadTempFiles(gitdir: string, isAlive: (pid: number) => boolean): Promise<number> {
  const dirs = [gitdir, path.join(gitdir, 'objects'), path.join(gitdir, 'objects', 'pack'), path.join(gitdir, 'dbsnap')];
  try {
    for (const e of await fsp.readdir(path.join(gitdir, 'objects'))) if (/^[0-9a-f]{2}$/.test(e)) dirs.push(path.join(gitdir, 'objects', e));
  } catch {
    // No objects directory: nothing to clean there.
  }
  let removed = 0;
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await fsp.readdir(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const m = TEMP_NAME.exec(name);
      if (!m) continue;
      const pid = Number(m[1] ?? m[2]);
      if (pid === process.pid || isAlive(pid)) continue;
      await fsp.rm(path.join(dir, name), { force: true });
      removed++;
    }
  }
  return removed;
}
