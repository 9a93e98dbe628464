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
