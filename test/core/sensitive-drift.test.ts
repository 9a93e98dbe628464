/**
 * Which fields are encrypted is read from the snapshot's values, never from the config alone:
 * a config changed after the commit (a field removed from `sensitive`, or renamed) must neither
 * let restore write ciphertext as data nor let verify pass it over (issue #10, defect 1).
 */
import { describe, expect, it } from 'vitest';
import { commit, configValue, restore, verify } from '../../src/index.js';
import { generateKey } from '../../src/crypto/index.js';
import { FIXED, useTempRepository } from '../support/temp-repo.js';
import { useTestDatabase } from '../support/test-db.js';

let repo = '';
useTempRepository('drift', (r) => ({ repo } = r));

describe('sensitive fields changed after a commit', () => {
  it.each([
    ['removed from the config', '[]'],
    ['renamed to another path', '["contact.email"]'],
  ])('%s: restore needs the key and puts back plaintext; verify reports the undeclared values', async (_what, later) => {
    const t = await useTestDatabase('drift');
    try {
      const key = generateKey();
      const users = [
        { _id: 1, name: 'Ada', email: 'ada@example.com' },
        { _id: 2, name: 'Bob', email: 'bob@example.com' },
      ];
      await t.db.collection('users').insertMany(users);
      await configValue({ repo, key: 'sensitive.users', value: '["email"]', ...FIXED });
      await commit({ repo, uri: t.dbUri, key, ...FIXED });
      await configValue({ repo, key: 'sensitive.users', value: later, ...FIXED });

      const report = await verify({ repo, ref: 'HEAD' });
      expect(report.ok).toBe(false);
      expect(JSON.stringify(report.problems)).toContain('users.email');

      await t.db.collection('users').deleteMany({});
      const noKey = (await restore({ repo, ref: 'HEAD', uri: t.dbUri, backup: false, confirm: async () => true }).catch((e: unknown) => e)) as { code: string; message: string };
      expect(noKey.code).toBe('EKEY');
      expect(noKey.message).toContain('users.email (encrypted in the snapshot, not declared in its dbsnap.json)');
      expect(await t.db.collection('users').countDocuments()).toBe(0);

      for (const readBack of [false, true]) {
        const r = await restore({ repo, ref: 'HEAD', uri: t.dbUri, key, backup: false, readBack, confirm: async () => true });
        expect(r.summary).toBe('verified: 1 collection, 2 documents identical to HEAD');
        expect(await t.db.collection('users').find({}, { sort: { _id: 1 } }).toArray()).toEqual(users);
      }
    } finally {
      await t.drop();
    }
  });
});
