/**
 * `dbsnap watch`: commits on a schedule (or after writes settle) for months, unattended. A tick
 * that fails (server down, network gone, disk full, repository locked) is reported and retried
 * with backoff; the watcher never stops on its own. An abort (SIGINT/SIGTERM) lets the running
 * step finish (a commit is not cut short), then returns: commits move HEAD last, so even a
 * kill -9 leaves no half commit, and the lock of a dead process is recognised as stale.
 */
import { InvalidArgumentError } from '../errors/index.js';
import { databaseChangeSource } from '../mongo/change-feed.js';
import { SnapshotRepository } from '../store/index.js';
import type { ChangeCursor } from './change-detection.js';
import { commit, type CommitOptions, type CommitResult } from './commit.js';
import { forwardedCommitOptions } from './forwarded-options.js';
import type { ChangeDetection } from './unchanged-collections.js';
import { backoffMs, DEFAULT_BACKOFF, nextTickAt, type Backoff, type Schedule } from './schedule.js';

export interface WatchClock {
  now(): Date;
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

// Node runs a setTimeout longer than this after 1 ms (TimeoutOverflowWarning): --every 30d
// would tick without pause. Longer waits are slept in pieces.
const MAX_TIMER_MS = 2 ** 31 - 1;

export const systemClock: WatchClock = {
  now: () => new Date(),
  sleep: (ms, signal) =>
    new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const wait = (left: number) => {
        timer = left > MAX_TIMER_MS ? setTimeout(() => wait(left - MAX_TIMER_MS), MAX_TIMER_MS) : setTimeout(done, left);
      };
      wait(ms);
      signal?.addEventListener('abort', done, { once: true });
    }),
};

/** The shortest interval and retry wait watch takes: shorter ones would read the database without pause. */
export const MIN_WAIT_MS = 100;
/** The longest (3650 days): beyond some 270,000 years a JavaScript Date has no next tick at all. */
const MAX_EVERY_MS = 3650 * 86_400_000;

/** Waits for writes on a replica set (see `waitForQuiet`); absent on a standalone server. */
export interface ChangeSource {
  /** A change stream from now, or resumed after `token`. */
  open(token: unknown): Promise<ChangeCursor>;
  close?(): Promise<void>;
}

export interface Housekeeping {
  /** Every this many commits, run `gc` (packs loose objects). */
  gcEveryCommits?: number;
  gc?: () => Promise<unknown>;
  /** After each commit, push to the configured remotes; the result is shown in the tick line. */
  push?: () => Promise<{ remote: string; ok: boolean; error?: string }[]>;
  /** Called after each successful tick: pruning, drills. Returns a short note per job that did something. */
  after?: (now: Date) => Promise<string[]>;
}

export interface WatchOptions
  extends Pick<CommitOptions, 'repo' | 'uri' | 'db' | 'key' | 'useServerHashes' | 'useChangeStreams' | 'collections' | 'exclude' | 'author'> {
  /** Commit message subject (default: the generated summary). */
  message?: string;
  schedule: Schedule;
  /**
   * Commit after writes: on a replica set after `quietForMs` without a write (a change stream);
   * without `changes` (a standalone server) the schedule's interval polls instead.
   */
  onChange?: { quietForMs: number; changes?: ChangeSource | null };
  backoff?: Backoff;
  housekeeping?: Housekeeping;
  onTick: (tick: WatchTick) => void;
  signal?: AbortSignal;
  clock?: WatchClock;
  /** The commit to run (tests inject one). */
  commitSnapshot?: (opts: CommitOptions) => Promise<CommitResult>;
}

export interface WatchTick {
  /** When the tick started (ISO 8601, UTC). */
  time: string;
  ok: boolean;
  /** Why the tick ran: the schedule, a change seen, a retry after a failure. */
  trigger: 'schedule' | 'change' | 'retry' | 'start';
  committed?: boolean;
  commit?: string | null;
  documents?: number;
  /** How unchanged collections were recognised (change stream, server hashes, or a full read). */
  detection?: ChangeDetection['method'];
  durationMs: number;
  push?: { remote: string; ok: boolean; error?: string }[];
  housekeeping?: string[];
  /** The failure, one line (ok: false). */
  error?: string;
  errorCode?: string;
  /** Failures in a row, and the wait before the next try (ok: false). */
  failures?: number;
  retryInMs?: number;
}

export interface WatchResult {
  /** How ticks were triggered: the schedule, a change stream, or polling on the schedule (on-change on a standalone server). */
  mode: 'schedule' | 'change-stream' | 'polling';
  ticks: number;
  commits: number;
  failures: number;
}

/**
 * Runs until `signal` aborts (or after one tick with `{ kind: 'once' }`, which throws that tick's
 * error so a cron job or CI step fails visibly).
 *
 * @example
 * const ac = new AbortController();
 * process.on('SIGTERM', () => ac.abort());
 * await watch({ repo: 'backup-repo', uri, schedule: { kind: 'every', ms: 15 * 60_000 }, onTick: (t) => console.log(t), signal: ac.signal });
 */
export async function watch(opts: WatchOptions): Promise<WatchResult> {
  const clock = opts.clock ?? systemClock;
  const signal = opts.signal;
  const backoff = opts.backoff ?? DEFAULT_BACKOFF;
  const run = opts.commitSnapshot ?? commit;
  // A missing repository is a mistake to report now, not a failure to retry for months.
  await SnapshotRepository.open(opts.repo);
  if (opts.schedule.kind === 'every' && !(opts.schedule.ms >= MIN_WAIT_MS)) {
    throw new InvalidArgumentError(`--every must be at least ${MIN_WAIT_MS}ms, not ${opts.schedule.ms}ms: a shorter interval reads the database without pause.`, { every: opts.schedule.ms });
  }
  if (opts.schedule.kind === 'every' && opts.schedule.ms > MAX_EVERY_MS) {
    throw new InvalidArgumentError(`--every must be at most 3650d, not ${opts.schedule.ms}ms.`, { every: opts.schedule.ms });
  }
  if (!(backoff.initialMs >= MIN_WAIT_MS) || !(backoff.maxMs >= backoff.initialMs)) {
    throw new InvalidArgumentError(`--retry-after must be at least ${MIN_WAIT_MS}ms and --retry-max at least --retry-after (got ${backoff.initialMs}ms and ${backoff.maxMs}ms).`, { ...backoff });
  }
  if (opts.onChange && opts.schedule.kind === 'cron') {
    throw new InvalidArgumentError('--on-change waits for writes; it cannot be combined with --cron (use --every as the polling interval on a standalone server).');
  }
  const result: WatchResult = { mode: 'schedule', ticks: 0, commits: 0, failures: 0 };
  let failures = 0;
  let commitsSinceGc = 0;

  // What the last failed tick threw: --once fails with it, code and data intact.
  let lastError: unknown;
  const tick = async (trigger: WatchTick['trigger']): Promise<WatchTick> => {
    const start = clock.now();
    const t0 = performance.now();
    result.ticks++;
    try {
      // No abort signal: a stop request lets the commit finish (HEAD moves last either way).
      const r = await run({
        ...forwardedCommitOptions(opts),
        collections: opts.collections,
        exclude: opts.exclude,
        author: opts.author,
        message: opts.message,
        now: start,
      });
      failures = 0;
      const out: WatchTick = {
        time: start.toISOString(),
        ok: true,
        trigger,
        committed: r.committed,
        commit: r.commit,
        documents: r.documents,
        ...(r.detection ? { detection: r.detection.method } : {}),
        durationMs: 0,
      };
      if (r.committed) {
        result.commits++;
        commitsSinceGc++;
      }
      const notes = await housekeeping(opts.housekeeping, r.committed, commitsSinceGc, clock.now(), out);
      if (notes.gcRan) commitsSinceGc = 0;
      if (notes.lines.length) out.housekeeping = notes.lines;
      out.durationMs = Math.round(performance.now() - t0);
      return out;
    } catch (err) {
      lastError = err;
      failures++;
      result.failures++;
      const e = err as { message?: string; code?: string };
      return {
        time: start.toISOString(),
        ok: false,
        trigger,
        durationMs: Math.round(performance.now() - t0),
        error: oneLine(err),
        ...(e?.code ? { errorCode: e.code } : {}),
        failures,
        retryInMs: backoffMs(failures, backoff),
      };
    }
  };

  if (opts.schedule.kind === 'once') {
    const t = await tick('start');
    // One tick and no retry: a failed one reports no retry time.
    const { retryInMs: _noRetry, ...once } = t;
    opts.onTick(once);
    if (!t.ok) throw lastError;
    return result;
  }

  /** Runs a tick, and while it fails, reports and retries after backoff. False once aborted. */
  const tickUntilOk = async (trigger: WatchTick['trigger']): Promise<boolean> => {
    for (let t = await tick(trigger); ; t = await tick('retry')) {
      opts.onTick(t);
      if (t.ok) return true;
      await clock.sleep(t.retryInMs!, signal);
      if (signal?.aborted) return false;
    }
  };

  if (opts.onChange) {
    // Whether the server has change streams is known once it answers; until then, retry.
    let source = opts.onChange.changes;
    for (let n = 1; source === undefined && !signal?.aborted; n++) {
      const t0 = clock.now();
      try {
        source = await databaseChangeSource(opts.uri, opts.db);
      } catch (err) {
        const retryInMs = backoffMs(n, backoff);
        opts.onTick({ time: t0.toISOString(), ok: false, trigger: 'start', durationMs: 0, error: oneLine(err), failures: n, retryInMs });
        await clock.sleep(retryInMs, signal);
      }
    }
    result.mode = source ? 'change-stream' : 'polling';
    if (source) {
      try {
        await watchChanges(source, opts.onChange.quietForMs, tickUntilOk, clock, backoff, opts.onTick, signal);
      } finally {
        await source.close?.().catch(() => {});
      }
      return result;
    }
  }

  let lastStart: Date | null = null;
  let first = true;
  while (!signal?.aborted) {
    const due = nextTickAt(opts.schedule, clock.now(), lastStart);
    if (!due) break;
    const wait = due.getTime() - clock.now().getTime();
    if (wait > 0) await clock.sleep(wait, signal);
    if (signal?.aborted) break;
    lastStart = clock.now();
    if (!(await tickUntilOk(first ? 'start' : 'schedule'))) break;
    first = false;
  }
  return result;
}

async function housekeeping(
  h: Housekeeping | undefined,
  committed: boolean,
  commitsSinceGc: number,
  now: Date,
  tick: WatchTick,
): Promise<{ lines: string[]; gcRan: boolean }> {
  const lines: string[] = [];
  let gcRan = false;
  if (!h) return { lines, gcRan };
  // Each job's failure is a note on the tick, never the end of the watcher.
  if (committed && h.push) {
    try {
      tick.push = await h.push();
    } catch (err) {
      tick.push = [{ remote: '*', ok: false, error: oneLine(err) }];
    }
  }
  if (h.gc && h.gcEveryCommits && commitsSinceGc >= h.gcEveryCommits) {
    try {
      await h.gc();
      gcRan = true;
      lines.push('gc: packed');
    } catch (err) {
      lines.push(`gc failed: ${oneLine(err)}`);
    }
  }
  if (h.after) {
    try {
      lines.push(...(await h.after(now)));
    } catch (err) {
      lines.push(`housekeeping failed: ${oneLine(err)}`);
    }
  }
  return { lines, gcRan };
}

/**
 * On-change mode on a replica set: commit once at start (whatever happened while nobody was
 * watching), then after each burst of writes once `quietForMs` passed without one. One commit at
 * a time: writes during a commit are seen by the stream afterwards and lead to the next one. The
 * stream's resume token survives errors, so a reconnect misses nothing.
 */
async function watchChanges(
  source: ChangeSource,
  quietForMs: number,
  tickUntilOk: (trigger: WatchTick['trigger']) => Promise<boolean>,
  clock: WatchClock,
  backoff: Backoff,
  report: (t: WatchTick) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  let token: unknown = null;
  let cursor: ChangeCursor | null = null;
  let failures = 0;
  let pending = true;
  let trigger: WatchTick['trigger'] = 'start';
  try {
    while (!signal?.aborted) {
      if (pending) {
        if (!(await tickUntilOk(trigger))) return;
        pending = false;
      }
      try {
        cursor ??= await source.open(token);
        const seen = await waitForQuiet(cursor, quietForMs, clock, signal, (t) => (token = t));
        failures = 0;
        if (seen === 'aborted') return;
        pending = true;
        trigger = 'change';
      } catch (err) {
        failures++;
        await cursor?.close().catch(() => {});
        cursor = null;
        const retryInMs = backoffMs(failures, backoff);
        report({
          time: clock.now().toISOString(),
          ok: false,
          trigger: 'change',
          durationMs: 0,
          error: `change stream: ${oneLine(err)}`,
          failures,
          retryInMs,
        });
        await clock.sleep(retryInMs, signal);
      }
    }
  } finally {
    await cursor?.close().catch(() => {});
  }
}

/**
 * Debounce: resolves 'changed' once at least one write was seen and then `quietForMs` passed
 * without another; 'aborted' when `signal` aborts first. Each event's resume token is handed to
 * `keep`, so a stream reopened after an error starts where this one stopped.
 */
export async function waitForQuiet(
  cursor: ChangeCursor,
  quietForMs: number,
  clock: WatchClock,
  signal: AbortSignal | undefined,
  keep: (token: unknown) => void,
): Promise<'changed' | 'aborted'> {
  let lastWrite: number | null = null;
  for (;;) {
    if (signal?.aborted) return 'aborted';
    const ev = await cursor.tryNext();
    keep(cursor.resumeToken());
    if (ev) {
      lastWrite = clock.now().getTime();
      continue;
    }
    if (lastWrite !== null && clock.now().getTime() - lastWrite >= quietForMs) return 'changed';
  }
}

function oneLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0]!;
}
