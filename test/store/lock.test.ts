import { spawn } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock, SnapshotRepository } from '../../src/store/index.js';

let dir: string;
let lockPath: string;
beforeEach(async () => {
  const tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'dbsnap-lock-'));
  dir = (await SnapshotRepository.init(path.join(tmp, 'repo'))).repo.dir;
  lockPath = path.join(dir, 'dbsnap.lock');
});
afterEach(async () => {
  await fsp.rm(path.dirname(dir), { recursive: true, force: true });
});

/** The pid of a process that has certainly exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' });
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

const writeLock = (info: object) => fsp.writeFile(lockPath, JSON.stringify(info));

describe('acquireLock', () => {
  it('creates a private lock file naming this process, and a second acquire fails with ELOCKED', async () => {
    const lock = await acquireLock(dir, 'commit');
    const info = JSON.parse(await fsp.readFile(lockPath, 'utf8'));
    expect(info).toMatchObject({ pid: process.pid, host: os.hostname(), operation: 'commit' });
    expect(Number.isNaN(Date.parse(info.started))).toBe(false);
    expect((await fsp.stat(lockPath)).mode & 0o777).toBe(0o600);

    const err = await acquireLock(dir, 'restore').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ELOCKED', data: { pid: process.pid, lockFile: lockPath, operation: 'commit' } });
    expect((err as Error).message).toContain(String(process.pid));
    expect((err as Error).message).toContain(lockPath);

    await lock.release();
    await lock.release(); // idempotent
    await expect(fsp.stat(lockPath)).rejects.toMatchObject({ code: 'ENOENT' });
    const again = await acquireLock(dir, 'restore');
    await again.release();
    expect((await fsp.readdir(dir)).filter((n) => n.includes('lock'))).toEqual([]);
  });

  it('takes over a stale lock left by a dead process on this host', async () => {
    const pid = await deadPid();
    await writeLock({ pid, host: os.hostname(), started: '2024-01-01T00:00:00.000Z', operation: 'commit', token: 'old' });
    const lock = await acquireLock(dir, 'commit');
    expect(JSON.parse(await fsp.readFile(lockPath, 'utf8'))).toMatchObject({ pid: process.pid });
    await lock.release();
  });

  it('taking over a dead commit\'s lock removes the temp pack and index it left in objects/pack, keeping those of live processes', async () => {
    const pid = await deadPid();
    await writeLock({ pid, host: os.hostname(), started: '2024-01-01T00:00:00.000Z', operation: 'commit', token: 'old' });
    const packDir = path.join(dir, 'objects', 'pack');
    for (const name of [`tmp_pack_${pid}_ab12`, `tmp_idx_${pid}_ab13`, `tmp_pack_${process.ppid}_ab14`]) await fsp.writeFile(path.join(packDir, name), 'partial');
    const lock = await acquireLock(dir, 'commit');
    await lock.release();
    expect((await fsp.readdir(packDir)).sort()).toEqual([`tmp_pack_${process.ppid}_ab14`]);
  });

  it('does not take over a lock held by a live process, one on another host, or an unreadable one', async () => {
    await writeLock({ pid: process.ppid, host: os.hostname(), started: 'x', operation: 'commit', token: 't' });
    await expect(acquireLock(dir, 'commit')).rejects.toMatchObject({ code: 'ELOCKED', data: { pid: process.ppid } });

    const pid = await deadPid();
    await writeLock({ pid, host: 'some-other-host', started: 'x', operation: 'commit', token: 't' });
    const err = await acquireLock(dir, 'commit').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ELOCKED', data: { host: 'some-other-host' } });
    expect((err as Error).message).toContain('some-other-host');

    await fsp.writeFile(lockPath, '{"pid":');
    await expect(acquireLock(dir, 'commit')).rejects.toMatchObject({ code: 'ELOCKED' });
    expect(await fsp.readFile(lockPath, 'utf8')).toBe('{"pid":');
  });

  it('release leaves alone a lock that another process has taken over', async () => {
    const lock = await acquireLock(dir, 'commit');
    await writeLock({ pid: process.ppid, host: os.hostname(), started: 'x', operation: 'restore', token: 'theirs' });
    await lock.release();
    expect(JSON.parse(await fsp.readFile(lockPath, 'utf8'))).toMatchObject({ token: 'theirs' });
  });

  it('fails with ENOREPO when the directory does not exist', async () => {
    await expect(acquireLock(path.join(dir, 'nope'), 'commit')).rejects.toMatchObject({ code: 'ENOREPO' });
  });
});
