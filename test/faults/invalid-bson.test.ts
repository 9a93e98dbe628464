/**
 * A reply holding a document that is not valid BSON (a field's type byte or a length corrupted on
 * the way, which the driver refuses to decode): commit fails naming the collection and the
 * document by its own _id, and HEAD does not move, for plain collections and for those with
 * sensitive fields alike; also when the driver refuses the whole batch, and when the damage does
 * not come back on a second read it says so instead of blaming a document (issue #10).
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
  // Thirty documents read in one batch; the 18th's length is what a damaged reply gets wrong.
  await t.db.collection('batch').insertMany(Array.from({ length: 30 }, (_, i) => (i === 17 ? { _id: i, zq9len: 'xQQQy' } : { _id: i, a: 'y' })));
});

describe('invalid BSON from the server', () => {
  it.each([
    ['items', '3'],
    ['users', '7'],
  ])('commit of %s names the collection and the document (_id %s); HEAD does not move', async (collection, id) => {
    const head = revParse(repo, 'HEAD');
    // The string field zq9marker (type 0x02) arrives as type 0x99, which no BSON reader knows.
    proxy.plan({ corrupt: { find: Buffer.from('\x02zq9marker\x00', 'latin1'), replace: Buffer.from('\x99zq9marker\x00', 'latin1') } });
    const r = await runDbsnap(['commit', '--repo', repo, '--uri', viaProxy, '--collections', collection, '--no-server-hashes'], { env: { DBSNAP_KEY: KEY } });
    expect(proxy.tripped()).toBe(true);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^error: collection "${collection}": the server sent the document _id \\{"\\$numberInt":"${id}"\\} as invalid BSON \\([^\\n]*0x99[^\\n]*\\); nothing was committed and HEAD did not move\\.`));
    expect(revParse(repo, 'HEAD')).toBe(head);
  });

  // {_id: 17, zq9len: 'xQQQy'} is 32 bytes: its length prefix (20 00 00 00) then the int32 _id 17.
  // Saying 0x7f bytes breaks the batch array itself: the driver hands out none of the batch, so
  // "the document after the last one handed out" would name _id 0's predecessor, "the first".
  // Read alone, the document is still damaged (the same bytes); its _id alone is not.
  const wholeBatch = { find: Buffer.from('\x20\x00\x00\x00\x10_id\x00\x11\x00\x00\x00', 'latin1'), replace: Buffer.from('\x7f\x00\x00\x00\x10_id\x00\x11\x00\x00\x00', 'latin1') };

  it('a batch the driver refuses as a whole: the document is still found and named by its _id', async () => {
    const head = revParse(repo, 'HEAD');
    proxy.plan({ corrupt: wholeBatch });
    const r = await runDbsnap(['commit', '--repo', repo, '--uri', viaProxy, '--collections', 'batch', '--no-server-hashes']);
    expect(proxy.tripped()).toBe(true);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: collection "batch": the server sent the document _id \{"\$numberInt":"17"\} as invalid BSON \([^\n]*\); nothing was committed and HEAD did not move\./);
    expect(revParse(repo, 'HEAD')).toBe(head);
  });

  it('a reply damaged once (valid when read again): says so, blames no document', async () => {
    const head = revParse(repo, 'HEAD');
    // The first reply carrying the batch is damaged; every reply after it passes untouched.
    proxy.plan({ corrupt: { ...wholeBatch, once: true } });
    const r = await runDbsnap(['commit', '--repo', repo, '--uri', viaProxy, '--collections', 'batch', '--no-server-hashes']);
    expect(proxy.tripped()).toBe(true);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: collection "batch": the server sent a reply at the start of the collection that is not valid BSON \([^\n]*\); read again one document at a time, the 30 documents after it are valid, so the reply was damaged on the way/);
    expect(r.stderr).not.toMatch(/document _id/);
    expect(r.stderr).toMatch(/nothing was committed and HEAD did not move\. Commit again\.\n$/);
    expect(r.stderr).not.toContain('Fix the document');
    expect(revParse(repo, 'HEAD')).toBe(head);
  });
});
