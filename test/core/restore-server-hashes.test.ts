/**
 * restore checks what it loaded with dbHash only where dbHash is allowed (it takes a shared lock
 * on the target database that blocks writes while it runs); elsewhere it reads the collections
 * back. The wire test server in replica-set mode logs every command, so "no dbHash" is asserted.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { commit, init } from '../../src/index.js';
import { configValue } from '../../src/core/config-value.js';
import { restore } from '../../src/core/restore.js';
import { startWireServer, type WireServer } from '../support/wire-server/server.js';

const FIXED = { author: { name: 'Test', email: 'test@example.com' }, now: new Date('2025-01-02T03:04:05Z') };
let dir = '';
let repo = '';
let server: WireServer;
let client: MongoClient;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dbsnap-restore-hash-'));
  repo = join(dir, 'backup-repo');
  await init({ repo, ...FIXED });
  server = await startWireServer({ replicaSet: 'rs0' });
  client = await MongoClient.connect(server.uri);
  await client.db('shop').collection('users').insertMany([{ _id: 1, name: 'Ada' }, { _id: 2, name: 'Bob' }] as never[]);
  await client.db('shop').collection('orders').insertMany([{ _id: 1, total: 5 }] as never[]);
  await commit({ repo, uri: `${server.uri}/shop`, ...FIXED });
});
afterEach(async () => {
  await client.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

const dbHashes = (from: number) => server.replicaSet!.commandLog.slice(from).filter((c) => c.name === 'dbHash');

it('on a server on this machine: dbHash checks the loaded collections', async () => {
  const mark = server.replicaSet!.commandLog.length;
  const r = await restore({ repo, ref: 'HEAD', uri: `${server.uri}/copy`, confirm: async () => true, ...FIXED });
  expect(r.restored.map((c) => c.check)).toEqual(['server-hash', 'server-hash']);
  expect(dbHashes(mark).length).toBeGreaterThan(0);
});

it('dbHash not allowed (useServerHashes: false, or serverHashes: false in dbsnap.json): read back, no dbHash sent', async () => {
  let mark = server.replicaSet!.commandLog.length;
  const r = await restore({ repo, ref: 'HEAD', uri: `${server.uri}/copy`, useServerHashes: false, confirm: async () => true, ...FIXED });
  expect(r.restored.map((c) => c.check)).toEqual(['hash', 'hash']);
  expect(r.summary).toBe('verified: 2 collections, 3 documents identical to HEAD');
  expect(dbHashes(mark)).toEqual([]);
  // Reading back means reading the temporary collections in full.
  expect(server.replicaSet!.commandLog.slice(mark).filter((c) => c.name === 'find' && c.db === 'copy' && c.coll?.startsWith('__dbsnap_tmp_')).length).toBe(2);

  await configValue({ repo, key: 'serverHashes', value: 'false', ...FIXED });
  mark = server.replicaSet!.commandLog.length;
  const byConfig = await restore({ repo, ref: 'HEAD', uri: `${server.uri}/copy2`, confirm: async () => true, ...FIXED });
  expect(byConfig.restored.map((c) => c.check)).toEqual(['hash', 'hash']);
  expect(dbHashes(mark)).toEqual([]);
});
