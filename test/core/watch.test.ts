import { describe, expect, it } from 'vitest';
import type { ChangeCursor, ChangeEventSummary } from '../../src/core/change-detection.js';
import type { CommitOptions, CommitResult } from '../../src/core/commit.js';
import { backoffMs, nextTickAt, parseDuration } from '../../src/core/schedule.js';
import { waitForQuiet, watch, type WatchClock, type WatchTick } from '../../src/core/watch.js';
import { useTempRepository } from '../support/temp-repo.js';
import { ConnectionError } from '../../src/errors/index.js';

let repo = '';
useTempRepository('watchcore', (r) => ({ repo } = r));

/** A clock that only moves when the watcher sleeps or a fake cursor waits. */
function fakeClock(start = Date.parse('2026-01-01T00:00:00Z')) {
  let now = start;
  const sleeps: number[] = [];
  const clock: WatchClock = {
    now: () => new Date(now),
    sleep: async (ms, signal) => {
      if (signal?.aborted) return;
      sleeps.push(ms);
      now += ms;
    },
  };
  return { clock, sleeps, advance: (ms: number) => (now += ms), elapsed: () => now - start };
}

const ok = (committed: boolean, documents = 3): CommitResult =>
  ({ committed, commit: committed ? 'a'.repeat(40) : 'b'.repeat(40), documents, collections: [] }) as unknown as CommitResult;

describe('schedule', () => {
  it('durations, intervals, cron times and backoff', () => {
    expect(parseDuration('15m')).toBe(900_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('30d')).toBe(30 * 86_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('90')).toBe(90_000);
    expect(() => parseDuration('15 minutes')).toThrow(expect.objectContaining({ code: 'EINVALIDARG' }));
    expect(() => parseDuration('m')).toThrow();
    const now = new Date('2026-03-01T10:20:30Z');
    expect(nextTickAt({ kind: 'every', ms: 60_000 }, now, null)).toEqual(now);
    expect(nextTickAt({ kind: 'every', ms: 60_000 }, now, new Date('2026-03-01T10:20:00Z'))).toEqual(new Date('2026-03-01T10:21:00Z'));
    // A tick that took longer than the interval: the next one is due now, not in the past.
    expect(nextTickAt({ kind: 'every', ms: 60_000 }, now, new Date('2026-03-01T10:10:00Z'))).toEqual(now);
    expect(nextTickAt({ kind: 'cron', expression: '0 * * * *' }, now, null)).toEqual(new Date('2026-03-01T11:00:00Z'));
    // 02:00 in Zurich (UTC+1 in March before the switch) is 01:00 UTC.
    expect(nextTickAt({ kind: 'cron', expression: '0 2 * * *', timezone: 'Europe/Zurich' }, now, null)).toEqual(new Date('2026-03-02T01:00:00Z'));
    expect(nextTickAt({ kind: 'once' }, now, null)).toEqual(now);
    expect(nextTickAt({ kind: 'once' }, now, now)).toBeNull();
    expect([1, 2, 3, 4, 10].map((n) => backoffMs(n, { initialMs: 5000, maxMs: 60_000 }))).toEqual([5000, 10_000, 20_000, 40_000, 60_000]);
  });
});

describe('watch loop', () => {
  it('failing ticks are reported with doubling backoff and retried; success resets; it never stops by itself', async () => {
    const c = fakeClock();
    const outcomes: (Error | CommitResult)[] = [
      ok(true),
      Object.assign(new Error('cannot reach MongoDB at mongodb://h/db: connect ECONNREFUSED\nsecond line'), { code: 'ECONNECT' }),
      Object.assign(new Error('disk full'), { code: 'ENOSPC' }),
      Object.assign(new Error('disk full'), { code: 'ENOSPC' }),
      ok(true),
      ok(false),
    ];
    const ticks: WatchTick[] = [];
    const ac = new AbortController();
    const calls: CommitOptions[] = [];
    const r = await watch({
      repo,
      uri: 'mongodb://h/db',
      schedule: { kind: 'every', ms: 60_000 },
      backoff: { initialMs: 1000, maxMs: 3000 },
      clock: c.clock,
      commitSnapshot: async (o) => {
        calls.push(o);
        const next = outcomes.shift() ?? ok(false);
        if (next instanceof Error) throw next;
        return next;
      },
      onTick: (t) => {
        ticks.push(t);
        if (ticks.length === 8) ac.abort();
      },
      signal: ac.signal,
    });
    expect(ticks.map((t) => [t.trigger, t.ok, t.committed ?? null, t.failures ?? 0, t.retryInMs ?? 0])).toEqual([
      ['start', true, true, 0, 0],
      ['schedule', false, null, 1, 1000],
      ['retry', false, null, 2, 2000],
      ['retry', false, null, 3, 3000],
      ['retry', true, true, 0, 0],
      ['schedule', true, false, 0, 0],
      ['schedule', true, false, 0, 0],
      ['schedule', true, false, 0, 0],
    ]);
    expect(ticks[1]).toMatchObject({ error: 'cannot reach MongoDB at mongodb://h/db: connect ECONNREFUSED', errorCode: 'ECONNECT' });
    // The interval counts from the scheduled tick's start: the 6 s of retries come off the next wait.
    expect(c.sleeps).toEqual([60_000, 1000, 2000, 3000, 54_000, 60_000, 60_000]);
    expect(r).toEqual({ mode: 'schedule', ticks: 8, commits: 2, failures: 3 });
    // The commit never gets the stop signal: a stop lets it finish.
    expect(calls.every((o) => !('signal' in o) || o.signal === undefined)).toBe(true);
  });

  it('housekeeping runs after each tick; gc every N commits; a failing job is a note, not a stop', async () => {
    const c = fakeClock();
    const ticks: WatchTick[] = [];
    const ac = new AbortController();
    let gcRuns = 0;
    let n = 0;
    await watch({
      repo,
      uri: 'mongodb://h/db',
      schedule: { kind: 'every', ms: 1000 },
      clock: c.clock,
      commitSnapshot: async () => ok(n++ % 2 === 0),
      housekeeping: {
        gcEveryCommits: 2,
        gc: async () => void gcRuns++,
        push: async () => [{ remote: 'origin', ok: true }],
        after: async () => {
          if (n === 2) throw new Error('prune broke');
          return n === 3 ? ['pruned 1 safety snapshot'] : [];
        },
      },
      onTick: (t) => {
        ticks.push(t);
        if (ticks.length === 5) ac.abort();
      },
      signal: ac.signal,
    });
    expect(ticks.map((t) => [t.committed, t.push?.map((p) => p.remote) ?? null, t.housekeeping ?? null])).toEqual([
      [true, ['origin'], null],
      [false, null, ['housekeeping failed: prune broke']],
      [true, ['origin'], ['gc: packed', 'pruned 1 safety snapshot']],
      [false, null, null],
      [true, ['origin'], null],
    ]);
    expect(gcRuns).toBe(1);
  });

  it('--once returns after one tick and throws its error', async () => {
    const c = fakeClock();
    const ticks: WatchTick[] = [];
    expect(await watch({ repo, uri: 'mongodb://h/db', schedule: { kind: 'once' }, clock: c.clock, commitSnapshot: async () => ok(true), onTick: (t) => ticks.push(t) })).toMatchObject({ ticks: 1, commits: 1 });
    await expect(
      watch({
        repo,
        uri: 'mongodb://h/db',
        schedule: { kind: 'once' },
        clock: c.clock,
        commitSnapshot: async () => {
          throw new ConnectionError('nope', { host: 'h' });
        },
        onTick: (t) => ticks.push(t),
      }),
    ).rejects.toSatisfy((err) => err instanceof ConnectionError && err.message === 'nope' && err.data.host === 'h');
    expect(ticks.map((t) => t.ok)).toEqual([true, false]);
    await expect(watch({ repo: `${repo}-missing`, uri: 'mongodb://h/db', schedule: { kind: 'once' }, onTick: () => {} })).rejects.toMatchObject({ code: 'ENOREPO' });
  });
});

/** A change stream whose events arrive at given clock times; each empty wait takes 500 ms. */
function fakeCursor(c: ReturnType<typeof fakeClock>, at: number[], opts: { failAt?: number; tokenBase?: number } = {}): ChangeCursor & { tokens: unknown[] } {
  const pending = [...at];
  let token: unknown = { _data: `start-${opts.tokenBase ?? 0}` };
  let seen = 0;
  const cursor = {
    tokens: [] as unknown[],
    tryNext: async (): Promise<ChangeEventSummary | null> => {
      if (opts.failAt !== undefined && c.elapsed() >= opts.failAt) throw new Error('connection reset by peer');
      if (pending.length && c.elapsed() >= pending[0]!) {
        pending.shift();
        seen++;
        token = { _data: `event-${(opts.tokenBase ?? 0) + seen}` };
        return { operationType: 'insert', collection: 'c' };
      }
      c.advance(500);
      return null;
    },
    resumeToken: () => token,
    close: async () => {},
  };
  return cursor;
}

describe('on-change (change stream) decisions', () => {
  it('waitForQuiet: a burst of writes settles into one "changed" after quiet-for without a write', async () => {
    const c = fakeClock();
    const cursor = fakeCursor(c, [1000, 3000, 5000]);
    const tokens: unknown[] = [];
    expect(await waitForQuiet(cursor, 4000, c.clock, undefined, (t) => tokens.push(t))).toBe('changed');
    // The last write came at 5000; quiet-for 4 s: not before 9000.
    expect(c.elapsed()).toBeGreaterThanOrEqual(9000);
    expect(c.elapsed()).toBeLessThan(9500 + 1);
    expect(tokens.at(-1)).toEqual({ _data: 'event-3' });
    const ac = new AbortController();
    ac.abort();
    expect(await waitForQuiet(fakeCursor(c, []), 4000, c.clock, ac.signal, () => {})).toBe('aborted');
  });

  it('commits at start, after each settled burst, and resumes after a stream error from the last token', async () => {
    const c = fakeClock();
    const opened: unknown[] = [];
    const ticks: WatchTick[] = [];
    const ac = new AbortController();
    let commits = 0;
    const cursors = [
      // Writes at 1 s, then the connection drops at 2 s before the burst settled.
      () => fakeCursor(c, [1000], { failAt: 2000 }),
      // Reopened: one more write, then quiet.
      () => fakeCursor(c, [c.elapsed() + 500], { tokenBase: 10 }),
      () => fakeCursor(c, []),
    ];
    await watch({
      repo,
      uri: 'mongodb://h/db',
      schedule: { kind: 'every', ms: 60_000 },
      onChange: {
        quietForMs: 3000,
        changes: {
          open: async (token) => {
            opened.push(token);
            return cursors.shift()!();
          },
        },
      },
      backoff: { initialMs: 100, maxMs: 1000 },
      clock: c.clock,
      commitSnapshot: async () => {
        commits++;
        if (commits === 2) ac.abort();
        return ok(true);
      },
      onTick: (t) => ticks.push(t),
      signal: ac.signal,
    });
    expect(opened).toEqual([null, { _data: 'event-1' }, { _data: 'event-11' }].slice(0, opened.length));
    expect(opened.slice(0, 2)).toEqual([null, { _data: 'event-1' }]);
    expect(ticks.map((t) => [t.trigger, t.ok])).toEqual([
      ['start', true],
      ['change', false],
      ['change', true],
    ]);
    expect(ticks[1]).toMatchObject({ error: 'change stream: connection reset by peer', retryInMs: 100 });
    expect(commits).toBe(2);
  });
});
