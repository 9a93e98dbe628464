/**
 * The command line: parses argv with yargs, calls one core function per command, renders the
 * result. Returns the exit code; only main.ts calls process.exit.
 *
 * Exit codes: 0 success; 1 a difference was found (status, verify, diff --exit-code);
 * 2 an error (bad arguments, unreachable server, corrupt snapshot ...); 130 interrupted.
 */
import yargs from 'yargs';
import * as defaultCore from '../core/index.js';
import { environmentError } from '../errors/environment.js';
import { isDbsnapError, type ErrorCode } from '../errors/index.js';
import { redactKnown, redactText } from '../mongo/uri.js';
import { commands } from './commands/index.js';
import type { CliContext, Core } from './context.js';
import type { CliIO } from './io.js';
import { paint } from './io.js';
import { colourSequences, printable, printableOutput } from './printable.js';

export const EXIT = { ok: 0, difference: 1, error: 2, interrupted: 130 } as const;

export const EPILOGUE = [
  'Exit codes: 0 success, 1 a difference was found (status, verify),',
  '2 error, 130 interrupted. With --json, an error is printed on stdout as',
  '{"error": {"code": "E...", "message": "..."}} (codes: see the README).',
  'Environment: MONGODB_URI, DBSNAP_REPO, DBSNAP_KEY, NO_COLOR.',
].join('\n');

/** Options whose value is a DURATION: a value that starts with '-' (`--every -5m`) is still their value. */
const DURATION_OPTIONS = new Set(['--every', '--quiet-for', '--retry-after', '--retry-max', '--safety-older-than', '--drills-older-than', '--drill']);

/**
 * `--every -5m` would reach yargs as the flags -5 and -m ("Unknown argument: 5"); joined as
 * `--every=-5m` it reaches the duration check, which names it like any other bad duration.
 */
function joinDashedDurations(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') return [...out, ...argv.slice(i)];
    const next = argv[i + 1];
    if (DURATION_OPTIONS.has(a) && next !== undefined && /^-[\d.]/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else out.push(a);
  }
  return out;
}

export async function runCli(rawArgv: string[], rawIO: CliIO, core: Core = defaultCore): Promise<number> {
  const argv = joinDashedDurations(rawArgv);
  const io = redactingIO(rawIO, knownUris(argv, rawIO.env));
  // --quiet silences every command's normal output in one place; errors still reach stderr.
  const flags = { quiet: false, json: argv.includes('--json') };
  // Control characters in names are escaped in every human line; --json output stays exact.
  const colour = paint(rawIO).level > 0;
  const commandIO: CliIO = {
    ...io,
    stdout: (s) => (flags.quiet ? undefined : io.stdout(flags.json ? colourSequences(s) : printableOutput(s, colour))),
    stderr: (s) => io.stderr(printableOutput(s, colour)),
    terminal: io.stderr,
    ...(io.confirm ? { confirm: (question: string) => io.confirm!(printable(question, { oneLine: true })) } : {}),
  };
  const ctx: CliContext = { io: commandIO, core, exitCode: 0 };
  let failure: unknown;
  let usageError: string | undefined;
  let helpShown = false;
  const debug = argv.includes('--debug');
  const parser = yargs(argv)
    .scriptName('dbsnap')
    .usage('$0 <command> [options]\n\nVersion MongoDB data in git: deterministic, lossless snapshots you can diff, tag and restore.')
    .option('repo', { type: 'string', default: io.env.DBSNAP_REPO || './backup-repo', describe: 'Snapshot repository directory (env DBSNAP_REPO)', global: true })
    .option('uri', { type: 'string', describe: 'MongoDB connection string (env MONGODB_URI)', global: true, default: io.env.MONGODB_URI, defaultDescription: '$MONGODB_URI' })
    .option('db', { type: 'string', describe: 'Database name (default: the one in the URI)', global: true })
    .option('json', { type: 'boolean', default: false, describe: 'Print the result as JSON', global: true })
    .option('quiet', { alias: 'q', type: 'boolean', default: false, describe: 'Print nothing but errors (the exit code tells the result)', global: true })
    .option('debug', { type: 'boolean', default: false, describe: 'Print stack traces on errors', global: true })
    .middleware((a) => {
      flags.quiet = Boolean(a.quiet);
      flags.json = Boolean(a.json);
    })
    .strict()
    .demandCommand(1, 'name a command; dbsnap --help lists them')
    .recommendCommands()
    .epilogue(EPILOGUE)
    .wrap(Math.min(100, process.stdout.columns || 100))
    .exitProcess(false)
    .fail((msg, err) => {
      // yargs' own parse errors (YError: "Not enough arguments following: doc") are usage errors, not bugs.
      if (err && err.name !== 'YError') failure = err;
      else usageError = msg ?? err?.message;
      // Throwing stops yargs from running the command handler after a validation failure.
      throw err ?? new Error(msg);
    })
    .help()
    .alias('h', 'help')
    .version(defaultCore.DBSNAP_VERSION);
  helpOnlyWhenShown(parser);
  for (const factory of commands) {
    const cmd = factory(ctx);
    const name = String([cmd.command].flat()[0]).split(' ')[0]!;
    parser.command(cmd.command, cmd.describe, (y) => cmd.builder(y as never).epilogue(EPILOGUE), async (args) => {
      try {
        await cmd.handler(args);
      } catch (err) {
        failure = environmentError(err, name) ?? err;
      }
    });
  }
  let out = '';
  try {
    await parser.parseAsync(argv, {}, (_err, _argv, output) => {
      if (output) {
        out = output;
        helpShown = true;
      }
    });
  } catch (err) {
    failure ??= err;
  }
  if (out) (usageError || failure ? io.stderr : io.stdout)(out + '\n');
  if (usageError) {
    if (flags.json) printJsonError(io, 'EINVALIDARG', usageError);
    // yargs spreads some messages over lines ("Invalid values:\n  Argument: ..."): one line, readable.
    if (!out) io.stderr(`error: ${printable(usageError.replace(/\s*\n\s*/g, ' '), { oneLine: true })}\n`);
    return EXIT.error;
  }
  if (failure) return reportError(failure, io, debug, flags.json);
  if (helpShown) return EXIT.ok;
  return ctx.exitCode;
}

/**
 * yargs renders a command's whole help text as its handler starts (command.js calls
 * usage.cacheHelpMessage()), so that a showHelp() or a failure after the handler's first await
 * still shows that command's help. dbsnap never shows help once a handler runs (--help and usage
 * errors are settled before, and a handler's error is reported by runCli), so that rendering was
 * pure cost on every run: ~55 ms of string-width and wrap-ansi in a CPU profile of `dbsnap log`.
 * With nothing cached, yargs renders help when it shows it (--help, before any handler): the same
 * text. yargs has no option for this and the usage instance is internal, hence the guarded lookup;
 * should it move, test/cli/help-rendering.test.ts fails.
 */
function helpOnlyWhenShown(parser: object): void {
  const internal = parser as { getInternalMethods?: () => { getUsageInstance?: () => { cacheHelpMessage?: () => void } } };
  const usage = internal.getInternalMethods?.().getUsageInstance?.();
  if (typeof usage?.cacheHelpMessage === 'function') usage.cacheHelpMessage = () => {};
}

/** `{"error": {"code", "message"}}` on stdout, where a script reading --json output looks. */
function printJsonError(io: CliIO, code: ErrorCode, message: string): void {
  io.stdout(JSON.stringify({ error: { code, message } }, null, 2) + '\n');
}

function reportError(err: unknown, io: CliIO, debug: boolean, json: boolean): number {
  const line = oneLineError(err);
  if (json) printJsonError(io, isDbsnapError(err) ? err.code : isFromServer(err) ? 'EMONGO' : 'EINTERNAL', errorText(err));
  io.stderr(line);
  if (debug && (err as Error)?.stack) io.stderr(`${(err as Error).stack}\n`);
  else if ((!isDbsnapError(err) && !isFromServer(err)) || (isDbsnapError(err) && err.code === 'EINTERNAL')) io.stderr('(this looks like a bug in dbsnap; run again with --debug for details)\n');
  if (isDbsnapError(err)) return err.code === 'EINTERRUPTED' ? EXIT.interrupted : err.exitCode;
  return EXIT.error;
}

/** The driver's own errors (server gone, command refused) are the server's word, not a dbsnap bug. */
function isFromServer(err: unknown): boolean {
  return /^Mongo/.test((err as Error)?.name ?? '');
}

/**
 * `error: <first line of the message>`, credentials removed. With `argv` and `env`, the URI the
 * user gave is removed too (for errors caught outside runCli, where no redacting IO exists yet).
 */
export function oneLineError(err: unknown, argv: string[] = [], env: NodeJS.ProcessEnv = {}): string {
  // A name in the message may hold control characters (a newline too): escaped, the line stays one line.
  return `error: ${printable(errorText(err, argv, env), { oneLine: true })}\n`;
}

/** The error's message as --json reports it (exact): dbsnap's own whole, another's first line; credentials removed. */
function errorText(err: unknown, argv: string[] = [], env: NodeJS.ProcessEnv = {}): string {
  const message = isDbsnapError(err) ? err.message : `${isFromServer(err) ? 'MongoDB: ' : ''}${(err as Error)?.message ?? String(err)}`.split('\n')[0]!;
  return redactText(message, ...knownUris(argv, env));
}

/** The connection strings this run may print: --uri (any spelling yargs accepts) and MONGODB_URI. */
function knownUris(argv: string[], env: NodeJS.ProcessEnv): string[] {
  const uris = [env.MONGODB_URI ?? ''];
  argv.forEach((a, i) => {
    if (a === '--uri') uris.push(argv[i + 1] ?? '');
    else if (a.startsWith('--uri=')) uris.push(a.slice('--uri='.length));
  });
  return uris.filter(Boolean);
}

/**
 * Every line dbsnap prints passes one redaction: stderr (messages, driver errors, stack traces)
 * loses any credentials in any `scheme://` string; stdout (which may show documents holding
 * such strings as data) loses the credentials of the URIs in use.
 */
function redactingIO(io: CliIO, uris: string[]): CliIO {
  return {
    ...io,
    stdout: (s) => io.stdout(redactKnown(s, uris)),
    stderr: (s) => io.stderr(redactText(s, ...uris)),
  };
}
