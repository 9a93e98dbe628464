import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { log } from '../../src/index.js';
import { useTempRepository } from '../support/temp-repo.js';
import { useTestDatabase } from '../support/test-db.js';
import { startWireServer, type WireServer } from '../support/wire-server/server.js';
import { cli, dbsnap } from './support.js';

const BIN = new URL('../../bin/dbsnap.js', import.meta.url).pathname;

let repo = '';
useTempRepository('watch', (r) => ({ repo } = r));

const children: ChildProcess[] = [];
const servers: WireServer[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const s of servers.splice(0)) await s.close().catch(() => {});
});

/** The built binary, running in the background; lines of stdout arrive as they are printed. */
function start(args: string[]) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1' } });
  children.push(child);
  const lines: string[] = [];
  let stderr = '';
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => {
    partial += d.toString();
    const parts = partial.split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
  const waitFor = async (pred: (l: string[]) => boolean, what: string, ms = 60_000) => {
    const deadline = Date.now() + ms;
    while (!pred(lines)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; stdout:\n${lines.join('\n')}\nstderr:\n${stderr}`);
      if (child.exitCode !== null) throw new Error(`dbsnap exited (${child.exitCode}) while waiting for ${what}; stderr:\n${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  return { child, lines, stderr: () => stderr, exited, waitFor };
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

function git(args: string[]): string {
  return execFileSync('git', ['--git-dir', repo, ...args], { encoding: 'utf8', env: { ...process.env, HOME: tmpdir() } });
}

describe('dbsnap watch (real binary)', () => {
  it('survives the server going away, retries with backoff, and commits once it is back', async () => {
    const port = await freePort();
    const uri = `mongodb://127.0.0.1:${port}/shop?serverSelectionTimeoutMS=400`;
    const load = async (n: number) => {
      const c = await MongoClient.connect(uri);
      await c.db('shop').collection<{ _id: number; v: string }>('items').insertMany(Array.from({ length: n }, (_, i) => ({ _id: i, v: `item ${i}` })));
      await c.close();
    };
    let server = await startWireServer({ port });
    servers.push(server);
    await load(10);
    const w = start(['watch', '--repo', repo, '--uri', uri, '--every', '1s', '--retry-after', '200ms', '--retry-max', '1s', '--json']);
    await w.waitFor((l) => l.some((x) => JSON.parse(x).committed === true), 'the first commit');

    await server.close();
    servers.splice(servers.indexOf(server), 1);
    await w.waitFor((l) => l.filter((x) => JSON.parse(x).ok === false).length >= 3, 'three failed ticks');
    const failed = w.lines.map((x) => JSON.parse(x)).filter((t) => !t.ok);
    expect(failed[0]).toMatchObject({ ok: false, failures: 1, retryInMs: 200 });
    expect(failed[1]).toMatchObject({ ok: false, failures: 2, retryInMs: 400 });
    expect(failed[2]).toMatchObject({ ok: false, failures: 3, retryInMs: 800 });
    // The server may vanish in the middle of a tick (a driver error) or before it (ECONNECT).
    expect(failed[2]).toMatchObject({ errorCode: 'ECONNECT' });
    expect(failed[2].error).toMatch(/^cannot reach MongoDB at mongodb:\/\/127\.0\.0\.1:\d+\/shop/);
    expect(failed.every((f) => !f.error.includes('\n'))).toBe(true);

    // Back, with different data (a fresh in-memory server): the next successful tick commits it.
    server = await startWireServer({ port });
    servers.push(server);
    await load(25);
    await w.waitFor((l) => l.filter((x) => JSON.parse(x).committed === true).length >= 2, 'a commit after the server came back');
    const ticks = w.lines.map((x) => JSON.parse(x));
    const second = ticks.filter((t) => t.committed)[1];
    expect(second).toMatchObject({ ok: true, documents: 25, trigger: 'retry' });
    w.child.kill('SIGTERM');
    expect(await w.exited).toBe(0);
    expect((await log({ repo })).filter((e) => e.snapshot).map((e) => e.documents)).toEqual([25, 10]);
    expect(existsSync(join(repo, 'dbsnap.lock'))).toBe(false);
  }, 120_000);

  it('SIGTERM in the middle of a commit lets it finish, exits 0, and leaves a clean repository (git fsck --full)', async () => {
    const t = await useTestDatabase('watch_term');
    try {
      const rows = Array.from({ length: 30_000 }, (_, i) => ({ _id: i, text: `row ${i} `.repeat(6) }));
      for (let i = 0; i < rows.length; i += 5000) await t.db.collection('big').insertMany(rows.slice(i, i + 5000));
      const w = start(['watch', '--repo', repo, '--uri', t.dbUri, '--every', '1h']);
      const lock = join(repo, 'dbsnap.lock');
      const deadline = Date.now() + 30_000;
      while (!existsSync(lock) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      expect(existsSync(lock)).toBe(true);
      await new Promise((r) => setTimeout(r, 200));
      w.child.kill('SIGTERM');
      expect(await w.exited).toBe(0);
      expect(w.lines).toHaveLength(1);
      expect(w.lines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z committed [0-9a-f]{7} \(full read\), 30000 documents, \d+ ms$/);
      expect(w.stderr()).toContain('stopped after 1 tick: 1 commit, 0 failed');
      expect(existsSync(lock)).toBe(false);
      git(['fsck', '--full', '--strict', '--no-dangling']);
      expect(git(['rev-list', '--count', 'HEAD']).trim()).toBe('2');
      expect((await log({ repo }))[0]!.documents).toBe(30_000);
    } finally {
      await t.drop();
    }
  }, 120_000);

  it('--on-change on a standalone server polls every --every and commits writes; no write, no commit', async () => {
    const t = await useTestDatabase('watch_poll');
    try {
      await t.db.collection('c').insertOne({ _id: 1 });
      const w = start(['watch', '--repo', repo, '--uri', t.dbUri, '--on-change', '--every', '300ms', '--json']);
      await w.waitFor((l) => l.length >= 3, 'three ticks');
      const first = w.lines.map((x) => JSON.parse(x));
      expect(first[0]).toMatchObject({ ok: true, committed: true, documents: 1, trigger: 'start' });
      expect(first.slice(1).every((x) => x.ok && x.committed === false && x.trigger === 'schedule')).toBe(true);
      await t.db.collection('c').insertOne({ _id: 2 });
      await w.waitFor((l) => l.some((x) => JSON.parse(x).documents === 2 && JSON.parse(x).committed), 'a commit of the write');
      w.child.kill('SIGINT');
      expect(await w.exited).toBe(0);
      expect((await log({ repo })).filter((e) => e.snapshot)).toHaveLength(2);
    } finally {
      await t.drop();
    }
  }, 120_000);

  it('--cron with seconds and a time zone ticks on schedule', async () => {
    const t = await useTestDatabase('watch_cron');
    try {
      await t.db.collection('c').insertOne({ _id: 1 });
      const w = start(['watch', '--repo', repo, '--uri', t.dbUri, '--cron', '* * * * * *', '--tz', 'Europe/Zurich']);
      await w.waitFor((l) => l.length >= 2, 'two cron ticks');
      w.child.kill('SIGTERM');
      expect(await w.exited).toBe(0);
      expect(w.lines[0]).toMatch(/ committed [0-9a-f]{7} \(full read\), 1 documents, \d+ ms$/);
      // How "no change" was known: a change stream on a replica set, dbHash on a local standalone.
      expect(w.lines[1]).toMatch(/Z no change \((change stream|server hashes)\), 1 documents, \d+ ms$/);
      // Cron ticks start just after whole seconds, each in a second of its own.
      expect(w.lines.every((l) => Number(l.slice(20, 23)) < 500)).toBe(true);
      expect(new Set(w.lines.map((l) => l.slice(0, 19))).size).toBe(w.lines.length);
    } finally {
      await t.drop();
    }
  }, 120_000);

  it('--every longer than a timer can hold (30d, 3650d) waits, instead of ticking without pause', async () => {
    const t = await useTestDatabase('watch_long');
    try {
      await t.db.collection('c').insertOne({ _id: 1 });
      for (const every of ['30d', '3650d']) {
        const w = start(['watch', '--repo', repo, '--uri', t.dbUri, '--every', every]);
        await w.waitFor((l) => l.length >= 1, 'the first tick');
        // Node runs a longer setTimeout after 1 ms: before the fix, dozens of ticks in this second.
        await new Promise((r) => setTimeout(r, 1500));
        w.child.kill('SIGTERM');
        expect(await w.exited).toBe(0);
        expect(w.lines, w.stderr()).toHaveLength(1);
        expect(w.stderr()).toMatch(/stopped after 1 tick: [01] commits?, 0 failed/);
        expect(w.stderr()).not.toContain('TimeoutOverflowWarning');
      }
    } finally {
      await t.drop();
    }
  }, 120_000);

  it('bad input exits 2 at once, before any tick', async () => {
    for (const [args, message] of [
      [['--cron', 'every hour'], /^error: --cron "every hour" is not a cron expression/],
      [['--cron', '0 * * * *', '--tz', 'Mars/Olympus'], /^error: --timezone "Mars\/Olympus" is not a time zone/],
      [['--every', '15 minutes'], /^error: --every "15 minutes" is not a duration/],
      [['--every', '1m', '--once'], /^error: choose one of --every, --cron and --once/],
      [['--every', '1m', '--timezone', 'UTC'], /^error: --timezone applies to --cron only/],
      [['--gc-every', '0'], /^error: --gc-every takes a number of commits/],
      [['--every', '99999999d'], /^error: --every must be at most 3650d, not 8639999913600000ms\.$/m],
      [['--every', '0s'], /^error: --every must be at least 100ms, not 0ms: a shorter interval reads the database without pause\.$/m],
      [['--retry-after', '0'], /^error: --retry-after must be at least 100ms and --retry-max at least --retry-after \(got 0ms and 300000ms\)\.$/m],
      [['--retry-after', '1m', '--retry-max', '10s'], /^error: --retry-after must be at least 100ms and --retry-max at least --retry-after/],
    ] as const) {
      const r = await cli(['watch', '--repo', repo, '--uri', 'mongodb://127.0.0.1:1/x', ...args]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    }
  });

  it('a negative duration (--every -5m) gets the duration error, not yargs\' "Unknown argument" (real binary)', async () => {
    for (const [args, option, value] of [
      [['watch', '--every', '-5m'], '--every', '-5m'],
      [['watch', '--every', '-5'], '--every', '-5'],
      [['watch', '--on-change', '--quiet-for', '-1.5s'], '--quiet-for', '-1.5s'],
      [['watch', '--retry-after', '-200ms'], '--retry-after', '-200ms'],
      [['prune', '--safety-older-than', '-3d'], '--safety-older-than', '-3d'],
    ] as const) {
      const r = await dbsnap([...args, '--repo', repo, '--uri', 'mongodb://127.0.0.1:1/x']);
      expect(r.stderr).toBe(`error: ${option} "${value}" is not a duration: use e.g. 30s, 15m, 1h, 30d (units ms, s, m, h, d, w).\n`);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
    }
  });

  it('--push pushes each new commit to the remotes and --gc-every packs, both on the tick line', async () => {
    const { addRemote } = await import('../../src/index.js');
    const t = await useTestDatabase('watch_push');
    try {
      await t.db.collection('c').insertOne({ _id: 1 });
      const remote = join(repo, '..', 'remote.git');
      await addRemote({ repo, name: 'nas', url: remote });
      const once = start(['watch', '--repo', repo, '--uri', t.dbUri, '--once', '--push', '--gc-every', '1', '--json']);
      expect(await once.exited).toBe(0);
      const tick = JSON.parse(once.lines[0]!);
      expect(tick).toMatchObject({ ok: true, committed: true, push: [{ remote: 'nas', ok: true }], housekeeping: ['gc: packed'] });
      expect(execFileSync('git', ['--git-dir', remote, 'rev-parse', 'main'], { encoding: 'utf8' }).trim()).toBe(tick.commit);
      git(['fsck', '--full', '--strict', '--no-dangling']);
      expect(git(['count-objects', '-v'])).toMatch(/^count: 0$/m);
    } finally {
      await t.drop();
    }
  }, 120_000);

  it('--once ticks once (exit 0), or exits 2 when its tick failed', async () => {
    const t = await useTestDatabase('watch_once');
    try {
      await t.db.collection('c').insertOne({ _id: 1 });
      const once = start(['watch', '--repo', repo, '--uri', t.dbUri, '--once', '--json']);
      expect(await once.exited).toBe(0);
      expect(once.lines).toHaveLength(1);
      expect(JSON.parse(once.lines[0]!)).toMatchObject({ ok: true, committed: true, documents: 1 });
      // After it: a commit holds the repository lock while it connects.
      const down = start(['watch', '--repo', repo, '--uri', 'mongodb://127.0.0.1:1/x?serverSelectionTimeoutMS=200', '--once']);
      expect(await down.exited).toBe(2);
      expect(down.stderr()).toMatch(/failed: cannot reach MongoDB/);
      // It exits instead of retrying, so it does not say it will retry (#10 sweep).
      expect(down.stderr()).not.toContain('retrying');
      const downJson = start(['watch', '--repo', repo, '--uri', 'mongodb://127.0.0.1:1/x?serverSelectionTimeoutMS=200', '--once', '--json']);
      expect(await downJson.exited).toBe(2);
      expect(JSON.parse(downJson.lines[0]!)).not.toHaveProperty('retryInMs');
    } finally {
      await t.drop();
    }
  }, 120_000);
});
