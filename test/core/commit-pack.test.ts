import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import * as os from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXED, useTempRepository } from '../support/temp-repo.js';
import { commit, verify } from '../../src/index.js';
import { SnapshotRepository } from '../../src/store/index.js';
import { useTestDatabase, type TestDatabase } from '../support/test-db.js';
import { loadShop, mutateShop } from '../support/shop.js';

// Native git must read what commit writes; DBSNAP_TEST_NO_NATIVE_GIT=1 runs the rest alone.
const NATIVE_GIT = !process.env.DBSNAP_TEST_NO_NATIVE_GIT && fs.existsSync('/usr/bin/git') ? '/usr/bin/git' : null;
const GIT_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: os.tmpdir() };
const git = (args: string[]) => execFileSync(NATIVE_GIT!, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], env: GIT_ENV });

let dir = '';
let repo = '';
useTempRepository('commit-pack', (r) => ({ dir, repo } = r));

let t: TestDatabase;
beforeAll(async () => {
  t = await useTestDatabase('commit_pack');
  // ~100 parts: well above the 64 objects from which a commit writes a pack.
  await loadShop(t.db, { totalDocs: 3000, seed: 7 });
});
afterAll(async () => {
  await t.drop();
});

async function objectFiles(): Promise<{ loose: string[]; pack: string[] }> {
  const loose: string[] = [];
  for (const d of await readdir(join(repo, 'objects'))) {
    if (/^[0-9a-f]{2}$/.test(d)) for (const f of await readdir(join(repo, 'objects', d))) loose.push(d + f);
  }
  return { loose: loose.sort(), pack: (await readdir(join(repo, 'objects', 'pack'))).sort() };
}

describe('commit writes its objects as one pack', () => {
  it('a first commit adds one pack and no loose object; dbsnap and native git read it', async () => {
    const before = await objectFiles();
    const r = await commit({ repo, uri: t.dbUri, message: 'first', ...FIXED });
    expect(r.committed).toBe(true);
    const after = await objectFiles();
    expect(after.loose).toEqual(before.loose);
    expect(after.pack).toEqual([expect.stringMatching(/^pack-[0-9a-f]{40}\.idx$/), expect.stringMatching(/^pack-[0-9a-f]{40}\.pack$/)]);
    // Everything the commit references is in the pack, the commit object too.
    const snapshot = await SnapshotRepository.open(repo);
    const files = await snapshot.listFiles(r.commit!);
    expect(files.size).toBeGreaterThan(100);
    const idx = await readFile(join(repo, 'objects', 'pack', after.pack[0]!));
    const packed = idx.readUInt32BE(8 + 255 * 4);
    // Parts, collection.json files, manifest, trees and the commit; dbsnap.json and
    // .gitattributes were written by init (loose) and are not written again.
    expect(packed).toBeGreaterThan(files.size - 2);
    await snapshot.close();
    const v = await verify({ repo, ref: r.commit! });
    expect(v.ok).toBe(true);

    if (NATIVE_GIT) {
      expect(git(['--git-dir', repo, 'fsck', '--full', '--strict', '--no-dangling'])).toBe('');
      expect(git(['--git-dir', repo, 'verify-pack', join(repo, 'objects', 'pack', after.pack[1]!)])).toBe('');
      const clone = join(dir, 'clone');
      git(['clone', '-q', repo, clone]);
      expect(git(['-C', clone, 'status', '--porcelain'])).toBe('');
      expect(git(['-C', clone, 'rev-parse', 'HEAD^{tree}']).trim()).toBe(r.tree);
    }
  });

  it('a commit of a few changed documents writes loose objects and no new pack', async () => {
    await commit({ repo, uri: t.dbUri, message: 'first', ...FIXED });
    const before = await objectFiles();
    await t.db.collection('users').updateOne({}, { $set: { note: 'changed once' } });
    const r = await commit({ repo, uri: t.dbUri, message: 'one document', ...FIXED });
    expect(r.committed).toBe(true);
    const after = await objectFiles();
    expect(after.pack).toEqual(before.pack);
    // The changed part, users' parts tree, its collection.json and tree, collections/, manifest, root tree, commit.
    expect(after.loose.length - before.loose.length).toBe(8);
    expect(after.loose).toContain(r.commit);
    expect((await verify({ repo, ref: r.commit! })).ok).toBe(true);
  });

  it('an interrupted commit leaves neither a pack nor a temp file, and HEAD where it was', async () => {
    const first = await commit({ repo, uri: t.dbUri, message: 'first', ...FIXED });
    await mutateShop(t.db, { fraction: 0.5, seed: 3 });
    const before = await objectFiles();
    const ac = new AbortController();
    let tempPack: string[] = [];
    const err = await commit({
      repo,
      uri: t.dbUri,
      message: 'interrupted',
      ...FIXED,
      signal: ac.signal,
      // Abort at the first progress report after the temp pack exists (some parts are in it then),
      // whatever order and speed the server delivers the collections in.
      onProgress: () => {
        if (ac.signal.aborted) return;
        tempPack = fs.readdirSync(join(repo, 'objects', 'pack')).filter((n) => n.startsWith('tmp_pack_'));
        if (tempPack.length) ac.abort();
      },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'EINTERRUPTED' });
    expect(tempPack).toHaveLength(1);
    expect(await objectFiles()).toEqual(before);
    const snapshot = await SnapshotRepository.open(repo);
    expect((await snapshot.head()).oid).toBe(first.commit);
    await snapshot.close();
  });
});
