/**
 * Shared by the fault suite: run the real binary (optionally with a file-system fault injected,
 * or killed with SIGKILL after a delay), check a repository with native git, and set up a
 * repository with a test database behind the fault proxy.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { BIN, type CliRun } from '../cli/support.js';
import { useRepositoryAndDatabase } from '../support/temp-repo.js';
import { uriWithDatabase, type TestDatabase } from '../support/test-db.js';
import { startFaultProxy, type FaultProxy } from './proxy.js';

/** Native git, unless DBSNAP_TEST_NO_NATIVE_GIT=1 plays a machine without it. */
export const NATIVE_GIT = !process.env.DBSNAP_TEST_NO_NATIVE_GIT && existsSync('/usr/bin/git') ? '/usr/bin/git' : null;

const INJECT = new URL('./inject-fs.mjs', import.meta.url).pathname;

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** SIGKILL the process this many ms after it starts (undefined: let it finish). */
  killAfterMs?: number;
  /** Make the file system under `path` full (after `afterBytes`) or read-only. */
  fault?: { path: string; errno: 'ENOSPC' | 'EROFS'; afterBytes?: number };
}

export interface FaultRun extends CliRun {
  killed: boolean;
}

/** Runs `dbsnap argv` in a child process, as a user would, with an optional fault. */
export async function runDbsnap(argv: string[], opts: RunOptions = {}): Promise<FaultRun> {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...opts.env };
  const nodeArgs: string[] = [];
  if (opts.fault) {
    nodeArgs.push('--import', INJECT);
    env.DBSNAP_FAULT_PATH = opts.fault.path;
    env.DBSNAP_FAULT_ERRNO = opts.fault.errno;
    env.DBSNAP_FAULT_AFTER_BYTES = String(opts.fault.afterBytes ?? 0);
  }
  const child = spawn(process.execPath, [...nodeArgs, BIN, ...argv], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  let killed = false;
  const killer = opts.killAfterMs !== undefined ? setTimeout(() => ((killed = child.kill('SIGKILL')), undefined), opts.killAfterMs) : undefined;
  const guard = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 137)));
  clearTimeout(killer);
  clearTimeout(guard);
  return { code, stdout, stderr, killed: killed && code === 137 };
}

/** `git --git-dir <repo> <args>`: stdout and stderr together, and whether it exited 0. */
export function git(repo: string, args: string[]): { ok: boolean; out: string } {
  try {
    const out = execFileSync(NATIVE_GIT!, ['--git-dir', repo, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: '/nonexistent', GIT_CONFIG_NOSYSTEM: '1' } });
    return { ok: true, out };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

/**
 * Native git finds the repository sound: `fsck --full --strict` exits 0 and warns of nothing
 * (no garbage temp files, no dangling-but-broken objects). Returns its output for messages.
 */
export function fsckProblems(repo: string): string {
  if (!NATIVE_GIT) return '';
  const r = git(repo, ['fsck', '--full', '--strict', '--no-dangling']);
  return r.ok && !/warning|error|missing|broken|garbage/i.test(r.out) ? '' : r.out || 'git fsck failed';
}

/** The commit a ref points to (native git when there, else the ref file), or '' if none. */
export function revParse(repo: string, ref: string): string {
  if (NATIVE_GIT) {
    const r = git(repo, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]);
    return r.ok ? r.out.trim() : '';
  }
  return '';
}

/** dbsnap's temp files anywhere in the repository (what a killed writer leaves). */
export function tempFiles(repo: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/^tmp_|\.tmp-\d+$/.test(e.name)) out.push(p.slice(repo.length + 1));
    }
  };
  walk(repo);
  return out;
}

/** A new repository and a test database, with a fault proxy in front of the database. */
export interface ProxiedDatabase {
  dir: string;
  repo: string;
  t: TestDatabase;
  proxy: FaultProxy;
  /** The database's URI through the proxy (direct connection, 2 s server selection, plus `uriOptions`). */
  viaProxy: string;
}

/**
 * Before the file's tests: a repository and the test database `name` (useRepositoryAndDatabase),
 * the proxy in front of the database, then `ready` (load data, first commit ...). After them: the
 * proxy closed, then the database dropped and the directory removed.
 */
export function useProxiedDatabase(name: string, ready: (s: ProxiedDatabase) => Promise<void>, uriOptions = ''): void {
  let s: ProxiedDatabase | undefined;
  useRepositoryAndDatabase(name, async ({ dir, repo, t }) => {
    const proxy = await startFaultProxy(t.uri);
    s = { dir, repo, t, proxy, viaProxy: `${uriWithDatabase(proxy.uri, t.dbName)}?directConnection=true&serverSelectionTimeoutMS=2000${uriOptions}` };
    await ready(s);
  });
  // Registered after the repository's and database's cleanup, so it runs before them.
  afterAll(async () => {
    await s?.proxy.close();
  });
}
