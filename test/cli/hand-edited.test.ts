/**
 * Snapshots edited by hand, through the real binary: restore and verify refuse what does not add
 * up, name the file, and leave the target as it was (issue #10).
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commit, init } from '../../src/index.js';
import { collectionDir, MANIFEST_FILE, metadataText } from '../../src/canonical/format.js';
import { SnapshotRepository } from '../../src/store/index.js';
import { BSON } from 'bson';
import { commitHandmadeSnapshot } from '../support/handmade-snapshot.js';
import { FIXED } from '../support/temp-repo.js';
import { useTestDatabase, type TestDatabase } from '../support/test-db.js';
import { dbsnap } from './support.js';

let dir = '';
let repo = '';
let source: TestDatabase;
let target: TestDatabase;

beforeAll(async () => {
  source = await useTestDatabase('handedit_src');
  await source.db.collection('users').insertMany([{ _id: 1, name: 'a' }, { _id: 2, name: 'b' }]);
  await source.db.collection('orders').insertMany([{ _id: 1, user: 1 }]);
});
afterAll(async () => {
  await source?.drop();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dbsnap-handedit-'));
  repo = join(dir, 'backup-repo');
  await init({ repo, ...FIXED });
  await commit({ repo, uri: source.dbUri, ...FIXED });
  target = await useTestDatabase('handedit_dst');
  await target.db.collection('users').insertOne({ _id: 9, name: 'kept' });
});
afterEach(async () => {
  await target?.drop();
  await rm(dir, { recursive: true, force: true });
});

/** Commits HEAD's tree with `edit` applied to its files (path -> blob oid) onto HEAD. */
async function editHead(edit: (files: Map<string, string>, repo: SnapshotRepository) => Promise<void>): Promise<void> {
  const r = await SnapshotRepository.open(repo);
  const head = await r.head();
  const files = await r.listFiles(head.oid!);
  await edit(files, r);
  const tree = await r.writeTree([...files].map(([path, oid]) => ({ path, oid })));
  const c = await r.writeCommit({ tree, parents: [head.oid!], message: 'by hand\n', author: { name: 'h', email: 'h@x', timestamp: 1, timezoneOffset: 0 } });
  await r.updateRef(head.ref, c, head.oid);
}

async function targetUsers(): Promise<unknown[]> {
  return target.db.collection('users').find().toArray();
}

async function expectRefused(file: string, message: string): Promise<void> {
  const human = await dbsnap(['restore', 'HEAD', '--yes', '--repo', repo, '--uri', target.dbUri]);
  expect(human.code).toBe(2);
  expect(human.stderr).toMatch(/^error: snapshot [0-9a-f]{7}: [^\n]+\n$/);
  expect(human.stderr).toContain(message);
  const json = await dbsnap(['restore', 'HEAD', '--yes', '--json', '--repo', repo, '--uri', target.dbUri]);
  expect(json.code).toBe(2);
  expect(JSON.parse(json.stdout || json.stderr).error.code).toBe('ECORRUPT');
  expect(await targetUsers()).toEqual([{ _id: 9, name: 'kept' }]);
  expect((await target.db.listCollections().toArray()).map((c) => c.name)).toEqual(['users']);
  const v = await dbsnap(['verify', '--json', '--repo', repo]);
  expect(v.code).toBe(1);
  expect(JSON.parse(v.stdout).problems).toContainEqual(expect.objectContaining({ file, message }));
}

describe('restore refuses a manifest that does not add up', () => {
  it('a manifest total that disagrees with its collections: ECORRUPT naming manifest.json, target untouched', async () => {
    await editHead(async (files, r) => {
      const m = JSON.parse((await r.readBlob(files.get(MANIFEST_FILE)!)).toString('utf8'));
      m.documents = 300;
      files.set(MANIFEST_FILE, await r.writeBlob(metadataText(m)));
    });
    await expectRefused(MANIFEST_FILE, `${MANIFEST_FILE} says 300 documents in all, its collections add up to 3.`);
  });

  it('a collection directory the manifest does not list: ECORRUPT naming the file, target untouched', async () => {
    const ghost = `${collectionDir('ghost')}/collection.json`;
    await editHead(async (files, r) => {
      const users = JSON.parse((await r.readBlob(files.get(`${collectionDir('users')}/collection.json`)!)).toString('utf8'));
      files.set(ghost, await r.writeBlob(metadataText({ ...users, name: 'ghost' })));
    });
    await expectRefused(ghost, `${ghost} is in the tree but its collection is not listed in ${MANIFEST_FILE}.`);
  });

  it('a directory of part files alone that the manifest does not list: ECORRUPT naming the file, target untouched', async () => {
    const ghost = `${collectionDir('ghost')}/parts/first.json`;
    await editHead(async (files, r) => {
      files.set(ghost, await r.writeBlob('[]\n'));
    });
    await expectRefused(ghost, `${ghost} is in the tree but its collection is not listed in ${MANIFEST_FILE}.`);
  });
});

describe('a hand-made part with a duplicated field name', () => {
  it('restore (replace and merge) and verify report EFORMAT naming the file, line, _id and field; the target is untouched', async () => {
    // Written as {_id: 7, a: 1, b: 2}, then the text edited to say "a" twice (hashes follow the edit).
    await commitHandmadeSnapshot(repo, 'users', [Buffer.from(BSON.serialize({ _id: 7, a: 1, b: 2 }))], (text) => text.replace('"b": 2', '"a": 2'));
    const file = `${collectionDir('users')}/parts/first.json`;
    const message = `${file}: line 5, document 0 (_id 7): the field name "a" appears twice. dbsnap never writes that (commit refuses such documents), so the file was edited by hand; remove one of the two.`;
    for (const mode of ['replace', 'merge']) {
      const human = await dbsnap(['restore', 'HEAD', '--yes', '--mode', mode, '--repo', repo, '--uri', target.dbUri]);
      expect(human.code).toBe(2);
      expect(human.stderr).toMatch(/^error: snapshot [0-9a-f]{7}: [^\n]+\n$/);
      expect(human.stderr).toContain(message);
      const json = await dbsnap(['restore', 'HEAD', '--yes', '--json', '--mode', mode, '--repo', repo, '--uri', target.dbUri]);
      expect(json.code).toBe(2);
      expect(JSON.parse(json.stdout || json.stderr).error.code).toBe('EFORMAT');
      expect(await targetUsers()).toEqual([{ _id: 9, name: 'kept' }]);
      expect((await target.db.listCollections().toArray()).map((c) => c.name)).toEqual(['users']);
    }
    const v = await dbsnap(['verify', '--json', '--repo', repo]);
    expect(v.code).toBe(1);
    expect(JSON.parse(v.stdout).problems).toContainEqual({ kind: 'parse', collection: 'users', file, message });
  });
});
