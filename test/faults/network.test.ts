/**
 * A network that fails under dbsnap: a TCP proxy in front of the test server cuts or stalls the
 * connection at a chosen command or byte count. What dbsnap then says must be exactly what is
 * true (issue #10, defects 2 and 10).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TEMP_PREFIX } from '../../src/mongo/writer.js';
import { loadShop } from '../support/shop.js';
import type { TestDatabase } from '../support/test-db.js';
import { startFaultProxy, type FaultProxy } from './proxy.js';
import { revParse, runDbsnap, NATIVE_GIT, useProxiedDatabase, type ProxiedDatabase } from './support.js';

let repo = '';
let t: TestDatabase;
let proxy: FaultProxy;
let viaProxy = '';
let setup: ProxiedDatabase;

useProxiedDatabase(
  'netfault',
  async (s) => {
    setup = s;
    ({ repo, t, proxy, viaProxy } = s);
    await loadShop(t.db, { totalDocs: 1500, seed: 9 });
    const first = await runDbsnap(['commit', '--repo', repo, '--uri', t.dbUri, '-m', 'first']);
    expect(first.code, first.stderr).toBe(0);
  },
  '&connectTimeoutMS=2000',
);

const temps = async () => (await t.db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).filter((n) => n.startsWith('__dbsnap_')).sort();
const counts = async () => Object.fromEntries(await Promise.all(['users', 'orders', 'products', 'producers'].map(async (n) => [n, await t.db.collection(n).countDocuments()])));

describe('a connection cut under a command', () => {
  it('commit: cut part-way through reading: one line, HEAD unmoved, no lock', async () => {
    await t.db.collection('orders').updateMany({}, { $set: { cut: 1 } });
    const head = revParse(repo, 'HEAD');
    proxy.plan({ cutAfterServerBytes: 60_000, dead: true });
    const r = await runDbsnap(['commit', '--repo', repo, '--uri', viaProxy, '-m', 'cut']);
    expect(proxy.tripped()).toBe(true);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: [^\n]*\n$/);
    expect(r.stderr).not.toContain('looks like a bug');
    if (NATIVE_GIT) expect(revParse(repo, 'HEAD')).toBe(head);
    expect(existsSync(join(repo, 'dbsnap.lock'))).toBe(false);
  });

  it('restore with the server gone mid-load: says the temporary collections are left, and how to remove them; commit never snapshots them', async () => {
    await t.db.collection('users').deleteMany({});
    const before = await counts();
    proxy.plan({ cutOnCommand: 'insert', onOccurrence: 2, dead: true });
    const r = await runDbsnap(['restore', 'HEAD', '--repo', repo, '--uri', viaProxy, '--yes', '--no-backup']);
    expect(proxy.tripped()).toBe(true);
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/temporary collections? (was|were) dropped/);
    expect(r.stderr).toMatch(/could not be dropped or checked \(__dbsnap_tmp_\w+\); the next dbsnap restore into \w+ drops it, or run: dbsnap restore --cleanup --db \w+/);
    expect(await counts()).toEqual(before);
    const left = await temps();
    expect(left.filter((n) => n.startsWith(TEMP_PREFIX))).toHaveLength(1);

    // A commit now takes the user's collections only.
    const c = await runDbsnap(['commit', '--repo', repo, '--uri', t.dbUri, '-m', 'while a temp is left', '--json']);
    expect(c.code, c.stderr).toBe(0);
    expect(JSON.parse(c.stdout).collections.map((x: { name: string }) => x.name).sort()).toEqual(['orders', 'producers', 'products', 'users']);

    const clean = await runDbsnap(['restore', '--cleanup', '--uri', t.dbUri]);
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toBe(`dropped 1 temporary collection left by an interrupted restore in ${t.dbName}: ${left.find((n) => n.startsWith(TEMP_PREFIX))}\n`);
    expect(await temps()).toEqual([]);
    const again = await runDbsnap(['restore', '--cleanup', '--uri', t.dbUri]);
    expect(again.stdout).toBe(`no temporary collections in ${t.dbName}; nothing to clean up\n`);
  });

  it('restore with one connection cut and the server still there: the temporaries really are dropped, and it says so', async () => {
    proxy.plan({ cutOnCommand: 'insert', onOccurrence: 2 });
    const r = await runDbsnap(['restore', 'HEAD~1', '--repo', repo, '--uri', viaProxy, '--yes', '--no-backup']);
    expect(proxy.tripped()).toBe(true);
    if (r.code === 2) {
      expect(r.stderr).toMatch(/its temporary collections? (was|were) dropped/);
      expect(await temps()).toEqual([]);
    } else {
      // The driver retried the write on a new connection and the restore completed.
      expect(r.stdout).toMatch(/^verified: /m);
    }
  });
});

describe('two restores into one database', () => {
  it('the second refuses while the first runs, and does not touch its temporary collection; a dead holder is taken over', async () => {
    proxy.plan({ cutOnCommand: 'insert', onOccurrence: 2, stall: true });
    const first = runDbsnap(['restore', 'HEAD', '--repo', repo, '--uri', viaProxy, '--yes', '--no-backup'], { killAfterMs: 60_000 });
    const deadline = Date.now() + 30_000;
    while (!proxy.tripped() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(proxy.tripped()).toBe(true);
    const mine = await temps();
    expect(mine).toContain('__dbsnap_lock');

    const second = await runDbsnap(['restore', 'HEAD', '--repo', repo, '--uri', t.dbUri, '--yes', '--no-backup']);
    expect(second.code).toBe(2);
    expect(second.stderr).toMatch(/^error: another restore is writing into \w+ \(restore HEAD, process \d+ on [^)]+\); nothing was changed\. Wait for it to finish/);
    expect(await temps()).toEqual(mine);
    const cleanup = await runDbsnap(['restore', '--cleanup', '--uri', t.dbUri]);
    expect(cleanup.code).toBe(2);
    expect(await temps()).toEqual(mine);

    // The first restore dies: its lock is recognised as dead (same host, pid gone) at once.
    proxy.plan({});
    await proxy.close();
    // The new proxy replaces the closed one, for the file's cleanup too.
    proxy = setup.proxy = await startFaultProxy(t.uri);
    const r1 = await first;
    expect(r1.code).not.toBe(0);
    const third = await runDbsnap(['restore', 'HEAD', '--repo', repo, '--uri', t.dbUri, '--yes', '--no-backup']);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stdout).toMatch(/^dropped 1 temporary collection left by an interrupted restore$/m);
    expect(await temps()).toEqual([]);
  });
});
