/**
 * "Nothing changed" without blocking the application, through the real binary: on a replica set
 * a change stream since the last commit's cluster time decides (no collection read, no dbHash);
 * dbHash only where allowed; a full read where neither can tell, and every path says which.
 * The servers are the wire test server (in replica-set mode where a replica set is needed), so
 * the oplog can be made to stop covering the last snapshot.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterEach, describe, expect, it } from 'vitest';
import { connect } from '../../src/mongo/connection.js';
import { defaultConfig } from '../../src/canonical/format.js';
import { openSnapshot } from '../../src/core/snapshot.js';
import { isLocalSource, unchangedCollections } from '../../src/core/unchanged-collections.js';
import { readHeadConfig } from '../../src/core/snapshot.js';
import { listCollections } from '../../src/mongo/reader.js';
import { SnapshotRepository } from '../../src/store/index.js';
import { useTempRepository } from '../support/temp-repo.js';
import { startWireServer, type WireServer } from '../support/wire-server/server.js';
import { dbsnap } from './support.js';

let repo = '';
useTempRepository('detect', (r) => ({ repo } = r));

const servers: WireServer[] = [];
const clients: MongoClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close().catch(() => {});
  for (const s of servers.splice(0)) await s.close().catch(() => {});
});

async function shop(opts: { replicaSet?: string } = {}) {
  const server = await startWireServer(opts);
  servers.push(server);
  const client = await MongoClient.connect(server.uri);
  clients.push(client);
  const db = client.db('shop');
  await db.collection('users').insertMany([{ _id: 1, name: 'Ada' }, { _id: 2, name: 'Bob' }] as never[]);
  await db.collection('orders').insertMany([{ _id: 1, user: 1, total: 5 }, { _id: 2, user: 2, total: 7 }, { _id: 3, user: 1, total: 9 }] as never[]);
  await db.collection('products').insertMany([{ _id: 'p1', price: 3 }] as never[]);
  return { server, db, uri: `${server.uri}/shop` };
}

interface CommitJson {
  committed: boolean;
  commit: string;
  tree: string;
  collections: { name: string; source: string }[];
  detection: { method: string; detail: string; unchanged: string[]; events?: number };
}

async function commitJson(uri: string, ...extra: string[]): Promise<CommitJson> {
  const r = await dbsnap(['commit', '--repo', repo, '--uri', uri, '--json', ...extra]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout) as CommitJson;
}

/**
 * Documents read from user collections: finds (other than the one-document read that pins a
 * snapshot session) and their getMores; a change stream's getMores name `$cmd.aggregate`.
 */
function documentReads(server: WireServer, from: number) {
  return server
    .replicaSet!.commandLog.slice(from)
    .filter((c) => c.db === 'shop' && ((c.name === 'find' && c.limit !== 1) || (c.name === 'getMore' && c.coll !== '$cmd.aggregate')));
}

const sourceOf = (r: CommitJson) => Object.fromEntries(r.collections.map((c) => [c.name, c.source]));

describe('change detection on a replica set (change stream)', () => {
  it('nothing changed: no collection read, no dbHash, no commit; one write: only that collection is read', async () => {
    const { server, db, uri } = await shop({ replicaSet: 'rs0' });
    const first = await commitJson(uri);
    expect(first.committed).toBe(true);
    expect(first.detection.method).toBe('read');
    expect(first.detection.detail).toBe('no earlier snapshot to compare with');
    const point = JSON.parse(await readFile(join(repo, 'dbsnap', 'read-point.json'), 'utf8'));
    expect(point.source).toBe(`mongodb://127.0.0.1:${server.port}/shop`);
    expect(Object.keys(point.collections).sort()).toEqual(['orders', 'products', 'users']);

    let mark = server.replicaSet!.commandLog.length;
    const again = await commitJson(uri);
    expect(again.committed).toBe(false);
    expect(again.commit).toBe(first.commit);
    expect(again.detection.method).toBe('change-stream');
    expect(again.detection.events).toBe(0);
    expect(again.detection.unchanged).toEqual(['orders', 'products', 'users']);
    expect(again.detection.detail).toMatch(/^change stream from cluster time \d+\.\d+ to \d+\.\d+: no writes; 3 of 3 collections unchanged$/);
    expect(documentReads(server, mark)).toEqual([]);
    const names = server.replicaSet!.commandLog.slice(mark).map((c) => c.name);
    expect(names).not.toContain('dbHash');
    expect(names).toContain('aggregate');

    await db.collection('orders').updateOne({ _id: 2 } as never, { $set: { total: 8 } });
    mark = server.replicaSet!.commandLog.length;
    const changed = await commitJson(uri);
    expect(changed.committed).toBe(true);
    expect(changed.detection.method).toBe('change-stream');
    expect(changed.detection.events).toBe(1);
    expect(sourceOf(changed)).toEqual({ orders: 'read', products: 'change-stream', users: 'change-stream' });
    expect(documentReads(server, mark).map((c) => c.coll)).toEqual(['orders']);

    // What the change stream let it skip is exactly what a full read finds: a full read commits nothing.
    const full = await commitJson(uri, '--no-change-streams', '--no-server-hashes');
    expect(full.detection.method).toBe('read');
    expect(full.detection.detail).toBe('change streams turned off; dbHash turned off');
    expect(full.committed).toBe(false);
    expect(full.tree).toBe(changed.tree);
  }, 60_000);

  it('an oplog that no longer reaches the last snapshot: a full read, and the output says why', async () => {
    const { server, db, uri } = await shop({ replicaSet: 'rs0' });
    await commitJson(uri);
    await db.collection('users').insertOne({ _id: 3, name: 'Cy' } as never);
    // The write is gone from the oplog: a stream opened at the last snapshot's time would see nothing.
    server.replicaSet!.truncateOplog();
    const mark = server.replicaSet!.commandLog.length;
    const r = await dbsnap(['commit', '--repo', repo, '--uri', uri, '--no-server-hashes']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ M users: 3 documents in \d+ parts?, 1 added\n/);
    expect(r.stdout).toMatch(
      /change detection: full read \(change stream: the oplog starts at \d+\.\d+, after the last snapshot \(\d+\.\d+\); dbHash turned off\)\n$/,
    );
    expect(documentReads(server, mark).map((c) => c.coll).sort()).toEqual(['orders', 'products', 'users']);

    // On this machine dbHash may stand in where the stream cannot tell. No dbHash was recorded
    // yet (a replica set's commits do not ask for it while the stream can tell): all are read
    // once, and their hashes recorded; the next time, dbHash says all three are unchanged.
    server.replicaSet!.truncateOplog();
    const local = await commitJson(uri);
    expect(local.committed).toBe(false);
    expect(local.detection.method).toBe('server-hashes');
    expect(local.detection.detail).toMatch(/^change stream: the oplog starts at .*; dbHash \(the server is on this machine\): 0 of 3 unchanged$/);
    server.replicaSet!.truncateOplog();
    const hashed = await commitJson(uri);
    expect(hashed.committed).toBe(false);
    expect(hashed.detection.detail).toMatch(/; dbHash \(the server is on this machine\): 3 of 3 unchanged$/);
    expect(sourceOf(hashed)).toEqual({ orders: 'server-hash', products: 'server-hash', users: 'server-hash' });
  }, 60_000);

  it('status and diff against the live database use the change stream too', async () => {
    const { db, uri } = await shop({ replicaSet: 'rs0' });
    await commitJson(uri);
    const clean = await dbsnap(['status', '--repo', repo, '--uri', uri]);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/^nothing changed since HEAD\n {2}change detection: change stream \(change stream from cluster time \S+ to \S+: no writes; 3 of 3 collections unchanged\)\n$/);
    await db.collection('products').deleteOne({ _id: 'p1' } as never);
    const s = await dbsnap(['status', '--repo', repo, '--uri', uri, '--json']);
    expect(s.code).toBe(1);
    const status = JSON.parse(s.stdout);
    expect(status.detection.method).toBe('change-stream');
    expect(status.detection.unchanged).toEqual(['orders', 'users']);
    expect(status.collections.find((c: { name: string }) => c.name === 'products')).toMatchObject({ status: 'changed', removed: 1 });
    const d = await dbsnap(['diff', '--repo', repo, '--uri', uri, '--json', '--stat']);
    expect(d.code).toBe(0);
    expect(JSON.parse(d.stdout).detection).toMatchObject({ method: 'change-stream', unchanged: ['orders', 'users'] });
  }, 60_000);
});

describe('change detection on a standalone server', () => {
  it('dbHash on this machine by default; --no-server-hashes reads everything and says so', async () => {
    const { db, uri } = await shop();
    const first = await commitJson(uri);
    expect(first.detection.method).toBe('read');
    const again = await commitJson(uri);
    expect(again.committed).toBe(false);
    expect(again.detection).toMatchObject({ method: 'server-hashes', unchanged: ['orders', 'products', 'users'] });
    expect(again.detection.detail).toBe('standalone server: no change streams; dbHash (the server is on this machine): 3 of 3 unchanged');
    await db.collection('users').deleteOne({ _id: 2 } as never);
    const read = await commitJson(uri, '--no-server-hashes');
    expect(read.committed).toBe(true);
    expect(read.detection).toEqual({ method: 'read', detail: 'standalone server: no change streams; dbHash turned off', unchanged: [] });
    expect(read.collections.every((c) => c.source === 'read')).toBe(true);
  }, 60_000);

  it('serverHashes: false in dbsnap.json turns dbHash off; --server-hashes turns it back on', async () => {
    const { uri } = await shop();
    await commitJson(uri);
    expect((await dbsnap(['config', 'serverHashes', 'false', '--repo', repo])).code).toBe(0);
    const off = await commitJson(uri);
    expect(off.detection.method).toBe('read');
    expect(off.detection.detail).toBe('standalone server: no change streams; dbHash turned off');
    const on = await commitJson(uri, '--server-hashes');
    expect(on.detection.method).toBe('server-hashes');
    expect(on.detection.detail).toMatch(/dbHash \(--server-hashes\)/);
  }, 60_000);
});

describe('dbHash policy', () => {
  it('a server elsewhere is never asked for dbHash unless allowed', async () => {
    const { server, uri } = await shop({ replicaSet: 'rs0' });
    await commitJson(uri);
    const conn = await connect({ uri });
    try {
      // The same server, described as a remote host: the policy follows the URI's hosts.
      conn.source = { ...conn.source, hosts: ['db1.example.net:27017'] };
      const repository = await SnapshotRepository.open(repo);
      const against = await openSnapshot(repository, (await readHeadConfig(repository)).head!);
      const collections = await listCollections(conn);
      const base = { conn, repoDir: repo, config: defaultConfig(), against, collections, changeStreams: false };
      let mark = server.replicaSet!.commandLog.length;
      const remote = await unchangedCollections(base);
      expect(remote.detection.method).toBe('read');
      expect(remote.detection.detail).toBe('change streams turned off; dbHash (which blocks writes while it runs) is used on a server elsewhere only with --server-hashes');
      expect(server.replicaSet!.commandLog.slice(mark).map((c) => c.name)).not.toContain('dbHash');
      mark = server.replicaSet!.commandLog.length;
      const allowed = await unchangedCollections({ ...base, serverHashes: true });
      expect(allowed.detection.method).toBe('server-hashes');
      expect(server.replicaSet!.commandLog.slice(mark).map((c) => c.name)).toContain('dbHash');
      const byConfig = await unchangedCollections({ ...base, config: { ...defaultConfig(), serverHashes: true } });
      expect(byConfig.detection.detail).toMatch(/dbHash \(serverHashes in dbsnap.json\)/);
    } finally {
      await conn.close();
    }
  }, 60_000);

  it('local means localhost, 127.0.0.0/8, ::1 or a unix socket, every host of the URI', () => {
    expect(isLocalSource(['localhost:27017'])).toBe(true);
    expect(isLocalSource(['127.0.0.1:27017', '127.0.1.1'])).toBe(true);
    expect(isLocalSource(['[::1]:27017'])).toBe(true);
    expect(isLocalSource(['/tmp/mongodb-27017.sock'])).toBe(true);
    expect(isLocalSource(['LOCALHOST.'])).toBe(true);
    expect(isLocalSource(['localhost:27017', 'db2.example.net:27017'])).toBe(false);
    expect(isLocalSource(['10.0.0.5:27017'])).toBe(false);
    expect(isLocalSource(['127.example.net'])).toBe(false);
    expect(isLocalSource(['cluster0.abcde.mongodb.net'], 'mongodb+srv')).toBe(false);
    expect(isLocalSource([])).toBe(false);
  });
});
