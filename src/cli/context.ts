/**
 * What every command handler gets: the injected core and IO, the global options, and small
 * argv helpers shared by the commands (lists, the URI, JSON output).
 */
import type { ArgumentsCamelCase, Argv } from 'yargs';
import * as core from '../core/index.js';
import type { CliIO } from './io.js';

/** The core functions the CLI calls (injectable, so tests can check argv -> core call). */
export type Core = typeof core;

export interface CliContext {
  io: CliIO;
  core: Core;
  /** Set by a command; the entry point exits with it. */
  exitCode: number;
}

export interface GlobalArgs {
  repo: string;
  uri?: string;
  db?: string;
  json: boolean;
  quiet: boolean;
  debug: boolean;
}

/** One command as written: the handler's argv is exactly what its builder declares (camelCase too). */
export interface CommandSpec<A> {
  command: string | string[];
  describe: string;
  builder: (y: Argv<GlobalArgs>) => Argv<A>;
  handler: (args: ArgumentsCamelCase<A>) => Promise<void>;
}

/** One command as run.ts registers it with yargs (its argv type erased by defineCommand). */
export type Command = CommandSpec<GlobalArgs>;

export type CommandFactory = (ctx: CliContext) => Command;

/**
 * Declares a command so that its handler sees the argv type its builder produces: an option
 * renamed or dropped in the builder while the handler still reads it does not compile
 * (test/cli/argv-types.ts holds the proof, checked by npm run typecheck).
 */
export function defineCommand<A>(spec: CommandSpec<A>): Command {
  // yargs hands each handler the argv its own builder parsed; only the registry forgets the type.
  return spec as unknown as Command;
}

/**
 * Names given as `a,b` or repeated flags. Given but naming nothing (`''`, `,`) is an error,
 * never "no filter": `--collections ''` must not mean every collection.
 */
export function listArg(v: unknown, flag = '--collections'): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  const items = (Array.isArray(v) ? v : [v]).flatMap((x) => String(x).split(',')).map((s) => s.trim()).filter(Boolean);
  if (!items.length) {
    throw new core.InvalidArgumentError(`${flag} ${JSON.stringify(String(v))} names nothing; give one or more names (a,b) or leave ${flag} out.`, { flag });
  }
  return items;
}

export function requireUri(args: GlobalArgs): string {
  if (!args.uri) {
    throw new core.InvalidArgumentError('no MongoDB URI: pass --uri mongodb://host/db or set MONGODB_URI.');
  }
  return args.uri;
}

export function printJson(ctx: CliContext, value: unknown): void {
  ctx.io.stdout(JSON.stringify(value, null, 2) + '\n');
}

/** The HTTPS token from the environment (DBSNAP_GIT_TOKEN, else GIT_TOKEN); never printed. */
export function gitToken(env: NodeJS.ProcessEnv): string | undefined {
  return env.DBSNAP_GIT_TOKEN || env.GIT_TOKEN || undefined;
}

/** Bytes as a person reads them: 512 B, 3.4 KiB, 12.0 MiB. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/**
 * `--server-hashes` / `--change-streams`: how commit, status, diff, watch and run may learn which
 * collections are unchanged without reading them (src/core/unchanged-collections.ts).
 */
export function detectionOptions<T>(y: Argv<T>) {
  return y
    .option('server-hashes', {
      type: 'boolean',
      describe: 'Let dbHash skip unchanged collections (it blocks writes while it runs); default: only on a server on this machine, or serverHashes in dbsnap.json',
    })
    .option('change-streams', {
      type: 'boolean',
      default: true,
      describe: 'On a replica set or sharded cluster, a change stream since the last commit tells which collections changed (--no-change-streams: never)',
    });
}

/** The core options of detectionOptions' flags. */
export function detectionArgs(args: { serverHashes?: boolean; changeStreams?: boolean }): { useServerHashes?: boolean; useChangeStreams?: boolean } {
  return {
    ...(args.serverHashes !== undefined ? { useServerHashes: args.serverHashes } : {}),
    ...(args.changeStreams === false ? { useChangeStreams: false } : {}),
  };
}

/** One line for a person: how unchanged collections were recognised ('' when not reported). */
export function describeDetection(d: { method: string; detail: string } | undefined): string {
  if (!d) return '';
  const name = d.method === 'change-stream' ? 'change stream' : d.method === 'server-hashes' ? 'server hashes' : 'full read';
  return `change detection: ${name} (${d.detail})`;
}
