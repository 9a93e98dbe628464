/**
 * commit says what it did not snapshot: the server's system.* collections and the temporary
 * collections an interrupted restore left, with the command that removes them (issue #10).
 */
import { describe, expect, it } from 'vitest';
import { useRepositoryAndDatabase } from '../support/temp-repo.js';
import type { TestDatabase } from '../support/test-db.js';
import { dbsnap } from './support.js';

let repo = '';
let t: TestDatabase;

useRepositoryAndDatabase('skipped', async (s) => {
  ({ repo, t } = s);
  await t.db.collection('users').insertOne({ _id: 1 });
  await t.db.collection('system.js').insertOne({ _id: 'add', value: 'function (a, b) { return a + b; }' });
  await t.db.collection('__dbsnap_tmp_a1b2c3_0').insertOne({ _id: 1 });
});

describe('commit and what it skips', () => {
  it('says so on stderr, one line each, and lists them in --json', async () => {
    const human = await dbsnap(['commit', '--repo', repo, '--uri', t.dbUri]);
    expect(human.code).toBe(0);
    expect(human.stderr).toBe(
      'warning: not snapshotted: system.js (system collections belong to the server; dbsnap never reads or restores them).\n' +
        `warning: not snapshotted: 1 temporary collection of a restore (__dbsnap_tmp_a1b2c3_0); unless a restore into ${t.dbName} is running now, ` +
        `an interrupted one left it: run dbsnap restore --cleanup --db ${t.dbName}\n`,
    );
    expect(human.stdout).toContain(' A users: 1 documents in 1 part');
    expect(human.stdout).not.toContain('system.js');

    const json = await dbsnap(['commit', '--repo', repo, '--uri', t.dbUri, '--json', '--allow-empty']);
    expect(json.code).toBe(0);
    expect(json.stderr).toBe('');
    const r = JSON.parse(json.stdout);
    expect(r.skipped).toEqual([
      { name: 'system.js', reason: 'system' },
      { name: '__dbsnap_tmp_a1b2c3_0', reason: 'restore-temporary' },
    ]);
    expect(r.warnings).toHaveLength(2);
    expect(r.collections.map((c: { name: string }) => c.name)).toEqual(['users']);

    // The cleanup the warning names removes the leftover; the next commit says nothing.
    const clean = await dbsnap(['restore', '--cleanup', '--db', t.dbName, '--repo', repo, '--uri', t.dbUri]);
    expect(clean.code).toBe(0);
    const after = await dbsnap(['commit', '--repo', repo, '--uri', t.dbUri, '--json', '--allow-empty']);
    expect(JSON.parse(after.stdout).skipped).toEqual([{ name: 'system.js', reason: 'system' }]);
  });
});
