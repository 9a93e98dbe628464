import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIXED, useTempRepository } from '../support/temp-repo.js';
import { commit, log } from '../../src/index.js';
import { SnapshotRepository } from '../../src/store/index.js';
import { useTestDatabase } from '../support/test-db.js';
import { loadShop } from '../support/shop.js';

const BIN = new URL('../../bin/dbsnap.js', import.meta.url).pathname;

let dir = '';
let repo = '';
useTempRepository('safety', (r) => ({ dir, repo } = r));

async function headState() {
  const store = await SnapshotRepository.open(repo);
  return { head: (await store.head()).oid, log: (await log({ repo })).map((e) => e.commit) };
}

describe('commit safety', () => {
  it('kill -9 in the middle of a commit leaves HEAD and the log as they were, and the stale lock is cleared', async () => {
    const t = await useTestDatabase('kill');
    try {
      await loadShop(t.db, { totalDocs: 400, seed: 1 });
      await commit({ repo, uri: t.dbUri, ...FIXED });
      const big = Array.from({ length: 40_000 }, (_, i) => ({ _id: i, text: `row ${i} `.repeat(8) }));
      for (let i = 0; i < big.length; i += 5000) await t.db.collection('big').insertMany(big.slice(i, i + 5000));
      const before = await headState();

      const child = spawn(process.execPath, [BIN, 'commit', '--repo', repo, '--uri', t.dbUri, '-m', 'doomed'], { stdio: 'ignore' });
      const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
      // Wait until it holds the lock and has written some objects, then kill it without warning.
      const lock = join(repo, 'dbsnap.lock');
      const deadline = Date.now() + 30_000;
      while (!existsSync(lock) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      expect(existsSync(lock)).toBe(true);
      await new Promise((r) => setTimeout(r, 300));
      child.kill('SIGKILL');
      await exited;

      expect(await headState()).toEqual(before);
      // The next commit recognises the dead process's lock as stale and succeeds.
      const r = await commit({ repo, uri: t.dbUri, message: 'after the crash', ...FIXED });
      expect(r.committed).toBe(true);
      expect(r.collections.find((c) => c.name === 'big')?.documents).toBe(40_000);
      expect(existsSync(lock)).toBe(false);
    } finally {
      await t.drop();
    }
  });

  it('refuses a second commit while one holds the lock, changing nothing', async () => {
    const t = await useTestDatabase('locked');
    try {
      await t.db.collection('c').insertOne({ _id: 1 });
      const before = await headState();
      // A live process (this one) holds the lock.
      await writeFile(join(repo, 'dbsnap.lock'), JSON.stringify({ pid: process.pid, host: (await import('node:os')).hostname(), operation: 'commit', started: new Date().toISOString(), token: 'x' }));
      await expect(commit({ repo, uri: t.dbUri, ...FIXED })).rejects.toMatchObject({ code: 'ELOCKED' });
      expect(await headState()).toEqual(before);
    } finally {
      await rm(join(repo, 'dbsnap.lock'), { force: true });
      await t.drop();
    }
  });

  it('fails cleanly when the server is unreachable, the database is missing or the repository is not there', async () => {
    const t = await useTestDatabase('errors');
    try {
      await t.db.collection('c').insertOne({ _id: 1 });
      const before = await headState();
      await expect(
        commit({ repo, uri: 'mongodb://127.0.0.1:1/shop?serverSelectionTimeoutMS=300', ...FIXED }),
      ).rejects.toMatchObject({ code: 'ECONNECT' });
      await expect(commit({ repo, uri: t.dbUri, db: 'dbsnap_no_such_db_x', ...FIXED })).rejects.toMatchObject({ code: 'EDBNOTFOUND' });
      await expect(commit({ repo: join(dir, 'nope'), uri: t.dbUri, ...FIXED })).rejects.toMatchObject({ code: 'ENOREPO' });
      await expect(commit({ repo, uri: t.dbUri, collections: ['missing'], ...FIXED })).rejects.toMatchObject({ code: 'ECOLLNOTFOUND' });
      expect(await headState()).toEqual(before);
      expect(existsSync(join(repo, 'dbsnap.lock'))).toBe(false);
    } finally {
      await t.drop();
    }
  });

  it('skips system collections and handles odd collection names', async () => {
    const t = await useTestDatabase('names');
    try {
      for (const name of ['with.dots', 'with space', 'ünïcødé 中文', 'per%cent', 'slash\\back']) {
        await t.db.collection(name).insertOne({ _id: name });
      }
      await t.db.createCollection('v', { viewOn: 'with.dots', pipeline: [{ $match: { _id: { $exists: true } } }] });
      const r = await commit({ repo, uri: t.dbUri, ...FIXED });
      expect(r.collections.map((c) => `${c.name}:${c.type}:${c.documents}`).sort()).toEqual(
        ['per%cent:collection:1', 'slash\\back:collection:1', 'v:view:0', 'with space:collection:1', 'with.dots:collection:1', 'ünïcødé 中文:collection:1'].sort(),
      );
      const files = [...(await (await SnapshotRepository.open(repo)).listFiles(r.commit!)).keys()];
      expect(files).toContain('collections/per%25cent/collection.json');
      expect(files).toContain('collections/slash%5Cback/parts/' + files.find((f) => f.startsWith('collections/slash%5Cback/parts/'))!.split('/').pop());
      expect(files.some((f) => f.includes('system.'))).toBe(false);
    } finally {
      await t.drop();
    }
  });

  it('a server gone in the middle of a read fails with one line and leaves HEAD where it was', async () => {
    const t = await useTestDatabase('gone');
    try {
      const rows = Array.from({ length: 5000 }, (_, i) => ({ _id: i, v: 'x'.repeat(50) }));
      await t.db.collection('big').insertMany(rows);
      const before = await headState();
      // mongod's failCommand fail point (the test server has it; a real mongod needs enableTestCommands).
      await t.client.db('admin').command({
        configureFailPoint: 'failCommand',
        mode: { times: 1 },
        data: { failCommands: ['getMore'], closeConnection: true, appName: 'dbsnap' },
      });
      const err = await commit({ repo, uri: t.dbUri, ...FIXED }).catch((e: unknown) => e as { code: string; message: string });
      expect(err).toMatchObject({ code: 'EMONGO' });
      expect((err as unknown as Error).message).toMatch(/^reading "big" failed, nothing was committed and HEAD did not move: /);
      expect((err as unknown as Error).message.split('\n')).toHaveLength(1);
      expect(await headState()).toEqual(before);
    } finally {
      await t.client.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' }).catch(() => {});
      await t.drop();
    }
  });
});

describe('partial commits and a fresh repository', () => {
  it('--collections reads only those, keeps the rest from HEAD; status after init shows everything as new', async () => {
    const { status } = await import('../../src/index.js');
    const t = await useTestDatabase('partial');
    try {
      await t.db.collection('a').insertMany([{ _id: 1, v: 1 }]);
      await t.db.collection('b').insertMany([{ _id: 1, v: 1 }]);
      const fresh = await status({ repo, uri: t.dbUri });
      expect(fresh.clean).toBe(false);
      expect(fresh.collections.map((c) => [c.name, c.status, c.added])).toEqual([['a', 'added', 1], ['b', 'added', 1]]);

      const first = await commit({ repo, uri: t.dbUri, ...FIXED });
      await t.db.collection('a').updateOne({ _id: 1 }, { $set: { v: 2 } });
      await t.db.collection('b').updateOne({ _id: 1 }, { $set: { v: 2 } });
      const partial = await commit({ repo, uri: t.dbUri, collections: ['a'], ...FIXED });
      expect(partial.collections.map((c) => [c.name, c.source, c.changed])).toEqual([['a', 'read', true], ['b', 'kept', false]]);
      const store = await SnapshotRepository.open(repo);
      const before = await store.listFiles(first.commit!);
      const after = await store.listFiles(partial.commit!);
      const bFiles = (m: Map<string, string>) => [...m].filter(([p]) => p.startsWith('collections/b/'));
      expect(bFiles(after)).toEqual(bFiles(before));
      // b still differs from HEAD; a does not.
      const s = await status({ repo, uri: t.dbUri });
      expect(s.collections.filter((c) => c.status !== 'unchanged').map((c) => c.name)).toEqual(['b']);

      // --exclude keeps b as in HEAD; a collection dropped from the database leaves the snapshot.
      await t.db.collection('c').insertOne({ _id: 1 });
      await commit({ repo, uri: t.dbUri, ...FIXED });
      await t.db.collection('c').drop();
      const excluded = await commit({ repo, uri: t.dbUri, exclude: ['b'], ...FIXED });
      expect(excluded.collections.map((c) => c.name)).toEqual(['a', 'b']);
      expect(excluded.collections[1]!.source).toBe('kept');
      // a was not excluded: read now, or skipped unread where the server's hash shows it unchanged.
      expect(['read', 'server-hash']).toContain(excluded.collections[0]!.source);
    } finally {
      await t.drop();
    }
  });
});
