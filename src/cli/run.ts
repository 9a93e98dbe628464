/**
 * The command line: parses argv with yargs, calls one core function per command, renders the
 * result. Returns the exit code; only main.ts calls process.exit.
 *
 * Exit codes: 0 success; 1 a difference was found (status, verify, diff --exit-code);
 * 2 an error (bad arguments, unreachable server, corrupt snapshot ...); 130 interrupted.
 */
import yargs from 'yargs';
import * as defaultCore from '../core/index.js';
import { isDbsnapError, type ErrorCode } from '../errors/index.js';
import { redactUri } from '../mongo/uri.js';
import { commands } from './commands/index.js';
import type { CliContext, Core } from './context.js';
import type { CliIO } from './io.js';

export const EXIT = { ok: 0, difference: 1, error: 2, interrupted: 130 } as const;

export const EPILOGUE = [
  'Exit codes: 0 success, 1 a difference was found (status, verify),',
  '2 error, 130 interrupted. With --json, an error is printed on stdout as',
  '{"error": {"code": "E...", "message": "..."}} (codes: see the README).',
  'Environment: MONGODB_URI, DBSNAP_REPO, DBSNAP_KEY, NO_COLOR.',
].join('\n');

export async function runCli(argv: string[], io: CliIO, core: Core = defaultCore): Promise<number> {
  // --quiet silences every command's normal output in one place; errors still reach stderr.
  const flags = { quiet: false, json: argv.includes('--json') };
  const commandIO: CliIO = { ...io, stdout: (s) => (flags.quiet ? undefined : io.stdout(s)) };
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
      if (err) failure = err;
      else usageError = msg;
      // Throwing stops yargs from running the command handler after a validation failure.
      throw err ?? new Error(msg);
    })
    .help()
    .alias('h', 'help')
    .version(defaultCore.DBSNAP_VERSION);
  for (const factory of commands) {
    const cmd = factory(ctx);
    parser.command(cmd.command, cmd.describe, (y) => cmd.builder(y as never).epilogue(EPILOGUE), async (args) => {
      try {
        await cmd.handler(args);
      } catch (err) {
        failure = err;
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
    if (!out) io.stderr(`error: ${usageError}\n`);
    return EXIT.error;
  }
  if (failure) return reportError(failure, io, debug, flags.json);
  if (helpShown) return EXIT.ok;
  return ctx.exitCode;
}

/** `{"error": {"code", "message"}}` on stdout, where a script reading --json output looks. */
function printJsonError(io: CliIO, code: ErrorCode, message: string): void {
  io.stdout(JSON.stringify({ error: { code, message } }, null, 2) + '\n');
}

function reportError(err: unknown, io: CliIO, debug: boolean, json: boolean): number {
  if (isDbsnapError(err)) {
    if (json) printJsonError(io, err.code, err.message);
    io.stderr(`error: ${err.message}\n`);
    if (debug && err.stack) io.stderr(scrub(err.stack) + '\n');
    return err.code === 'EINTERRUPTED' ? EXIT.interrupted : err.exitCode;
  }
  const e = err as Error;
  // The driver's own errors (server gone, command refused) are the server's word, not a dbsnap bug.
  const fromServer = /^Mongo/.test(e?.name ?? '');
  const message = `${fromServer ? 'MongoDB: ' : ''}${scrub((e?.message ?? String(err)).split('\n')[0]!)}`;
  if (json) printJsonError(io, fromServer ? 'EMONGO' : 'EINTERNAL', message);
  io.stderr(`error: ${message}\n`);
  if (debug && e?.stack) io.stderr(scrub(e.stack) + '\n');
  else if (!fromServer) io.stderr('(this looks like a bug in dbsnap; run again with --debug for details)\n');
  return EXIT.error;
}

/** Errors from libraries may quote a connection string: never let credentials through. */
function scrub(s: string): string {
  return s.replace(/mongodb(\+srv)?:\/\/[^\s'"]+/g, (u) => redactUri(u));
}
