import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SnapshotRepository, type CommitInfo } from '../../src/store/index.js';
import { MIN_PACK_OBJECTS } from '../../src/store/object-batch.js';

// Native git cross-checks the packs a batch writes; DBSNAP_TEST_NO_NATIVE_GIT=1 runs the rest alone.
const NATIVE_GIT = !process.env.DBSNAP_TEST_NO_NATIVE_GIT && fs.existsSync('/usr/bin/git') ? '/usr/bin/git' : null;
const GIT_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: os.tmpdir() };
const git = (gitdir: string, args: string[]) => execFileSync(NATIVE_GIT!, ['--git-dir', gitdir, ...args], { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], env: GIT_ENV });
const AUTHOR: CommitInfo['author'] = { name: 'dbsnap test', email: 'test@example.com', timestamp: 1700000000, timezoneOffset: 0 };

let tmp = '';
beforeEach(async () => {
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'dbsnap-batch-'));
});
afterEach(async () => {
  await fsp.rm(tmp, { recursive: true, force: true });
});

/** Loose object ids and every file in objects/pack (temp files included). */
async function objectFiles(dir: string): Promise<{ loose: string[]; pack: string[] }> {
  const loose: string[] = [];
  for (const d of await fsp.readdir(path.join(dir, 'objects'))) {
    if (!/^[0-9a-f]{2}$/.test(d)) continue;
    for (const f of await fsp.readdir(path.join(dir, 'objects', d))) loose.push(d + f);
  }
  return { loose: loose.sort(), pack: (await fsp.readdir(path.join(dir, 'objects', 'pack'))).sort() };
}

/** `n` distinct part-like blobs, one of ~200 KB (deflated on the thread pool). */
function contents(n: number): Buffer[] {
  return Array.from({ length: n }, (_, i) =>
    Buffer.from(i === 3 ? `{"_id": ${i}, "blob": "${'x'.repeat(200_000)}"}\n` : `{"_id": ${i}, "name": "user ${i}", "visits": ${i * 7}}\n`.repeat(30)),
  );
}

/** Writes the blobs and a tree and commit over them; returns the ids. */
async function writeSnapshot(repo: SnapshotRepository, blobs: Buffer[]): Promise<{ blobs: string[]; tree: string; commit: string }> {
  const ids = await Promise.all(blobs.map((b) => repo.writeBlob(b)));
  const tree = await repo.writeTree(ids.map((oid, i) => ({ path: `collections/users/parts/p${String(i).padStart(4, '0')}.json`, oid })));
  const commit = await repo.writeCommit({ tree, parents: [], message: 'snapshot\n', author: AUTHOR });
  return { blobs: ids, tree, commit };
}

describe('object batch: one pack per operation', () => {
  it('writes a batch of many objects as one pack with the same ids as loose objects, readable before and after the ref moves', async () => {
    const blobs = contents(MIN_PACK_OBJECTS * 3);
    // The same objects written loose, to compare ids.
    const { repo: plain } = await SnapshotRepository.init(path.join(tmp, 'loose'));
    const expected = await writeSnapshot(plain, blobs);

    const dir = path.join(tmp, 'packed');
    const { repo } = await SnapshotRepository.init(dir);
    repo.startBatch();
    const got = await writeSnapshot(repo, blobs);
    expect(got).toEqual(expected);
    // Before the batch is finished: nothing visible under a final name, yet readable by this process.
    expect(await objectFiles(dir)).toMatchObject({ loose: [], pack: [expect.stringMatching(/^tmp_pack_/)] });
    expect((await repo.readBlob(got.blobs[3]!)).equals(blobs[3]!)).toBe(true);
    expect((await repo.readBlob(got.blobs[100]!)).equals(blobs[100]!)).toBe(true);
    expect(await repo.hasObject(got.tree)).toBe(true);
    // Writing an object twice in one batch stores it once.
    expect(await repo.writeBlob(blobs[0]!)).toBe(got.blobs[0]);

    await repo.updateRef('refs/heads/main', got.commit, null);
    const files = await objectFiles(dir);
    expect(files.loose).toEqual([]);
    expect(files.pack).toEqual([expect.stringMatching(/^pack-[0-9a-f]{40}\.idx$/), expect.stringMatching(/^pack-[0-9a-f]{40}\.pack$/)]);
    expect(files.pack[0]!.slice(0, -4)).toBe(files.pack[1]!.slice(0, -5));
    const listed = await repo.listFiles(got.commit);
    expect(listed.size).toBe(blobs.length);
    for (const [i, oid] of got.blobs.entries()) expect((await repo.readBlob(oid)).equals(blobs[i]!)).toBe(true);
    // A fresh reader (another process) finds everything in the pack.
    const again = await SnapshotRepository.open(dir);
    expect((await again.readBlob(got.blobs[3]!)).equals(blobs[3]!)).toBe(true);
    expect(await again.resolveCommit('main')).toBe(got.commit);
    await again.close();
    await repo.close();
    await plain.close();
  });

  it.skipIf(!NATIVE_GIT)('leaves a pack native git verifies, reads and clones', async () => {
    const blobs = contents(MIN_PACK_OBJECTS + 5);
    const dir = path.join(tmp, 'packed');
    const { repo } = await SnapshotRepository.init(dir);
    repo.startBatch();
    const got = await writeSnapshot(repo, blobs);
    await repo.updateRef('refs/heads/main', got.commit, null);
    await repo.close();
    expect(git(dir, ['fsck', '--full', '--strict', '--no-dangling'])).toBe('');
    const pack = (await objectFiles(dir)).pack.find((f) => f.endsWith('.pack'))!;
    // verify-pack checks the trailer, every entry's CRC in the index and the object count.
    expect(git(dir, ['verify-pack', path.join(dir, 'objects', 'pack', pack)])).toBe('');
    expect(git(dir, ['cat-file', '-p', `${got.blobs[7]}`])).toBe(blobs[7]!.toString());
    expect(git(dir, ['rev-parse', 'main^{tree}']).trim()).toBe(got.tree);
    const clone = path.join(tmp, 'clone');
    execFileSync(NATIVE_GIT!, ['clone', '-q', dir, clone], { env: GIT_ENV, stdio: 'pipe' });
    expect(fs.readFileSync(path.join(clone, 'collections/users/parts/p0007.json')).equals(blobs[7]!)).toBe(true);
    expect(execFileSync(NATIVE_GIT!, ['-C', clone, 'status', '--porcelain'], { encoding: 'utf8', env: GIT_ENV })).toBe('');
  });

  it('writes a small batch as loose objects and no pack', async () => {
    const dir = path.join(tmp, 'small');
    const { repo } = await SnapshotRepository.init(dir);
    repo.startBatch();
    const got = await writeSnapshot(repo, contents(5));
    expect(await repo.readBlob(got.blobs[1]!)).toEqual(contents(5)[1]);
    await repo.updateRef('refs/heads/main', got.commit, null);
    const files = await objectFiles(dir);
    expect(files.pack).toEqual([]);
    expect(files.loose).toEqual([...got.blobs, got.tree, got.commit, ...(await treeIds(repo, got.tree))].filter((v, i, a) => a.indexOf(v) === i).sort());
    await repo.close();
  });

  it('skips objects the repository already has', async () => {
    const dir = path.join(tmp, 'again');
    const { repo } = await SnapshotRepository.init(dir);
    const blobs = contents(MIN_PACK_OBJECTS * 2);
    repo.startBatch();
    const first = await writeSnapshot(repo, blobs);
    await repo.updateRef('refs/heads/main', first.commit, null);
    const before = repo.stats.blobsWritten;
    // The second snapshot changes two parts: two new blobs, new trees and commit, all loose.
    const changed = blobs.map((b, i) => (i === 10 || i === 20 ? Buffer.concat([b, Buffer.from('{"_id": "new"}\n')]) : b));
    repo.startBatch();
    const second = await writeSnapshot(repo, changed);
    expect(repo.stats.blobsWritten - before).toBe(2);
    await repo.updateRef('refs/heads/main', second.commit, first.commit);
    const files = await objectFiles(dir);
    expect(files.pack.filter((f) => f.endsWith('.pack'))).toHaveLength(1);
    expect(files.loose).toContain(second.blobs[10]);
    expect(files.loose).toContain(second.commit);
    await repo.close();
  });

  it('abort leaves neither a pack nor a temp file, and the ref where it was', async () => {
    const dir = path.join(tmp, 'abort');
    const { repo } = await SnapshotRepository.init(dir);
    repo.startBatch();
    const got = await writeSnapshot(repo, contents(MIN_PACK_OBJECTS * 2));
    repo.abortBatch();
    expect(await objectFiles(dir)).toEqual({ loose: [], pack: [] });
    expect(await repo.hasObject(got.commit)).toBe(false);
    await expect(repo.updateRef('refs/heads/main', got.commit, null)).rejects.toMatchObject({ code: 'ECORRUPT' });
    expect((await repo.head()).oid).toBeNull();
    await repo.close();
  });
});

async function treeIds(repo: SnapshotRepository, root: string): Promise<string[]> {
  const out: string[] = [root];
  const { content } = await repo.readObject(root, 'tree');
  // Subtrees: mode 40000 entries.
  for (let i = 0; i < content.length; ) {
    const sp = content.indexOf(0x20, i);
    const nul = content.indexOf(0, sp);
    const mode = content.toString('latin1', i, sp);
    const oid = content.toString('hex', nul + 1, nul + 21);
    if (mode === '40000') out.push(...(await treeIds(repo, oid)));
    i = nul + 21;
  }
  return out;
}

describe('PackEntryTable', () => {
  it('finds every entry by id through growth, knows absent ids, and writes the version-2 index git reads', async () => {
    const { createHash } = await import('node:crypto');
    const { PackEntryTable } = await import('../../src/store/pack-writer.js');
    const table = new PackEntryTable();
    const ids = Array.from({ length: 5000 }, (_, i) => createHash('sha1').update(`object ${i}`).digest('hex'));
    // Offsets past 2 GiB (the index's large-offset table) and CRCs past 2^31 survive.
    const offsetOf = (i: number) => 12 + i * 500_000;
    ids.forEach((id, i) => table.add(id, offsetOf(i), 100 + i, 0xfffffff0 - i));
    expect(table.count).toBe(5000);
    ids.forEach((id, i) => {
      const at = table.find(id);
      expect(at).toBe(i);
      expect([table.offset(at), table.length(at)]).toEqual([offsetOf(i), 100 + i]);
    });
    for (let i = 0; i < 200; i++) expect(table.find(createHash('sha1').update(`absent ${i}`).digest('hex'))).toBe(-1);

    const checksum = Buffer.alloc(20, 7);
    const idx = table.index(checksum);
    const n = ids.length;
    const sorted = ids.map((id, i) => ({ id, i })).sort((a, b) => (a.id < b.id ? -1 : 1));
    const big = sorted.filter((e) => offsetOf(e.i) >= 0x80000000);
    expect(big.length).toBeGreaterThan(0);
    expect(idx.length).toBe(8 + 1024 + n * 28 + big.length * 8 + 40);
    expect(idx.readUInt32BE(8 + 255 * 4)).toBe(n);
    const idsAt = 8 + 1024;
    const crcAt = idsAt + n * 20;
    const offAt = crcAt + n * 4;
    const bigAt = offAt + n * 4;
    sorted.forEach((e, k) => {
      expect(idx.toString('hex', idsAt + k * 20, idsAt + k * 20 + 20)).toBe(e.id);
      expect(idx.readUInt32BE(crcAt + k * 4)).toBe(0xfffffff0 - e.i);
      const off = idx.readUInt32BE(offAt + k * 4);
      const actual = off & 0x80000000 ? Number(idx.readBigUInt64BE(bigAt + (off & 0x7fffffff) * 8)) : off;
      expect(actual).toBe(offsetOf(e.i));
    });
    expect(idx.subarray(bigAt + big.length * 8, bigAt + big.length * 8 + 20)).toEqual(checksum);
    expect(idx.subarray(idx.length - 20).toString('hex')).toBe(createHash('sha1').update(idx.subarray(0, idx.length - 20)).digest('hex'));
  });
});
