/**
 * The server-hash cache (dbsnap/server-hashes.json) never holds the server's plain MD5 of a
 * collection with sensitive fields: that is a hash of the plaintext, and lets anyone holding the
 * repository confirm a guess of the data. Such collections get a keyed hash, which still lets the
 * next commit skip them (issue #10).
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { configValue } from '../../src/index.js';
import { FIXED, useRepositoryAndDatabase } from '../support/temp-repo.js';
import type { TestDatabase } from '../support/test-db.js';
import { dbsnap } from './support.js';

const KEY = 'ab'.repeat(32);
let repo = '';
let t: TestDatabase;

useRepositoryAndDatabase('hashleak', async (s) => {
  ({ repo, t } = s);
  await configValue({ repo, key: 'sensitive.users', value: '["email"]', ...FIXED });
  await t.db.collection('users').insertMany([{ _id: 1, email: 'a@example.com' }, { _id: 2, email: 'b@example.com' }]);
  await t.db.collection('orders').insertMany([{ _id: 1, user: 1 }]);
});

/** Every file under the repository, loose git objects inflated. */
async function everyFileText(d: string): Promise<string> {
  let out = '';
  for (const e of await readdir(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    if (e.isDirectory()) out += await everyFileText(p);
    else {
      const buf = await readFile(p);
      out += (/\/objects\/[0-9a-f]{2}\/[0-9a-f]{38}$/.test(p) ? inflateSync(buf) : buf).toString('latin1') + '\n';
    }
  }
  return out;
}

describe('server hashes of collections with sensitive fields', () => {
  it('are kept only keyed; the next commit still skips the unchanged collection', async () => {
    const hashes = (await t.db.command({ dbHash: 1, collections: ['users', 'orders'] })).collections as Record<string, string>;
    expect(hashes.users).toMatch(/^[0-9a-f]{32}$/);
    const env = { DBSNAP_KEY: KEY };
    const first = await dbsnap(['commit', '--repo', repo, '--uri', t.dbUri, '--server-hashes'], { env });
    expect(first.code).toBe(0);

    const cache = JSON.parse(await readFile(join(repo, 'dbsnap', 'server-hashes.json'), 'utf8')) as Record<string, { serverHash: string }>;
    // The plain collection keeps the server's hash; the sensitive one a keyed digest of it.
    expect(cache.orders!.serverHash).toBe(hashes.orders);
    expect(cache.users!.serverHash).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    // Nowhere in the repository (cache, refs, git objects) is the plaintext hash of users.
    const everything = await everyFileText(repo);
    expect(everything).toContain(hashes.orders);
    expect(everything).not.toContain(hashes.users);

    // The keyed hash still does its job: unchanged collections are not read again.
    const second = await dbsnap(['commit', '--repo', repo, '--uri', t.dbUri, '--server-hashes', '--allow-empty', '--json'], { env });
    expect(second.code).toBe(0);
    const sources = Object.fromEntries((JSON.parse(second.stdout).collections as { name: string; source: string }[]).map((c) => [c.name, c.source]));
    expect(sources).toEqual({ orders: 'server-hash', users: 'server-hash' });
  });
});
