/**
 * Key errors name the key's source actually used (the key file given, or the variable), never
 * DBSNAP_KEY when --key-file was given (issue #10).
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commit, configValue } from '../../src/index.js';
import { parseKey } from '../../src/crypto/index.js';
import { FIXED, useRepositoryAndDatabase } from '../support/temp-repo.js';
import type { TestDatabase } from '../support/test-db.js';
import { dbsnap } from './support.js';

const KEY = 'ab'.repeat(32);
const OTHER = 'cd'.repeat(32);
let repo = '';
let wrongFile = '';
let badFile = '';
let t: TestDatabase;

useRepositoryAndDatabase('keysource', async (s) => {
  ({ repo, t } = s);
  wrongFile = join(s.dir, 'wrong.key');
  badFile = join(s.dir, 'bad.key');
  await writeFile(wrongFile, `${OTHER}\n`);
  await writeFile(badFile, 'not-a-key\n');
  await configValue({ repo, key: 'sensitive.users', value: '["email"]', ...FIXED });
  await t.db.collection('users').insertMany([{ _id: 1, email: 'a@x' }]);
  await commit({ repo, uri: t.dbUri, key: KEY, ...FIXED });
});

const keyId = (k: string) => parseKey(k, 'test').id;

describe('key errors name the source actually used', () => {
  it.each([
    ['restore', () => ['restore', 'HEAD', '--yes', '--uri', t.dbUri]],
    ['commit', () => ['commit', '--uri', t.dbUri]],
    ['verify', () => ['verify', '--uri', t.dbUri]],
  ])('%s --key-file with the wrong key names the file, not DBSNAP_KEY', async (_c, argv) => {
    // DBSNAP_KEY holds the right key: --key-file wins, and the error must say which one was wrong.
    const r = await dbsnap(['--repo', repo, ...argv(), '--key-file', wrongFile], { env: { DBSNAP_KEY: KEY } });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `error: wrong key: the repository's sensitive fields are encrypted with key ${keyId(KEY)}, but the key file ${wrongFile} is key ${keyId(OTHER)}.\n`,
    );
  });

  it('a malformed key file is named; a malformed DBSNAP_KEY is named', async () => {
    const f = await dbsnap(['restore', 'HEAD', '--yes', '--repo', repo, '--uri', t.dbUri, '--key-file', badFile]);
    expect(f.code).toBe(2);
    expect(f.stderr).toMatch(new RegExp(`^error: the key file ${badFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} does not hold a valid dbsnap key \\(found 9 characters\\)`));
    const e = await dbsnap(['restore', 'HEAD', '--yes', '--repo', repo, '--uri', t.dbUri], { env: { DBSNAP_KEY: 'not-a-key' } });
    expect(e.code).toBe(2);
    expect(e.stderr).toMatch(/^error: DBSNAP_KEY does not hold a valid dbsnap key \(found 9 characters\)/);
    expect(f.stderr + e.stderr).not.toContain('not-a-key');
  });

  it('rekey names --old-key-file and DBSNAP_OLD_KEY', async () => {
    const f = await dbsnap(['rekey', '--repo', repo, '--old-key-file', wrongFile], { env: { DBSNAP_KEY: OTHER } });
    expect(f.code).toBe(2);
    expect(f.stderr).toContain(`but the key file ${wrongFile} is key ${keyId(OTHER)}.`);
    const e = await dbsnap(['rekey', '--repo', repo], { env: { DBSNAP_OLD_KEY: OTHER, DBSNAP_KEY: OTHER } });
    expect(e.code).toBe(2);
    expect(e.stderr).toContain(`but DBSNAP_OLD_KEY is key ${keyId(OTHER)}.`);
  });

  it('rekey to the key already in use says so and changes nothing (HEAD unchanged, exit 0)', async () => {
    const head = () => execFileSync('git', ['-C', repo, 'rev-parse', 'HEAD'], { encoding: 'utf8' }).trim();
    const before = head();
    const r = await dbsnap(['rekey', '--repo', repo], { env: { DBSNAP_OLD_KEY: KEY, DBSNAP_KEY: KEY } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`already encrypted with that key (${keyId(KEY)}); nothing changed, HEAD is still ${before.slice(0, 7)}\n`);
    expect(head()).toBe(before);
    const j = await dbsnap(['rekey', '--repo', repo, '--json'], { env: { DBSNAP_OLD_KEY: KEY, DBSNAP_KEY: KEY } });
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toMatchObject({ commit: before, keyId: keyId(KEY), unchanged: true, collections: [] });
    expect(head()).toBe(before);
  });
});
