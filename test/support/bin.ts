/** Runs the built `dbsnap` binary as a user would (see npm test's pretest build). */
import { spawn } from 'node:child_process';

export const BIN = new URL('../../bin/dbsnap.js', import.meta.url).pathname;

export interface BinRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** `dbsnap args...` in a child process; env is added to a minimal environment (PATH, HOME). */
export function dbsnapBin(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<BinRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}
