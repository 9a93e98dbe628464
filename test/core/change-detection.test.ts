import { describe, expect, it } from 'vitest';
import {
  changedSince,
  compareClusterTime,
  parseClusterTime,
  resumeTokenTime,
  type ChangeCursor,
  type ChangeEventSummary,
  type ChangeFeed,
  type ClusterTime,
} from '../../src/core/change-detection.js';

/** A resume token for a cluster time, as the server encodes it (KeyString: 0x82 + 8-byte timestamp). */
export function tokenAt(c: ClusterTime): { _data: string } {
  const hex = (n: number) => n.toString(16).padStart(8, '0');
  return { _data: `82${hex(c.t)}${hex(c.i)}2B042C0100296E5A1004` };
}

/**
 * A fake replica set: an oplog that starts at `oplogStart`, and events in time order. The cursor
 * hands out the events at or after the start time in batches, and after each empty batch its
 * resume token says how far it has read (`head`, or the last event).
 */
function fakeFeed(o: { oplogStart: ClusterTime | null | 'server' | Error; events: ChangeEventSummary[]; head: ClusterTime; stallAfter?: number; failOpen?: Error }) {
  const opened: ClusterTime[] = [];
  let closed = 0;
  const feed: ChangeFeed = {
    oplogStart: async () => {
      if (o.oplogStart instanceof Error) throw o.oplogStart;
      return o.oplogStart;
    },
    open: async (since) => {
      if (o.failOpen) throw o.failOpen;
      opened.push(since);
      const queue = o.events.filter((e) => compareClusterTime(e.clusterTime!, since) >= 0);
      let token = tokenAt(since);
      let emptyBatches = 0;
      const cursor: ChangeCursor = {
        tryNext: async () => {
          const ev = queue.shift();
          if (ev) {
            token = tokenAt(ev.clusterTime!);
            return ev;
          }
          emptyBatches++;
          // A stalled stream never gets past the stall point.
          if (o.stallAfter === undefined || emptyBatches < o.stallAfter) token = tokenAt(o.head);
          return null;
        },
        resumeToken: () => token,
        close: async () => {
          closed++;
        },
      };
      return cursor;
    },
  };
  return { feed, opened, closed: () => closed };
}

const T = (t: number, i = 1): ClusterTime => ({ t, i });
const ev = (t: number, collection?: string, operationType = 'update', renamedTo?: string): ChangeEventSummary => ({
  operationType,
  clusterTime: T(t),
  ...(collection ? { collection } : {}),
  ...(renamedTo ? { renamedTo } : {}),
});

describe('cluster times and resume tokens', () => {
  it('parses trailers and decodes a resume token as the server writes it', () => {
    expect(parseClusterTime('1733068800.3')).toEqual({ t: 1733068800, i: 3 });
    expect(parseClusterTime('not a time')).toBeNull();
    expect(parseClusterTime(undefined)).toBeNull();
    // The shape of a server token: 82, Timestamp(0x674ba200, 7), then the rest of the KeyString.
    expect(resumeTokenTime({ _data: '8267 4BA2 0000 0000 0704'.replace(/ /g, '') })).toEqual({ t: 0x674ba200, i: 7 });
    expect(resumeTokenTime({ _data: '8200000001000000022B' })).toEqual({ t: 1, i: 2 });
    expect(resumeTokenTime({ _data: 'zz' })).toBeNull();
    expect(resumeTokenTime(null)).toBeNull();
    expect(compareClusterTime(T(5, 2), T(5, 10))).toBeLessThan(0);
    expect(compareClusterTime(T(6, 1), T(5, 10))).toBeGreaterThan(0);
  });
});

describe('changedSince', () => {
  it('no event between the two snapshots: nothing changed, and the stream is closed', async () => {
    const f = fakeFeed({ oplogStart: T(100), events: [ev(300, 'users')], head: T(400) });
    const v = await changedSince(f.feed, T(200), T(250));
    expect(v).toEqual({ kind: 'known', changed: new Set(), events: 0 });
    expect(f.opened).toEqual([T(200)]);
    expect(f.closed()).toBe(1);
  });

  it('names exactly the collections written up to the new read (time-series buckets and renames mapped)', async () => {
    const f = fakeFeed({
      oplogStart: T(100),
      events: [ev(210, 'users'), ev(220, 'system.buckets.metrics', 'insert'), ev(230, 'old', 'rename', 'new'), ev(240, 'users'), ev(260, 'orders')],
      head: T(300),
    });
    const v = await changedSince(f.feed, T(200), T(250));
    expect(v.kind).toBe('known');
    expect([...(v as { changed: Set<string> }).changed].sort()).toEqual(['metrics', 'new', 'old', 'users']);
    expect((v as { events: number }).events).toBe(4);
  });

  it('an event at exactly the new read time counts (the read includes it)', async () => {
    const f = fakeFeed({ oplogStart: T(100), events: [ev(250, 'users')], head: T(300) });
    const v = await changedSince(f.feed, T(200), T(250));
    expect([...(v as { changed: Set<string> }).changed]).toEqual(['users']);
  });

  it('an oplog that no longer reaches back to the last snapshot: unknown, no stream opened (SERVER-50903)', async () => {
    const f = fakeFeed({ oplogStart: T(201), events: [], head: T(300) });
    const v = await changedSince(f.feed, T(200), T(250));
    expect(v).toEqual({ kind: 'unknown', reason: 'the oplog starts at 201.1, after the last snapshot (200.1)' });
    expect(f.opened).toEqual([]);
    // Exactly at the first entry is still covered.
    expect((await changedSince(fakeFeed({ oplogStart: T(200), events: [], head: T(300) }).feed, T(200), T(250))).kind).toBe('known');
  });

  it('an unreadable oplog, a stream that cannot open or fails, a database-wide event: unknown', async () => {
    expect(await changedSince(fakeFeed({ oplogStart: null, events: [], head: T(300) }).feed, T(200), T(250))).toMatchObject({ kind: 'unknown', reason: 'cannot read the oplog' });
    expect(await changedSince(fakeFeed({ oplogStart: new Error('not authorized on local\nmore'), events: [], head: T(300) }).feed, T(200), T(250))).toEqual({
      kind: 'unknown',
      reason: 'cannot read the oplog: not authorized on local',
    });
    expect(
      await changedSince(fakeFeed({ oplogStart: T(1), events: [], head: T(300), failOpen: new Error('ChangeStreamHistoryLost') }).feed, T(200), T(250)),
    ).toEqual({ kind: 'unknown', reason: 'cannot open a change stream: ChangeStreamHistoryLost' });
    const f = fakeFeed({ oplogStart: T(1), events: [ev(210, 'a'), ev(220, undefined, 'dropDatabase')], head: T(300) });
    expect(await changedSince(f.feed, T(200), T(250))).toEqual({ kind: 'unknown', reason: 'a database-wide dropDatabase event' });
    expect(f.closed()).toBe(1);
    const failing: ChangeFeed = {
      oplogStart: async () => T(1),
      open: async () => ({ tryNext: async () => { throw new Error('connection reset'); }, resumeToken: () => null, close: async () => {} }),
    };
    expect(await changedSince(failing, T(200), T(250))).toEqual({ kind: 'unknown', reason: 'the change stream failed: connection reset' });
  });

  it('a stream that does not reach the new read time in time: unknown', async () => {
    let clock = 0;
    const f = fakeFeed({ oplogStart: T(1), events: [], head: T(300), stallAfter: 0 });
    const v = await changedSince(f.feed, T(200), T(250), { timeoutMs: 1000, now: () => (clock += 300) });
    expect(v).toEqual({ kind: 'unknown', reason: 'the change stream did not catch up in time' });
    expect(f.closed()).toBe(1);
  });

  it('a write at exactly the last snapshot time is in that snapshot already: not a change', async () => {
    const f = fakeFeed({ oplogStart: T(100), events: [ev(200, 'users'), ev(240, 'orders')], head: T(300) });
    const v = await changedSince(f.feed, T(200), T(250));
    expect(v).toEqual({ kind: 'known', changed: new Set(['orders']), events: 1 });
  });

  it('sharded (no oplog through mongos): the stream is opened unchecked, and ChangeStreamHistoryLost means read everything', async () => {
    const f = fakeFeed({ oplogStart: 'server', events: [ev(210, 'users')], head: T(300) });
    expect(await changedSince(f.feed, T(200), T(250))).toEqual({ kind: 'known', changed: new Set(['users']), events: 1 });
    expect(f.opened).toEqual([T(200)]);
    const lost = Object.assign(new Error('Resume of change stream was not possible'), { code: 286, codeName: 'ChangeStreamHistoryLost' });
    expect(await changedSince(fakeFeed({ oplogStart: 'server', events: [], head: T(300), failOpen: lost }).feed, T(200), T(250))).toEqual({
      kind: 'unknown',
      reason: 'the change stream no longer reaches back to the last snapshot (200.1)',
    });
    const failing: ChangeFeed = {
      oplogStart: async () => 'server',
      open: async () => ({ tryNext: async () => { throw lost; }, resumeToken: () => null, close: async () => {} }),
    };
    expect(await changedSince(failing, T(200), T(250))).toEqual({ kind: 'unknown', reason: 'the change stream no longer reaches back to the last snapshot (200.1)' });
  });

  it('a last snapshot newer than the read: unknown', async () => {
    const f = fakeFeed({ oplogStart: T(1), events: [], head: T(300) });
    expect((await changedSince(f.feed, T(260), T(250))).kind).toBe('unknown');
  });
});
