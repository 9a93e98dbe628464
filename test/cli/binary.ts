/** Runs the built `dbsnap` binary (bin/dbsnap.js -> dist/) as a user would, output captured. */
import { execFile } from 'node:child_process';
import type { CliRun } from './support.js';

export const BIN = new URL('../../bin/dbsnap.js', import.meta.url).pathname;

/** The binary with `args`; no terminal, NO_COLOR unset unless given. Never rejects: the exit code is in the result. */
export function dbsnapBinary(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliRun> {
  return new Promise((resolve) => {
    const env = { ...process.env, MONGODB_URI: '', DBSNAP_REPO: '', DBSNAP_KEY: '', ...opts.env };
    execFile(process.execPath, [BIN, ...args], { cwd: opts.cwd, env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, stdout, stderr });
    });
  });
}
