/**
 * When `dbsnap watch` ticks next, and how long it waits after failures: pure functions of the
 * schedule and the clock. Cron expressions are evaluated by croner (maintained, no
 * dependencies, time zones via Intl).
 */
import { Cron } from 'croner';
import { InvalidArgumentError } from '../errors/index.js';

export type Schedule =
  /** Every `ms`, measured from the start of the previous tick. */
  | { kind: 'every'; ms: number }
  /** At the times a cron expression names, in `timezone` (IANA name; default the system's). */
  | { kind: 'cron'; expression: string; timezone?: string }
  /** One tick, then stop (for cron, systemd timers, CI schedules). */
  | { kind: 'once' };

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * `90s`, `15m`, `1h30m`, `30d`, `500ms` -> milliseconds. A bare number is seconds.
 *
 * @example parseDuration('15m') // 900000
 */
export function parseDuration(text: string, what = 'duration'): number {
  const s = String(text).trim();
  if (/^\d+(\.\d+)?$/.test(s)) return Math.round(Number(s) * 1000);
  const parts = [...s.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== s) {
    throw new InvalidArgumentError(`${what} "${text}" is not a duration: use e.g. 30s, 15m, 1h, 30d (units ms, s, m, h, d, w).`, { value: text });
  }
  return Math.round(parts.reduce((sum, p) => sum + Number(p[1]) * UNITS[p[2]!]!, 0));
}

/** Checks a cron expression and time zone now, so a typo fails at start, not at the first tick. */
export function checkCron(expression: string, timezone?: string): void {
  nextCronTime(expression, timezone, new Date());
}

function nextCronTime(expression: string, timezone: string | undefined, after: Date): Date {
  let job: Cron;
  try {
    job = new Cron(expression, { paused: true, ...(timezone ? { timezone } : {}) });
  } catch (err) {
    throw new InvalidArgumentError(`--cron "${expression}" is not a cron expression: ${(err as Error).message}.`, { cron: expression });
  }
  let next: Date | null;
  try {
    next = job.nextRun(after);
  } catch (err) {
    throw new InvalidArgumentError(`--timezone "${timezone}" is not a time zone (use an IANA name like Europe/Zurich): ${(err as Error).message}.`, { timezone });
  }
  if (!next) throw new InvalidArgumentError(`--cron "${expression}" never fires again.`, { cron: expression });
  return next;
}

/**
 * When the tick after one that started at `lastStart` is due (null: none, for `once`). The first
 * tick of `every` is immediate; cron waits for its next time.
 */
export function nextTickAt(schedule: Schedule, now: Date, lastStart: Date | null): Date | null {
  switch (schedule.kind) {
    case 'once':
      return lastStart ? null : now;
    case 'every':
      return lastStart ? new Date(Math.max(now.getTime(), lastStart.getTime() + schedule.ms)) : now;
    case 'cron':
      return nextCronTime(schedule.expression, schedule.timezone, lastStart && lastStart > now ? lastStart : now);
  }
}

export interface Backoff {
  /** First wait after a failure. Default 5 s. */
  initialMs: number;
  /** Longest wait. Default 5 min. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 5_000, maxMs: 300_000 };

/** The wait after the `failures`-th failure in a row: doubling from `initialMs`, capped. */
export function backoffMs(failures: number, b: Backoff = DEFAULT_BACKOFF): number {
  if (failures <= 0) return 0;
  return Math.min(b.maxMs, b.initialMs * 2 ** Math.min(failures - 1, 30));
}
