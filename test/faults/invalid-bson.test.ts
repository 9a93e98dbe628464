/**
 * A reply holding a document that is not valid BSON (a field's type byte corrupted on the way,
 * which the driver refuses to decode): commit fails naming the collection and the document (by
 * the _id of the last good one before it), and HEAD does not move, for plain collections and for
 * those with sensitive fields alike (issue #10).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configValue, init } from '../../src/index.js';
import { FIXED } from '../support/temp-repo.js';
import { useTestDatabase, uriWithDatabase, type TestDatabase } from '../support/test-db.js';
import { startFaultProxy, type FaultProxy } from './proxy.js';
import { revParse, runDbsnap } from './support.js';

const KEY = 'ab'.repeat(32);
let dir = '';
let repo = '';
let t: TestDatabase;
let proxy: FaultProxy;
let viaProxy = '';

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dbsnap-badbson-'));
  repo = join(dir, 'backup-repo');
  await init({ repo, ...FIXED });
  await configValue({ repo, key: 'sensitive.users', value: '["email"]', ...FIXED });
  t = await useTestDatabase('badbson');
  await t.db.collection('users').insertMany([{ _id: 6, email: 'a@x' }, { _id: 7, email: 'b@x', zq9marker: 'users' }]);
  await t.db.collection('items').insertMany([{ _id: 2 }, { _id: 3, zq9marker: 'items' }]);
  proxy = await startFaultProxy(t.uri);
  viaProxy = `${uriWithDatabase(proxy.uri, t.dbName)}?directConnection=true&serverSelectionTimeoutMS=2000`;
});
afterAll(async () => {
  await proxy?.close();
  await t?.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('invalid BSON from the server', () => {
  it.each([
    ['items', '3'],
    ['users', '7'],
  ])('commit of %s names the collection and the document (the one after _id %s - 1); HEAD does not move', async (collection, id) => {
    const head = revParse(repo, 'HEAD');
    // The string field zq9marker (type 0x02) arrives as type 0x99, which no BSON reader knows.
    proxy.plan({ corrupt: { find: Buffer.from('\x02zq9marker\x00', 'latin1'), replace: Buffer.from('\x99zq9marker\x00', 'latin1') } });
    const r = await runDbsnap(['commit', '--repo', repo, '--uri', viaProxy, '--collections', collection, '--no-server-hashes'], { env: { DBSNAP_KEY: KEY } });
    expect(proxy.tripped()).toBe(true);
    expect(r.code).toBe(2);
    // The driver refuses the reply itself: the document is named by the last good one before it.
    expect(r.stderr).toMatch(new RegExp(`^error: collection "${collection}": the server sent the document after _id \\{"\\$numberInt":"${Number(id) - 1}"\\} as invalid BSON \\([^\\n]*0x99[^\\n]*\\); nothing was committed and HEAD did not move\\.`));
    expect(revParse(repo, 'HEAD')).toBe(head);
  });
});
