/**
 * What the CLI writes to and reads from: injected so tests can run the CLI in-process and
 * capture output exactly.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import { COLOUR_MARK, printable } from './printable.js';

export interface CliIO {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: NodeJS.ProcessEnv;
  /** stdout and stderr are terminals (colour only then). */
  isTTY: boolean;
  /** Width of the terminal, for progress bars (absent: the bars assume 80). */
  columns?: number;

  /** stderr is a terminal: progress is drawn there even when stdout is redirected, as git does. */
  stderrIsTTY?: boolean;
  /** Ask a yes/no question on the terminal; undefined when there is no terminal to ask on. */
  confirm?: (question: string) => Promise<boolean>;
  /** Aborted on Ctrl-C. */
  signal?: AbortSignal;
  /**
   * stderr as it is, for the progress display's cursor control; everything else the commands
   * write passes printable() (control characters in names escaped).
   */
  terminal?: (s: string) => void;
}

/** The colours dbsnap's human output uses. */
export interface Paint {
  /** 0: no colour (a pipe, NO_COLOR); above: colour. */
  level: number;
  green: (text: unknown) => string;
  red: (text: unknown) => string;
  yellow: (text: unknown) => string;
  cyan: (text: unknown) => string;
  dim: (text: unknown) => string;
  bold: (text: unknown) => string;
}

/**
 * chalk's colours, only on a terminal, never with NO_COLOR set or FORCE_COLOR=0. The text is
 * escaped first (printable) and chalk's own escape sequences are written as COLOUR_MARK, which
 * only the output filter (printableOutput) turns back into ESC: so a name holding a colour code
 * of its own can never pass as one of dbsnap's, coloured or not.
 */
export function paint(io: CliIO): Paint {
  const noColor = (io.env.NO_COLOR ?? '') !== '' || io.env.FORCE_COLOR === '0' || io.env.TERM === 'dumb';
  const force = io.env.FORCE_COLOR && io.env.FORCE_COLOR !== '0';
  const chalk = new Chalk({ level: noColor ? 0 : force || io.isTTY ? 1 : 0 });
  const style = (s: ChalkInstance) => (text: unknown) => s(printable(String(text))).replaceAll('\x1b', COLOUR_MARK);
  return { level: chalk.level, green: style(chalk.green), red: style(chalk.red), yellow: style(chalk.yellow), cyan: style(chalk.cyan), dim: style(chalk.dim), bold: style(chalk.bold) };
}

export function processIO(signal?: AbortSignal): CliIO {
  return {
    stdout: writerOf(process.stdout),
    stderr: writerOf(process.stderr),
    env: process.env,
    isTTY: Boolean(process.stdout.isTTY && process.stderr.isTTY),
    columns: process.stderr.columns,

    stderrIsTTY: Boolean(process.stderr.isTTY),
    confirm: process.stdin.isTTY ? askOnTerminal : undefined,
    signal,
  };
}

async function askOnTerminal(question: string): Promise<boolean> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/**
 * A reader that stops early (`dbsnap log | head -1`) closes the pipe: like git, dbsnap then
 * drops the rest of its output quietly instead of dying with an EPIPE stack trace. The command
 * still runs to its end, so its exit code (a difference found, a restore done) stays true.
 */
function writerOf(stream: NodeJS.WriteStream): (s: string) => void {
  let closed = false;
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') closed = true;
    else throw err;
  });
  return (s) => {
    if (!closed) stream.write(s);
  };
}
