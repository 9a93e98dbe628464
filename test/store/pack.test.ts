import { execFileSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gc } from '../../src/core/gc.js';
import { applyDelta, createDelta, deltaResultSize } from '../../src/store/delta.js';
import { PackWriter } from '../../src/store/pack-writer.js';
import { SnapshotRepository, type CommitInfo } from '../../src/store/index.js';
import { Rng } from '../support/shop.js';

// Native git cross-checks the packs dbsnap writes; DBSNAP_TEST_NO_NATIVE_GIT=1 runs the rest alone.
const NATIVE_GIT = !process.env.DBSNAP_TEST_NO_NATIVE_GIT && fs.existsSync('/usr/bin/git') ? '/usr/bin/git' : null;
const GIT_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: os.tmpdir(), GIT_AUTHOR_NAME: 'x', GIT_AUTHOR_EMAIL: 'x@x', GIT_COMMITTER_NAME: 'x', GIT_COMMITTER_EMAIL: 'x@x' };
const git = (gitdir: string, args: string[]) => execFileSync(NATIVE_GIT!, ['--git-dir', gitdir, ...args], { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], env: GIT_ENV });
const AUTHOR: CommitInfo['author'] = { name: 'dbsnap test', email: 'test@example.com', timestamp: 1700000000, timezoneOffset: 0 };

function rng(seed: number): () => number {
  const r = new Rng().reseed(seed);
  return () => r.next();
}

let tmp = '';
beforeEach(async () => {
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'dbsnap-pack-'));
});
afterEach(async () => {
  await fsp.rm(tmp, { recursive: true, force: true });
});

interface History {
  dir: string;
  commits: string[];
  /** commit -> path -> file content */
  files: Map<string, Map<string, string>>;
}

/**
 * A snapshot-like history: `commits` commits of 40 JSON-lines parts, each changing a few lines
 * (like a 0.1%-ish change of a database), on refs/heads/main.
 */
async function writeHistory(dir: string, commits: number, opts: { from?: History; seed?: number; packPerCommit?: boolean } = {}): Promise<History> {
  const { repo } = await SnapshotRepository.init(dir);
  const random = rng(opts.seed ?? 1);
  const h: History = opts.from ?? { dir, commits: [], files: new Map() };
  const last = h.commits.at(-1);
  const docs = last
    ? [...h.files.get(last)!.entries()].filter(([p]) => p.includes('/parts/')).sort().flatMap(([, text]) => text.trimEnd().split('\n'))
    : Array.from({ length: 1280 }, (_, i) => `{"_id": ${i}, "name": "user ${i}", "email": "user${i}@example.com", "visits": ${i % 17}, "tags": ["a", "b"]}`);
  for (let c = 0; c < commits; c++) {
    for (let k = 0; k < 6; k++) {
      const i = Math.floor(random() * docs.length);
      docs[i] = docs[i]!.replace(/"visits": \d+/, `"visits": ${Math.floor(random() * 1e6)}`);
    }
    const files = new Map<string, string>();
    // As `dbsnap commit` does: the commit's new objects as one pack (store/object-batch.ts).
    if (opts.packPerCommit) repo.startBatch(1);
    files.set('manifest.json', `{"commit": ${h.commits.length}}\n`);
    for (let p = 0; p < docs.length / 32; p++) files.set(`collections/users/parts/p${String(p).padStart(3, '0')}.json`, `${docs.slice(p * 32, p * 32 + 32).join('\n')}\n`);
    const entries = [];
    for (const [p, text] of files) entries.push({ path: p, oid: await repo.writeBlob(text) });
    const tree = await repo.writeTree(entries);
    const oid = await repo.writeCommit({ tree, parents: h.commits.length ? [h.commits.at(-1)!] : [], message: `snapshot ${h.commits.length}`, author: { ...AUTHOR, timestamp: AUTHOR.timestamp + h.commits.length * 3600 } });
    if (opts.packPerCommit) await repo.finishBatch();
    h.commits.push(oid);
    h.files.set(oid, files);
  }
  await repo.updateRef('refs/heads/main', h.commits.at(-1)!);
  return h;
}

/** Reads every file of every commit through a fresh SnapshotRepository and compares it with what was written. */
async function expectReadsBack(h: History, repo?: SnapshotRepository): Promise<number> {
  const r = repo ?? (await SnapshotRepository.open(h.dir));
  let n = 0;
  for (const c of h.commits) {
    const listed = await r.listFiles(c);
    expect([...listed.keys()].sort()).toEqual([...h.files.get(c)!.keys()].sort());
    for (const [p, oid] of listed) {
      const content = await r.readBlob(oid);
      expect(SnapshotRepository.hashBlob(content)).toBe(oid);
      expect(content.toString('utf8')).toBe(h.files.get(c)!.get(p));
      n++;
    }
  }
  return n;
}

const looseCount = async (dir: string) => (await fsp.readdir(path.join(dir, 'objects'))).filter((d) => /^[0-9a-f]{2}$/.test(d)).length;
const packs = async (dir: string) => (await fsp.readdir(path.join(dir, 'objects', 'pack'))).sort();

/** `git verify-pack -v` summary: how many entries are deltas. */
function nativeDeltaCount(dir: string): number {
  const idx = fs.readdirSync(path.join(dir, 'objects', 'pack')).filter((n) => n.endsWith('.idx'));
  const out = git(dir, ['verify-pack', '-v', ...idx.map((n) => path.join(dir, 'objects', 'pack', n))]);
  return [...out.matchAll(/^chain length = \d+: (\d+) objects?$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

describe('delta encoding', () => {
  it('round-trips edits, and a few changed lines cost a few bytes', () => {
    const random = rng(7);
    const base = Buffer.from(Array.from({ length: 2000 }, (_, i) => `{"_id": ${i}, "v": ${i * 3}}\n`).join(''));
    for (let trial = 0; trial < 30; trial++) {
      let text = base.toString('latin1');
      for (let e = 0; e < 1 + trial % 5; e++) {
        const at = Math.floor(random() * text.length);
        const kind = trial % 3;
        const len = Math.floor(random() * 40);
        text = kind === 0 ? text.slice(0, at) + 'X'.repeat(len) + text.slice(at) : kind === 1 ? text.slice(0, at) + text.slice(at + len) : text.slice(0, at) + 'Y'.repeat(len) + text.slice(at + len);
      }
      const target = Buffer.from(text, 'latin1');
      const delta = createDelta(base, target)!;
      expect(applyDelta(base, delta, 'test').equals(target)).toBe(true);
      expect(delta.length).toBeLessThan(400);
    }
  });

  it('handles empty, unrelated and very long inputs (copies longer than 64 KiB are split)', () => {
    const big = Buffer.alloc(300_000, 'abcdefghijklmnopqrstuvwxyz0123456789');
    const bigger = Buffer.concat([big, Buffer.from('tail')]);
    const cases: [Buffer, Buffer][] = [
      [Buffer.alloc(0), Buffer.from('new content')],
      [Buffer.from('old content'), Buffer.alloc(0)],
      [Buffer.from('x'.repeat(100)), Buffer.from('completely different text '.repeat(10))],
      [big, bigger],
    ];
    for (const [b, t] of cases) {
      const d = createDelta(b, t)!;
      expect(applyDelta(b, d, 'test').equals(t)).toBe(true);
    }
    expect(createDelta(big, bigger)!.length).toBeLessThan(100);
    // Not worth it: null instead of a delta larger than the limit.
    expect(createDelta(Buffer.from('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'), Buffer.from('bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb'), 10)).toBeNull();
  });

  it('a delta that does not fit its base is a typed error', () => {
    const d = createDelta(Buffer.from('hello world, hello world'), Buffer.from('hello world, hello there'))!;
    expect(() => applyDelta(Buffer.from('short'), d, 'obj 1')).toThrow(expect.objectContaining({ code: 'ECORRUPT' }));
    expect(() => applyDelta(Buffer.from('hello world, hello world'), d.subarray(0, d.length - 2), 'obj 1')).toThrow(/obj 1: delta cannot be applied/);
    // A delta cut inside its size header is a damaged pack too, never an untyped error.
    expect(() => deltaResultSize(Uint8Array.of(0x80))).toThrow(expect.objectContaining({ code: 'ECORRUPT' }));
  });
});

describe('pack writer invariants', () => {
  it('an object written twice or a pack short of its count is an InternalError (EINTERNAL), and nothing is left behind', async () => {
    const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'dbsnap-packwriter-'));
    try {
      const w = await PackWriter.create(dir, 2);
      const oid = 'a'.repeat(40);
      const content = Buffer.from('hello');
      await w.addObject(oid, 'blob', content, zlib.deflateSync(content));
      await expect(w.addObject(oid, 'blob', content, zlib.deflateSync(content))).rejects.toMatchObject({ code: 'EINTERNAL', data: { object: oid } });
      await expect(w.addDelta('b'.repeat(40), 'c'.repeat(40), 5, zlib.deflateSync(content))).rejects.toMatchObject({ code: 'EINTERNAL', data: { base: 'c'.repeat(40) } });
      await expect(w.finish()).rejects.toMatchObject({ code: 'EINTERNAL', data: { announced: 2, written: 1 } });
      await w.abort();
      expect(await fsp.readdir(dir)).toEqual([]);
    } finally {
      await fsp.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('gc', () => {
  it('packs every loose object into one pack with deltas that reads back identically', async () => {
    const dir = path.join(tmp, 'repo');
    const h = await writeHistory(dir, 6);
    const r = await gc({ repo: dir });
    expect(r.packed).toBe(true);
    // 6 commits x (1 commit + 3 trees + manifest + changed parts) + the first snapshot's 40 parts.
    expect(r.looseObjects).toBe(r.objects);
    expect(r.deltas).toBeGreaterThanOrEqual(5 * 4); // changed parts and trees of commits 2..6
    expect(r.bytesAfter).toBeLessThan(r.bytesBefore);
    expect(await looseCount(dir)).toBe(0);
    expect(await packs(dir)).toEqual([`${r.pack}.idx`, `${r.pack}.pack`]);
    expect(fs.existsSync(path.join(dir, 'dbsnap.lock'))).toBe(false);
    expect(await expectReadsBack(h)).toBe(6 * 41);
  });

  it.skipIf(!NATIVE_GIT)('writes packs native git accepts: fsck --full --strict, verify-pack, clone', async () => {
    const dir = path.join(tmp, 'repo');
    const h = await writeHistory(dir, 6);
    const r = await gc({ repo: dir });
    expect(git(dir, ['fsck', '--full', '--strict'])).toBe('');
    expect(nativeDeltaCount(dir)).toBe(r.deltas);
    const clone = path.join(tmp, 'clone');
    execFileSync(NATIVE_GIT!, ['clone', '--quiet', dir, clone], { env: GIT_ENV, stdio: 'pipe' });
    expect(git(path.join(clone, '.git'), ['rev-list', '--count', 'HEAD']).trim()).toBe('6');
    for (const [p, text] of h.files.get(h.commits.at(-1)!)!) expect(fs.readFileSync(path.join(clone, p), 'utf8')).toBe(text);
    // git cat-file agrees with dbsnap on an object at the end of a delta chain.
    const last = (await (await SnapshotRepository.open(dir)).listFiles(h.commits.at(-1)!)).get('collections/users/parts/p000.json')!;
    expect(git(dir, ['cat-file', 'blob', last])).toBe(h.files.get(h.commits.at(-1)!)!.get('collections/users/parts/p000.json'));
  });

  it('a second gc merges the earlier pack (its entries copied), deltas new objects against it, and then has nothing to do', async () => {
    const dir = path.join(tmp, 'repo');
    const h = await writeHistory(dir, 3);
    const first = await gc({ repo: dir });
    await writeHistory(dir, 3, { from: h, seed: 2 });
    const second = await gc({ repo: dir });
    expect(second.packed).toBe(true);
    expect(second.packsRemoved).toBe(1);
    expect(second.reusedEntries).toBe(first.objects);
    expect(second.objects).toBe(first.objects + second.looseObjects);
    // Every changed part of commits 4..6 is a delta against commit 3's part, which was in the old pack.
    expect(second.deltas).toBeGreaterThanOrEqual(3 * 4);
    expect(await packs(dir)).toEqual([`${second.pack}.idx`, `${second.pack}.pack`]);
    expect(await expectReadsBack(h)).toBe(6 * 41);
    if (NATIVE_GIT) {
      expect(git(dir, ['fsck', '--full', '--strict'])).toBe('');
      expect(nativeDeltaCount(dir)).toBe(first.deltas + second.deltas);
    }
    const third = await gc({ repo: dir });
    expect(third).toMatchObject({ packed: false, pack: second.pack, objects: second.objects });
  });

  it('objects a commit wrote as a pack of their own are deltified like loose ones (only the biggest pack is copied as is)', async () => {
    const dir = path.join(tmp, 'repo');
    const h = await writeHistory(dir, 1, { packPerCommit: true });
    const first = await gc({ repo: dir });
    expect(first).toMatchObject({ packed: false, objects: 46 }); // 40 parts, the manifest, 4 trees, the commit
    await writeHistory(dir, 3, { from: h, seed: 4, packPerCommit: true });
    expect((await packs(dir)).filter((n) => n.endsWith('.pack'))).toHaveLength(4);
    const second = await gc({ repo: dir });
    expect(second).toMatchObject({ packed: true, packsRemoved: 4, looseObjects: 0, reusedEntries: 46 });
    // Each of commits 2..4 changes up to 6 parts, each a delta against its previous version,
    // as is each changed tree.
    expect(second.deltas).toBeGreaterThanOrEqual(3 * 3);
    expect(second.bytesAfter).toBeLessThan(second.bytesBefore);
    // The three commits cost a small fraction of the first snapshot once packed.
    expect((second.bytesAfter - first.bytesAfter) * 5).toBeLessThan(first.bytesAfter);
    expect(await packs(dir)).toEqual([`${second.pack}.idx`, `${second.pack}.pack`]);
    expect(await expectReadsBack(h)).toBe(4 * 41);
    if (NATIVE_GIT) {
      expect(git(dir, ['fsck', '--full', '--strict'])).toBe('');
      expect(nativeDeltaCount(dir)).toBe(second.deltas);
    }
  });

  it('growth: after gc, a commit that changes a few lines of a part adds a small fraction of the packed size', async () => {
    const dir = path.join(tmp, 'repo');
    const h = await writeHistory(dir, 1);
    const first = await gc({ repo: dir });
    await writeHistory(dir, 1, { from: h, seed: 3 });
    const second = await gc({ repo: dir });
    const growth = second.bytesAfter - first.bytesAfter;
    const looseGrowth = second.bytesBefore - first.bytesAfter;
    // 6 changed lines: deltas of a few parts and trees, a commit, the manifest; loose, the
    // same commit costs whole parts and whole trees.
    expect(growth).toBeGreaterThan(0);
    expect(growth).toBeLessThan(2000);
    expect(growth * 3).toBeLessThan(looseGrowth);
    expect(second.deltas).toBeGreaterThanOrEqual(4);
  });

  it('readers opened before a gc keep reading after it (loose objects and old packs deleted)', async () => {
    const dir = path.join(tmp, 'repo');
    const h = await writeHistory(dir, 3);
    const reader = await SnapshotRepository.open(dir);
    await expectReadsBack(h, reader);
    await gc({ repo: dir });
    await expectReadsBack(h, reader); // its pack list was empty; loose reads now miss
    await writeHistory(dir, 2, { from: h, seed: 4 });
    await expectReadsBack(h, reader);
    await gc({ repo: dir }); // replaces the pack the reader has open
    expect(await expectReadsBack(h, reader)).toBe(5 * 41);
    // A writer that knew the fan-out directories gc removed still writes.
    const oid = await reader.writeBlob('written after gc\n');
    expect((await reader.readBlob(oid)).toString()).toBe('written after gc\n');
    await reader.close();
  });

  it('refuses to run while another process holds the lock, changing nothing', async () => {
    const dir = path.join(tmp, 'repo');
    await writeHistory(dir, 2);
    await fsp.writeFile(path.join(dir, 'dbsnap.lock'), JSON.stringify({ pid: process.pid, host: os.hostname(), started: 'now', operation: 'commit', token: 'x' }));
    await expect(gc({ repo: dir })).rejects.toMatchObject({ code: 'ELOCKED' });
    expect(await packs(dir)).toEqual([]);
    expect(await looseCount(dir)).toBeGreaterThan(0);
  });
});

describe.skipIf(!NATIVE_GIT)('reading packs native git wrote', () => {
  for (const [label, args] of [
    ['OFS_DELTA, deep chains (git gc --aggressive)', ['gc', '--aggressive', '--quiet']],
    ['REF_DELTA (repack.useDeltaBaseOffset=false)', ['-c', 'repack.useDeltaBaseOffset=false', 'repack', '-a', '-d', '-f', '-q', '--depth=250']],
  ] as const) {
    it(`resolves ${label}, then gc reuses the entries`, async () => {
      const dir = path.join(tmp, 'repo');
      const h = await writeHistory(dir, 8);
      git(dir, [...args]);
      expect(await looseCount(dir)).toBe(0);
      expect(nativeDeltaCount(dir)).toBeGreaterThan(20);
      expect(await expectReadsBack(h)).toBe(8 * 41);
      // Short ids resolve against pack indexes too.
      const r = await SnapshotRepository.open(dir);
      expect(await r.resolveCommit(h.commits[2]!.slice(0, 7))).toBe(h.commits[2]);
      await writeHistory(dir, 2, { from: h, seed: 5 });
      const result = await gc({ repo: dir });
      expect(result.packsRemoved).toBe(1);
      expect(git(dir, ['fsck', '--full', '--strict'])).toBe('');
      expect(await expectReadsBack(h)).toBe(10 * 41);
    });
  }
});

describe('damaged packs', () => {
  async function packedRepo() {
    const dir = path.join(tmp, 'repo');
    const h = await writeHistory(dir, 2);
    const r = await gc({ repo: dir });
    return { dir, h, idx: path.join(dir, 'objects', 'pack', `${r.pack}.idx`), pack: path.join(dir, 'objects', 'pack', `${r.pack}.pack`) };
  }

  it('a damaged .idx is ECORRUPT naming the index file', async () => {
    const { dir, h, idx } = await packedRepo();
    const bytes = await fsp.readFile(idx);
    bytes[8 + 1024 + 5] ^= 0xff;
    await fsp.chmod(idx, 0o600);
    await fsp.writeFile(idx, bytes);
    const repo = await SnapshotRepository.open(dir);
    const err = await repo.readCommit(h.commits[0]!).catch((e) => e);
    expect(err).toMatchObject({ code: 'ECORRUPT', data: { file: idx } });
    expect(err.message).toContain(idx);
  });

  it('a damaged entry is ECORRUPT naming the pack; a truncated pack too', async () => {
    const { dir, h, pack } = await packedRepo();
    const repo0 = await SnapshotRepository.open(dir);
    const part = (await repo0.listFiles(h.commits[0]!)).get('collections/users/parts/p010.json')!;
    await repo0.close();
    // Find the part's entry through native-independent means: its offset from the index.
    const { PackFile } = await import('../../src/store/pack-file.js');
    const pf = await PackFile.open(pack.replace(/\.pack$/, '.idx'));
    const offset = [...pf.entries()].find((e) => e.oid === part)!.offset;
    const bytes = await fsp.readFile(pack);
    await fsp.chmod(pack, 0o600);
    const damaged = Buffer.from(bytes);
    for (let i = 10; i < 30; i++) damaged[offset + i] ^= 0x5a;
    await fsp.writeFile(pack, damaged);
    const err = await (await SnapshotRepository.open(dir)).readBlob(part).catch((e) => e);
    expect(err).toMatchObject({ code: 'ECORRUPT', data: { file: pack } });
    expect(err.message).toContain(pack);

    // gc refuses to copy a damaged entry into a new pack, and changes nothing.
    await writeHistory(dir, 1, { from: h, seed: 6 });
    const before = { packs: await packs(dir), loose: await looseCount(dir) };
    await expect(gc({ repo: dir })).rejects.toMatchObject({ code: 'ECORRUPT', data: { file: pack } });
    expect(await packs(dir)).toEqual(before.packs);
    expect(await looseCount(dir)).toBe(before.loose);

    await fsp.writeFile(pack, bytes.subarray(0, bytes.length - 100));
    const err2 = await (await SnapshotRepository.open(dir)).readBlob(part).catch((e) => e);
    expect(err2).toMatchObject({ code: 'ECORRUPT', data: { file: pack } });
  });
});

/** Reads every blob with `inFlight` reads at once, checking each against its text; returns how many were checked. */
async function readAllAtOnce(reader: SnapshotRepository, blobs: { oid: string; text: string }[], inFlight: number): Promise<number> {
  let next = 0;
  let checked = 0;
  const worker = async () => {
    for (let i = next++; i < blobs.length; i = next++) {
      expect((await reader.readBlob(blobs[i]!.oid)).toString('utf8')).toBe(blobs[i]!.text);
      checked++;
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return checked;
}

function shuffled<T>(items: T[], random: () => number): T[] {
  return [...items].sort(() => random() - 0.5);
}

describe('pack windows', () => {
  it('objects read back exactly while windows are evicted and their buffers reused, in any order and many at once', async () => {
    // ~13 MB of pack: more than the 32 windows of 256 KiB a pack keeps, so windows are evicted
    // and their buffers read into again while other reads still wait on them.
    const { repo } = await SnapshotRepository.init(tmp);
    const random = rng(7);
    const blobs: { oid: string; text: string }[] = [];
    repo.startBatch(600);
    for (let i = 0; i < 600; i++) {
      const len = 16_000 + Math.floor(random() * 24_000);
      const text = crypto.randomBytes(Math.ceil(len * 0.75)).toString('base64').slice(0, len);
      blobs.push({ oid: await repo.writeBlob(text), text });
    }
    await repo.finishBatch();
    const [pack] = (await packs(tmp)).filter((n) => n.endsWith('.pack'));
    expect((await fsp.stat(path.join(tmp, 'objects', 'pack', pack!))).size).toBeGreaterThan(10 * 1024 * 1024);

    const reader = await SnapshotRepository.open(tmp);
    // Round 0 in pack order, then shuffled; 12 reads in flight at once.
    expect(await readAllAtOnce(reader, blobs, 12)).toBe(600);
    for (let round = 0; round < 2; round++) expect(await readAllAtOnce(reader, shuffled(blobs, random), 12)).toBe(600);
  });

  it('delta chains read back exactly while the windows holding their entries are evicted', async () => {
    // 400 random texts, then each edited in a second commit, packed by gc: the edited versions
    // become deltas, so a read holds a delta's entry while it reads the base from another window.
    const dir = path.join(tmp, 'repo');
    const { repo } = await SnapshotRepository.init(dir);
    const random = rng(11);
    const files: { oid: string; text: string }[] = [];
    const versions: { path: string; oid: string }[][] = [[], []];
    for (let i = 0; i < 400; i++) {
      const len = 30_000 + Math.floor(random() * 20_000);
      const base = crypto.randomBytes(Math.ceil(len * 0.75)).toString('base64').slice(0, len);
      const at = Math.floor(random() * (len - 10));
      const edited = `${base.slice(0, at)}EDITED${i}${base.slice(at + 6)}`;
      for (const [k, text] of [base, edited].entries()) {
        const oid = await repo.writeBlob(text);
        files.push({ oid, text });
        versions[k]!.push({ path: `collections/c/parts/f${String(i).padStart(3, '0')}.json`, oid });
      }
    }
    let parent: string | undefined;
    for (const v of versions) {
      parent = await repo.writeCommit({ tree: await repo.writeTree(v), parents: parent ? [parent] : [], message: 'big', author: AUTHOR });
    }
    await repo.updateRef('refs/heads/main', parent!);
    const r = await gc({ repo: dir });
    expect(r.deltas).toBeGreaterThanOrEqual(350);
    const [pack] = (await packs(dir)).filter((n) => n.endsWith('.pack'));
    expect((await fsp.stat(path.join(dir, 'objects', 'pack', pack!))).size).toBeGreaterThan(9 * 1024 * 1024);

    for (let round = 0; round < 3; round++) {
      expect(await readAllAtOnce(await SnapshotRepository.open(dir), shuffled(files, random), 32)).toBe(800);
    }
  });
});
