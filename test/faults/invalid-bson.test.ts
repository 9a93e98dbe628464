/**
 * A reply holding a document that is not valid BSON (a field's type byte corrupted on the way,
 * which the driver refuses to decode): commit fails naming the collection and the document (by
 * the _id of the last good one before it), and HEAD does not move, for plain collections and for
 * those with sensitive fields alike (issue #10).
 */
import { describe, expect, it } from 'vitest';
import { configValue } from '../../src/index.js';
import { FIXED } from '../support/temp-repo.js';
import type { TestDatabase } from '../support/test-db.js';
import type { FaultProxy } from './proxy.js';
import { revParse, runDbsnap, useProxiedDatabase } from './support.js';

const KEY = 'ab'.repeat(32);
let repo = '';
let t: TestDatabase;
let proxy: FaultProxy;
let viaProxy = '';

useProxiedDatabase('badbson', async (s) => {
  ({ repo, t, proxy, viaProxy } = s);
  await configValue({ repo, key: 'sensitive.users', value: '["email"]', ...FIXED });
  await t.db.collection('users').insertMany([{ _id: 6, email: 'a@x' }, { _id: 7, email: 'b@x', zq9marker: 'users' }]);
  await t.db.collection('items').insertMany([{ _id: 2 }, { _id: 3, zq9marker: 'items' }]);
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
