import type { CliIO } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/run.js';
import type { Core } from '../../src/cli/context.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with captured output (no terminal: no colour, no progress). */
export async function cli(argv: string[], opts: { env?: NodeJS.ProcessEnv; core?: Core; isTTY?: boolean } = {}): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    env: { ...(opts.env ?? {}) },
    isTTY: opts.isTTY ?? false,
  };
  const code = await runCli(argv, io, opts.core);
  return { code, stdout, stderr };
}

/** The real built executable (npm test builds dist/ first). */
export const BIN = new URL('../../bin/dbsnap.js', import.meta.url).pathname;

/**
 * Runs the built `dbsnap` binary as a user would, in a child process, with exactly `env` on top
 * of PATH/HOME (no MONGODB_URI or DBSNAP_* leaks in from the test runner). The one helper for
 * that in the test suite; a run longer than `timeoutMs` (default 2 min) is killed and returns 128.
 */
export async function dbsnap(
  argv: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<CliRun> {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [BIN, ...argv], {
    cwd: opts.cwd,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (c, signal) => resolve(c ?? (signal ? 128 : -1)));
  });
  clearTimeout(timer);
  return { code, stdout, stderr };
}
