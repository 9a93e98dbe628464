import { execFileSync, spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { commit, drill, tag } from '../../src/index.js';
import { SnapshotRepository } from '../../src/store/index.js';
import { FIXED, useTempRepository } from '../support/temp-repo.js';
import { useTestDatabase, type TestDatabase } from '../support/test-db.js';
import { loadShop } from '../support/shop.js';

const BIN = new URL('../../bin/dbsnap.js', import.meta.url).pathname;

let repo = '';
useTempRepository('drill', (r) => ({ repo } = r));

function dbsnap(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, '--repo', repo, ...args], { env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

function git(args: string[]): string {
  return execFileSync('git', ['--git-dir', repo, ...args], { encoding: 'utf8', env: { ...process.env, HOME: tmpdir() } });
}

async function databases(t: TestDatabase): Promise<string[]> {
  const { databases } = await t.client.db('admin').command({ listDatabases: 1, nameOnly: true });
  return (databases as { name: string }[]).map((d) => d.name);
}

async function rawDocs(t: TestDatabase): Promise<string[]> {
  const out: string[] = [];
  for (const name of ['orders', 'producers', 'products', 'users']) {
    for (const d of await t.db.collection(name).find({}, { sort: { _id: 1 }, raw: true }).toArray()) out.push(Buffer.from(d as unknown as Uint8Array).toString('hex'));
  }
  return out;
}

describe('dbsnap drill (real binary)', () => {
  it('restores into a scratch database, verifies, drops it, records a git note native git shows; log marks it', async () => {
    const t = await useTestDatabase('drill');
    try {
      const sizes = await loadShop(t.db, { totalDocs: 150, seed: 4 });
      const total = Object.values(sizes).reduce((a, b) => a + b, 0);
      const c = await commit({ repo, uri: t.dbUri, ...FIXED });
      const before = await rawDocs(t);
      const dbsBefore = await databases(t);

      const r = await dbsnap(['drill', '--uri', t.dbUri]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const scratch = `${t.dbName}_dbsnap_drill_`;
      expect(r.stdout).toMatch(
        new RegExp(`^drill ok: HEAD \\(${c.commit!.slice(0, 7)}\\) restored into ${scratch}\\d{8}T\\d{6}Z \\(dropped again\\), 4 collections, ${total} documents read back and identical; \\d+ ms\\n`),
      );
      // The scratch database is gone; the source is byte for byte as it was.
      expect(await databases(t)).toEqual(dbsBefore);
      expect(await rawDocs(t)).toEqual(before);

      // Native git sees the record, and the repository stays valid.
      const note = JSON.parse(git(['notes', '--ref=dbsnap-drills', 'show', c.commit!]).trim());
      expect(note).toMatchObject({ commit: c.commit, ref: 'HEAD', ok: true, collections: 4, documents: total });
      expect(note.target).toMatch(new RegExp(`^mongodb://[^@]+/${scratch}`));
      expect(git(['log', '--notes=dbsnap-drills', '-1', '--format=%N'])).toContain('"ok":true');
      git(['fsck', '--full', '--strict', '--no-dangling']);

      const logged = await dbsnap(['log', '-n', '1']);
      expect(logged.stdout.split('\n')[0]).toMatch(/^[0-9a-f]{7} \[drill ok \d{4}-\d\d-\d\d\] /);
      const history = await dbsnap(['drill', '--history', '--json']);
      expect(JSON.parse(history.stdout)).toEqual([expect.objectContaining({ commit: c.commit, ok: true, documents: total })]);
    } finally {
      await t.drop();
    }
  }, 120_000);

  it('a snapshot that does not restore: drill FAILED, exit 1, recorded, scratch dropped, source untouched', async () => {
    const t = await useTestDatabase('drillbad');
    try {
      await loadShop(t.db, { totalDocs: 80, seed: 2 });
      const good = await commit({ repo, uri: t.dbUri, ...FIXED });
      // A commit whose part was swapped for other bytes (as a bad disk or a hand edit would).
      const store = await SnapshotRepository.open(repo);
      const files = await store.listFiles(good.commit!);
      const part = [...files.keys()].find((p) => p.startsWith('collections/users/parts/'))!;
      files.set(part, await store.writeBlob('{"_id":{"$oid":"000000000000000000000000"}}\n'));
      const tree = await store.writeTree([...files].map(([path, oid]) => ({ path, oid })));
      const bad = await store.writeCommit({ tree, parents: [good.commit!], message: 'tampered\n', author: { ...FIXED.author, timestamp: 1735787045, timezoneOffset: 0 } });
      await store.updateRef('refs/heads/main', bad, good.commit!);
      const dbsBefore = await databases(t);
      const before = await rawDocs(t);

      const r = await dbsnap(['drill', '--uri', t.dbUri]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^drill FAILED: HEAD \([0-9a-f]{7}\) into \S+_dbsnap_drill_\S+ \(dropped again\): snapshot [0-9a-f]{7}: collections\/users\/parts\//);
      expect(await databases(t)).toEqual(dbsBefore);
      expect(await rawDocs(t)).toEqual(before);
      const history = await dbsnap(['drill', '--history']);
      expect(history.stdout).toMatch(/^\S+Z FAILED [0-9a-f]{7} HEAD: 4 collections, \d+ documents, \d+ ms \(snapshot /);
      expect((await dbsnap(['log', '-n', '1'])).stdout).toMatch(/^[0-9a-f]{7} \[drill FAILED \d{4}-\d\d-\d\d\] tampered/);
    } finally {
      await t.drop();
    }
  }, 120_000);
});

describe('watch housekeeping', () => {
  it('--drill daily: drills HEAD when the last drill is a day old, not before; prunes as asked', async () => {
    const { housekeeping } = await import('../../src/core/housekeeping.js');
    const t = await useTestDatabase('hk');
    try {
      await t.db.collection('c').insertOne({ _id: 1 });
      await commit({ repo, uri: t.dbUri, ...FIXED });
      const day = 86_400_000;
      const t0 = new Date('2026-01-01T00:00:00Z');
      expect(await housekeeping({ repo, uri: t.dbUri, drillEveryMs: day, now: t0, author: FIXED.author })).toEqual(['drill ok: 1 documents restored and verified']);
      expect(await housekeeping({ repo, uri: t.dbUri, drillEveryMs: day, now: new Date(t0.getTime() + day - 1000), author: FIXED.author })).toEqual([]);
      expect(await housekeeping({ repo, uri: t.dbUri, drillEveryMs: day, drillsOlderThanMs: day, now: new Date(t0.getTime() + day), author: FIXED.author })).toEqual([
        'drill ok: 1 documents restored and verified',
      ]);
      const history = JSON.parse((await dbsnap(['drill', '--history', '--json'])).stdout);
      expect(history.map((d: { time: string }) => d.time)).toEqual(['2026-01-02T00:00:00.000Z', '2026-01-01T00:00:00.000Z']);
    } finally {
      await t.drop();
    }
  }, 120_000);
});

describe('dbsnap prune (real binary)', () => {
  it('deletes old safety snapshots and drill records only; branches and tags stay', async () => {
    const t = await useTestDatabase('prune');
    try {
      await t.db.collection('c').insertOne({ _id: 1 });
      const old = new Date('2025-01-01T00:00:00Z');
      const recent = new Date();
      await commit({ repo, uri: t.dbUri, ...FIXED });
      await tag({ repo, name: 'v1', ...FIXED });
      await commit({ repo, uri: t.dbUri, ref: 'refs/dbsnap/safety/20250101T000000Z-old', allowEmpty: true, author: FIXED.author, now: old });
      await commit({ repo, uri: t.dbUri, ref: 'refs/dbsnap/safety/recent', allowEmpty: true, author: FIXED.author, now: recent });
      await drill({ repo, uri: t.dbUri, now: old, author: FIXED.author });
      await drill({ repo, uri: t.dbUri, now: new Date(old.getTime() + 1000), author: FIXED.author });
      await drill({ repo, uri: t.dbUri, now: new Date(old.getTime() + 2000), author: FIXED.author });
      const refsBefore = git(['for-each-ref', '--format=%(refname)', 'refs/heads', 'refs/tags']);

      const dry = await dbsnap(['prune', '--safety-older-than', '30d', '--drills-older-than', '1d', '--dry-run']);
      expect(dry.stdout).toBe(`would delete refs/dbsnap/safety/20250101T000000Z-old (${git(['rev-parse', '--short=7', 'refs/dbsnap/safety/20250101T000000Z-old']).trim()}, 2025-01-01T00:00:00.000Z)\nwould forget 2 drill records\n`);
      expect(git(['for-each-ref', '--format=%(refname)', 'refs/dbsnap/safety'])).toContain('-old');

      const r = await dbsnap(['prune', '--safety-older-than', '30d', '--drills-older-than', '1d', '--json']);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({ dryRun: false, safety: [{ ref: 'refs/dbsnap/safety/20250101T000000Z-old' }], drills: [{}, {}] });
      expect(git(['for-each-ref', '--format=%(refname)', 'refs/dbsnap/safety']).trim()).toBe('refs/dbsnap/safety/recent');
      expect(git(['for-each-ref', '--format=%(refname)', 'refs/heads', 'refs/tags'])).toBe(refsBefore);
      // The newest drill of the snapshot stays, so log still marks it.
      const history = JSON.parse((await dbsnap(['drill', '--history', '--json'])).stdout);
      expect(history.map((d: { time: string }) => d.time)).toEqual(['2025-01-01T00:00:02.000Z']);
      git(['fsck', '--full', '--strict', '--no-dangling']);

      const nothing = await dbsnap(['prune', '--safety-older-than', '30d']);
      expect(nothing.stdout).toBe('nothing to prune\n');
      const none = await dbsnap(['prune']);
      expect(none.code).toBe(2);
      expect(none.stderr).toMatch(/^error: say what to prune/);
    } finally {
      await t.drop();
    }
  }, 120_000);
});
