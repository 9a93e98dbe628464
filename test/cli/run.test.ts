import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { listTags, log } from '../../src/index.js';
import { SnapshotRepository } from '../../src/store/index.js';
import { useTempRepository } from '../support/temp-repo.js';
import { useTestDatabase, type TestDatabase } from '../support/test-db.js';
import { loadShop } from '../support/shop.js';
import { cli } from './support.js';

const ROOT = new URL('../..', import.meta.url).pathname;
const BIN = new URL('../../bin/dbsnap.js', import.meta.url).pathname;

let repo = '';
useTempRepository('run', (r) => ({ repo } = r));

/** Runs the built binary; the wrapped command inherits its stdio, so both are captured here. */
function dbsnap(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, NO_COLOR: '1', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** Every collection's documents as raw BSON in _id order, plus its indexes: the database's exact state. */
async function rawState(t: TestDatabase): Promise<Record<string, { docs: string[]; indexes: unknown[] }>> {
  const out: Record<string, { docs: string[]; indexes: unknown[] }> = {};
  const names = (await t.db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).filter((n) => !n.startsWith('system.')).sort();
  for (const name of names) {
    const docs = await t.db.collection(name).find({}, { sort: { _id: 1 }, raw: true }).toArray();
    const indexes = (await t.db.collection(name).listIndexes().toArray()).map(({ v: _v, ...rest }) => rest).sort((a, b) => String(a.name).localeCompare(String(b.name)));
    out[name] = { docs: docs.map((d) => Buffer.from(d as unknown as Uint8Array).toString('base64')), indexes };
  }
  return out;
}

/** A small "migration" in its own process: changes the database, then exits with `exit`. */
function migration(uri: string, exit: number): string[] {
  const script = `
    const { MongoClient } = require('mongodb');
    (async () => {
      const c = await MongoClient.connect(${JSON.stringify(uri)});
      const db = c.db();
      await db.collection('users').updateMany({}, { $set: { migrated: 42 } });
      await db.collection('orders').deleteMany({ status: 'cancelled' });
      await db.collection('audit').insertOne({ _id: 'm042', note: 'half done' });
      await db.collection('users').createIndex({ migrated: 1 });
      await c.close();
      console.log('migration output');
      process.exit(${exit});
    })();`;
  return ['node', '-e', script];
}

describe('dbsnap run (real binary)', () => {
  it('a successful command: before and after snapshots, tagged; the stat; the command exit code', async () => {
    const t = await useTestDatabase('run_ok');
    try {
      await loadShop(t.db, { totalDocs: 120, seed: 5 });
      const r = await dbsnap(['run', '--repo', repo, '--uri', t.dbUri, '-m', 'migration 042', '--tag', 'm042', '--', ...migration(t.dbUri, 0)]);
      expect(r.stderr).not.toMatch(/error/);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('migration output\n');
      const tags = await listTags({ repo });
      expect(tags.map((x) => x.name)).toEqual(['m042/after', 'm042/before']);
      const entries = await log({ repo });
      expect(entries[0]!.subject).toBe('After: migration 042');
      expect(entries[1]!.subject).toBe('Before: migration 042');
      expect(tags.find((x) => x.name === 'm042/after')!.commit).toBe(entries[0]!.commit);
      expect(tags.find((x) => x.name === 'm042/before')!.commit).toBe(entries[1]!.commit);
      const users = await t.db.collection('users').countDocuments();
      expect(r.stderr).toContain(`users  | 0 added, 0 removed, ${users} changed; +1 index`);
      expect(r.stderr).toMatch(/audit {2}\| 1 added, 0 removed, 0 changed/);
      expect(r.stderr).not.toContain('dbsnap restore');

      // Nothing changed since: the before snapshot is HEAD (no commit), the tags name it.
      const again = await dbsnap(['run', '--repo', repo, '--uri', t.dbUri, '--json', '--', 'node', '-e', 'process.exit(0)']);
      expect(again.code).toBe(0);
      const j = JSON.parse(again.stdout);
      expect(j.before).toMatchObject({ committed: false, commit: entries[0]!.commit });
      expect(j.after).toMatchObject({ committed: false, commit: entries[0]!.commit });
      expect(j.before.tag).toMatch(/^run\/\d{8}T\d{6}Z\/before$/);
      expect((await log({ repo })).length).toBe(entries.length);
    } finally {
      await t.drop();
    }
  }, 120_000);

  it('a failing command: exit code passed on and the exact restore command printed, which works', async () => {
    const t = await useTestDatabase('run_fail');
    try {
      await loadShop(t.db, { totalDocs: 120, seed: 6 });
      const before = await rawState(t);
      const r = await dbsnap(['run', '--repo', repo, '--uri', t.dbUri, '-m', 'bad migration', '--', ...migration(t.dbUri, 3)]);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain('dbsnap: the command failed: exit 3');
      const line = r.stderr.split('\n').find((l) => l.trim().startsWith('dbsnap restore '))!.trim();
      expect(line).toMatch(/^dbsnap restore run\/\d{8}T\d{6}Z\/before --repo \S+ --uri \S+ --db dbsnap_test_run_fail_\w+ --yes$/);
      expect(await rawState(t)).not.toEqual(before);
      const entries = await log({ repo });
      expect(entries[0]!.subject).toBe('After: bad migration (failed, exit 3)');
      // The printed command, run as printed, puts the database back byte for byte.
      const restored = await dbsnap(line.split(' ').slice(1));
      expect(restored.stderr).toBe('');
      expect(restored.code).toBe(0);
      // restore leaves a collection that is not in the snapshot alone, and run said so.
      expect(r.stderr).toContain('dbsnap: the command also created audit; restore leaves it in place');
      const { audit, ...rest } = await rawState(t);
      expect(audit!.docs).toHaveLength(1);
      expect(rest).toEqual(before);
    } finally {
      await t.drop();
    }
  }, 120_000);

  it('--restore-on-failure leaves the database identical to the before-snapshot (raw BSON), with a safety snapshot', async () => {
    const t = await useTestDatabase('run_undo');
    try {
      await loadShop(t.db, { totalDocs: 150, seed: 7 });
      const before = await rawState(t);
      const r = await dbsnap(['run', '--repo', repo, '--uri', t.dbUri, '-m', 'doomed', '--restore-on-failure', '--', ...migration(t.dbUri, 1)]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/dbsnap: restored run\/\S+\/before: verified: 4 collections, \d+ documents identical to [0-9a-f]{40}/);
      expect(r.stderr).toContain('dbsnap: dropped audit (created by the command; kept in run/');
      expect(await rawState(t)).toEqual(before);
      const store = await SnapshotRepository.open(repo);
      const safety = await store.listRefs('refs/dbsnap/safety/');
      expect(safety).toHaveLength(1);
      // The safety snapshot holds the replaced collections as the failed command left them, the
      // after-snapshot everything, including the collection it created.
      const after = (await log({ repo }))[0]!.commit;
      const usersFiles = async (c: string) => [...(await store.listFiles(c, 'collections/users/'))].filter(([p]) => p.includes('/parts/'));
      expect(await usersFiles(safety[0]!.oid)).toEqual(await usersFiles(after));
      expect([...(await store.listFiles(after)).keys()].some((p) => p.startsWith('collections/audit/'))).toBe(true);
    } finally {
      await t.drop();
    }
  }, 120_000);

  it('a command that cannot be started exits 127 and a server that cannot be reached runs nothing', async () => {
    const t = await useTestDatabase('run_nocmd');
    try {
      await t.db.collection('c').insertOne({ _id: 1 });
      const r = await dbsnap(['run', '--repo', repo, '--uri', t.dbUri, '--', 'dbsnap-no-such-command-x']);
      expect(r.code).toBe(127);
      expect(r.stderr).toContain('dbsnap: the command "dbsnap-no-such-command-x" could not be started: not found (ENOENT): check the name and PATH\n');
      const down = await dbsnap(['run', '--repo', repo, '--uri', 'mongodb://127.0.0.1:1/x?serverSelectionTimeoutMS=200', '--', 'node', '-e', 'console.log("ran")']);
      expect(down.code).toBe(2);
      expect(down.stdout).toBe('');
      expect(down.stderr).toMatch(/^error: cannot reach MongoDB/);
      // --tag v1 while a tag v1 exists: v1/before cannot be created (tags are paths); refused before anything runs.
      const first = await dbsnap(['commit', '--repo', repo, '--uri', t.dbUri, '-m', 'one']);
      expect(first.code).toBe(0);
      expect((await dbsnap(['tag', 'v1', '--repo', repo])).code).toBe(0);
      const head = await (await SnapshotRepository.open(repo)).resolveCommit('HEAD');
      const clash = await dbsnap(['run', '--repo', repo, '--uri', t.dbUri, '--tag', 'v1', '--', 'node', '-e', 'console.log("ran")']);
      expect(clash.code).toBe(2);
      expect(clash.stdout).toBe('');
      expect(clash.stderr).toContain('cannot create tag "v1/before": tag "v1" exists');
      expect(await (await SnapshotRepository.open(repo)).resolveCommit('HEAD')).toBe(head);
      expect((await listTags({ repo })).map((x) => x.name).filter((n) => n.startsWith('v1'))).toEqual(['v1']);
    } finally {
      await t.drop();
    }
  }, 120_000);
});

describe('dbsnap run argv', () => {
  it('passes the command after -- verbatim and refuses no command', async () => {
    const calls: Record<string, unknown>[] = [];
    const core = {
      ...(await import('../../src/core/index.js')),
      snapshotAround: async (o: Record<string, unknown>) => {
        calls.push(o);
        return { outcome: { exitCode: 5 }, changes: { collections: [], totals: { collections: { added: 0, removed: 0 }, documents: { added: 0, removed: 0, changed: 0 } } }, before: {}, after: {}, restoreCommand: 'dbsnap restore x', created: [] };
      },
    } as never;
    const r = await cli(['run', '--uri', 'mongodb://h/db', '--tag', 'x', '--', 'sleep', '007', '--flag'], { core });
    expect(r.stderr).toContain('dbsnap: to put the database back as it was before the command, run:\n  dbsnap restore x\n');
    expect(r.code).toBe(5);
    expect(calls[0]).toMatchObject({ command: ['sleep', '007', '--flag'], tag: 'x', restoreOnFailure: false, uri: 'mongodb://h/db' });
    const none = await cli(['run', '--uri', 'mongodb://h/db'], { core: (await import('../../src/core/index.js')) as never });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^error: dbsnap run needs a command after --/);
  }, 120_000);
});
