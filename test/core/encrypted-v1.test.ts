/**
 * A snapshot encrypted by the version-1 field cipher (test/fixtures/encrypted-v1, written by the
 * old code) restores byte for byte after the move to AES-SIV, and `dbsnap rekey` upgrades it.
 */
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BSON, type Document } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restore } from '../../src/index.js';
import { SnapshotRepository } from '../../src/store/index.js';
import { dbsnapBinary } from '../cli/binary.js';
import { FIXTURE_KEY_HEX, fixtureUsers } from '../fixtures/encrypted-v1/dataset.js';
import { useTestDatabase, type TestDatabase } from '../support/test-db.js';

const FIXTURE = new URL('../fixtures/encrypted-v1/repo', import.meta.url).pathname;
const FIXED = { author: { name: 'Test', email: 'test@example.com' }, now: new Date('2025-01-02T03:04:05Z') };
const yes = async () => true;

let dir = '';
let repo = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dbsnap-encrypted-v1-'));
  repo = join(dir, 'repo');
  await cp(FIXTURE, repo, { recursive: true });
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Every document of `users` as BSON hex, in _id order. */
async function usersBytes(t: TestDatabase): Promise<string[]> {
  const raw = await t.db.collection('users').find({}, { raw: true, sort: { _id: 1 } }).toArray();
  return raw.map((b) => Buffer.from(b as unknown as Uint8Array).toString('hex'));
}
const expected = () => fixtureUsers().map((d: Document) => Buffer.from(BSON.serialize(d)).toString('hex'));

/** The text of every users part file at HEAD. */
async function headUsersPart(): Promise<string> {
  const r = await SnapshotRepository.open(repo);
  const head = await r.resolveCommit('HEAD');
  let text = '';
  for (const [path, oid] of await r.listFiles(head)) if (path.startsWith('collections/users/parts/')) text += (await r.readBlob(oid)).toString('utf8');
  return text;
}

describe('encrypted-value version 1', () => {
  it('restores byte for byte; rekey with the same key rewrites every value as version 2, which restores byte for byte too', async () => {
    const before = await headUsersPart();
    expect(before.match(/"v": 1,/g)).toHaveLength(10);
    expect(before).not.toContain('"v": 2,');

    const t1 = await useTestDatabase('enc_v1');
    try {
      await restore({ repo, ref: 'HEAD', uri: t1.dbUri, key: FIXTURE_KEY_HEX, confirm: yes, backup: false, ...FIXED });
      expect(await usersBytes(t1)).toEqual(expected());
    } finally {
      await t1.drop();
    }

    const r = await dbsnapBinary(['rekey', '--repo', repo], { env: { DBSNAP_OLD_KEY: FIXTURE_KEY_HEX, DBSNAP_KEY: FIXTURE_KEY_HEX } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const after = await headUsersPart();
    expect(after.match(/"v": 2,/g)).toHaveLength(10);
    expect(after).not.toContain('"v": 1,');

    const t2 = await useTestDatabase('enc_v2');
    try {
      await restore({ repo, ref: 'HEAD', uri: t2.dbUri, key: FIXTURE_KEY_HEX, confirm: yes, backup: false, ...FIXED });
      expect(await usersBytes(t2)).toEqual(expected());
    } finally {
      await t2.drop();
    }
    // The old commit stays as it was, and readable.
    const v = await dbsnapBinary(['verify', 'HEAD~1', '--repo', repo]);
    expect(v.code).toBe(0);
  }, 300_000);
});
