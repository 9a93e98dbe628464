/** `dbsnap watch`: argv -> core watch() (schedule, cron, change stream or once) -> one line per tick. */
import { housekeeping } from '../../core/housekeeping.js';
import { checkCron, parseDuration } from '../../core/schedule.js';
import type { WatchTick } from '../../core/watch.js';
import { InvalidArgumentError } from '../../errors/index.js';
import type { CommandFactory } from '../context.js';
import { defineCommand, detectionArgs, detectionOptions, gitToken, listArg, requireUri } from '../context.js';
import { paint } from '../io.js';
import { keyMaterial } from '../key-material.js';

export const watchCommand: CommandFactory = (ctx) => defineCommand({
  command: 'watch',
  describe: 'Commit on a schedule (--every, --cron), after writes (--on-change) or once; runs until stopped',
  builder: (y) =>
    detectionOptions(y)
      .option('every', { type: 'string', describe: 'Commit every DURATION (30s, 15m, 1h); default 15m, or 1m as the polling interval of --on-change' })
      .option('cron', { type: 'string', describe: 'Commit at the times of a cron expression ("0 * * * *")' })
      .option('timezone', { alias: 'tz', type: 'string', describe: 'Time zone of --cron (IANA name, e.g. Europe/Zurich; default the system one)' })
      .option('once', { type: 'boolean', default: false, describe: 'One tick (commit + housekeeping), then exit: for cron, systemd timers and CI' })
      .option('on-change', { type: 'boolean', default: false, describe: 'Commit after writes: a change stream on a replica set, polling every --every on a standalone server' })
      .option('quiet-for', { type: 'string', default: '30s', describe: 'With --on-change: commit once no write came for this long' })
      .option('message', { alias: 'm', type: 'string', describe: 'Commit message (default: the generated summary)' })
      .option('collections', { type: 'string', describe: 'Only these collections (a,b)' })
      .option('exclude', { type: 'string', describe: 'Not these collections (x,y)' })
      .option('push', { type: 'boolean', default: false, describe: 'Push to every configured remote after each commit (HTTPS token: DBSNAP_GIT_TOKEN or GIT_TOKEN)' })
      .option('gc-every', { type: 'number', describe: 'Pack the repository (dbsnap gc) every N commits' })
      .option('drill', { type: 'string', describe: 'Restore drill of HEAD when the last one is older than this: daily, weekly or a DURATION' })
      .option('safety-older-than', { type: 'string', describe: 'Housekeeping: delete safety snapshots older than DURATION (30d)' })
      .option('drills-older-than', { type: 'string', describe: 'Housekeeping: forget drill results older than DURATION' })
      .option('retry-after', { type: 'string', default: '5s', describe: 'First wait after a failing tick (doubles up to --retry-max)' })
      .option('retry-max', { type: 'string', default: '5m', describe: 'Longest wait between retries' })
      .option('key-file', { type: 'string', describe: 'File holding the key for sensitive fields (else DBSNAP_KEY)' })
      .example('$0 watch --every 15m', 'a snapshot every 15 minutes (none when nothing changed)')
      .example('$0 watch --cron "0 * * * *" --tz Europe/Zurich --safety-older-than 30d', 'hourly, with housekeeping')
      .example('$0 watch --on-change --quiet-for 1m', 'after writes settle')
      .example('$0 watch --once --json', 'one tick from a cron job or CI'),
  handler: async (args) => {
    const core = ctx.core;
    const exclusive = [args.every !== undefined && !args.onChange, args.cron !== undefined, args.once].filter(Boolean).length;
    if (exclusive > 1) throw new InvalidArgumentError('choose one of --every, --cron and --once.');
    if (args.timezone && !args.cron) throw new InvalidArgumentError('--timezone applies to --cron only.');
    const schedule = args.once
      ? ({ kind: 'once' } as const)
      : args.cron
        ? ({ kind: 'cron', expression: args.cron, ...(args.timezone ? { timezone: args.timezone } : {}) } as const)
        : ({ kind: 'every', ms: parseDuration(args.every ?? (args.onChange ? '1m' : '15m'), '--every') } as const);
    if (schedule.kind === 'cron') checkCron(schedule.expression, schedule.timezone);
    if (args.gcEvery !== undefined && !(Number.isInteger(args.gcEvery) && args.gcEvery > 0)) {
      throw new InvalidArgumentError(`--gc-every takes a number of commits (1 or more), not "${args.gcEvery}".`);
    }
    const token = gitToken(ctx.io.env);
    const uri = requireUri(args);
    const key = keyMaterial(args, ctx.io.env);
    const prune = {
      safetyOlderThanMs: args.safetyOlderThan ? parseDuration(args.safetyOlderThan, '--safety-older-than') : undefined,
      drillsOlderThanMs: args.drillsOlderThan ? parseDuration(args.drillsOlderThan, '--drills-older-than') : undefined,
    };
    const drillEveryMs = args.drill ? parseDuration(({ daily: '1d', weekly: '7d', hourly: '1h' } as Record<string, string>)[args.drill] ?? args.drill, '--drill') : undefined;
    const c = paint(ctx.io);
    const r = await core.watch({
      repo: args.repo,
      uri,
      db: args.db,
      key,
      message: args.message,
      collections: listArg(args.collections),
      exclude: listArg(args.exclude),
      ...detectionArgs(args),
      schedule,
      ...(args.onChange ? { onChange: { quietForMs: parseDuration(args.quietFor, '--quiet-for') } } : {}),
      backoff: { initialMs: parseDuration(args.retryAfter, '--retry-after'), maxMs: parseDuration(args.retryMax, '--retry-max') },
      housekeeping: {
        ...(args.gcEvery ? { gcEveryCommits: args.gcEvery, gc: () => core.gc({ repo: args.repo }) } : {}),
        ...(args.push
          ? {
              push: async () =>
                (await core.push({ repo: args.repo, all: true, token })).remotes.map((r) => ({ remote: r.remote, ok: r.status !== 'failed', ...(r.error ? { error: r.error.message } : {}) })),
            }
          : {}),
        after: (now) => housekeeping({ repo: args.repo, uri, db: args.db, key, now, ...prune, drillEveryMs }),
      },
      onTick: (t) => {
        if (args.json) ctx.io.stdout(JSON.stringify(t) + '\n');
        else if (!args.quiet || !t.ok) (t.ok ? ctx.io.stdout : ctx.io.stderr)(tickLine(t, c) + '\n');
      },
      signal: ctx.io.signal,
    });
    if (!args.json && !args.quiet && !args.once) ctx.io.stderr(`stopped after ${r.ticks} tick${r.ticks === 1 ? '' : 's'}: ${r.commits} commit${r.commits === 1 ? '' : 's'}, ${r.failures} failed\n`);
  },
});

/** One line per tick: time, what happened, documents, duration, push results, housekeeping. */
export function tickLine(t: WatchTick, c = paint({ stdout: () => {}, stderr: () => {}, env: {}, isTTY: false })): string {
  if (!t.ok) {
    // --once does not retry: no "retrying in" for it.
    return `${t.time} ${c.red('failed')}: ${t.error}${t.retryInMs === undefined ? '' : `; retrying in ${seconds(t.retryInMs)} (${t.failures} in a row)`}`;
  }
  const how = t.detection ? ` (${t.detection === 'change-stream' ? 'change stream' : t.detection === 'server-hashes' ? 'server hashes' : 'full read'})` : '';
  const what = `${t.committed ? `committed ${c.yellow(t.commit!.slice(0, 7))}` : 'no change'}${how}`;
  const push = t.push?.length ? `; ${t.push.map((p) => (p.ok ? `pushed ${p.remote}` : `push ${p.remote} failed: ${p.error}`)).join(', ')}` : '';
  const notes = t.housekeeping?.length ? `; ${t.housekeeping.join('; ')}` : '';
  return `${t.time} ${what}, ${t.documents} documents, ${t.durationMs} ms${push}${notes}`;
}

function seconds(ms: number): string {
  return ms >= 60_000 && ms % 60_000 === 0 ? `${ms / 60_000}m` : `${Math.round(ms / 100) / 10}s`;
}
