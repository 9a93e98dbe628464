import { execFileSync, type ExecFileSyncOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as git from 'isomorphic-git';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SnapshotRepository, type CommitInfo } from '../../src/store/index.js';

// Native git is only a cross-check: every assertion below holds without it.
// DBSNAP_TEST_NO_NATIVE_GIT=1 runs the suite as on a machine without git.
const NATIVE_GIT = !process.env.DBSNAP_TEST_NO_NATIVE_GIT && fs.existsSync('/usr/bin/git') ? '/usr/bin/git' : null;

const AUTHOR: CommitInfo['author'] = { name: 'dbsnap test', email: 'test@example.com', timestamp: 1700000000, timezoneOffset: -60 };
const at = (seconds: number): CommitInfo['author'] => ({ ...AUTHOR, timestamp: AUTHOR.timestamp + seconds });

// Ids computed by native git 2.39 (`git commit-tree`, `git mktree`) for the fixture below.
const BLOB_A = '0187f3b09d66cef7911083ad49f890f5a6589589'; // '{"a":1}\n'
const BLOB_HELLO = 'ce013625030ba8dba906f756967f9e9ca394464a'; // 'hello\n'
const FIXTURE_TREE = '33a895fb2d2235fb80544ffc4202e2993e051fbb';
const FIXTURE_COMMIT = '6f5227ec237f0c721f4afd92926ce92d27db9884';

const sha1 = (b: Buffer) => createHash('sha1').update(b).digest('hex');

function nativeGit(gitdir: string, args: string[], opts: ExecFileSyncOptions = {}): string {
  return execFileSync(NATIVE_GIT!, ['--git-dir', gitdir, ...args], {
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'pipe'],
    ...opts,
    env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: os.tmpdir(), GIT_AUTHOR_NAME: 'x', GIT_AUTHOR_EMAIL: 'x@x', GIT_COMMITTER_NAME: 'x', GIT_COMMITTER_EMAIL: 'x@x' },
  }) as string;
}

let tmp: string;
beforeEach(async () => {
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'dbsnap-store-'));
});
afterEach(async () => {
  await fsp.rm(tmp, { recursive: true, force: true });
});

async function fixture(dir = path.join(tmp, 'backup-repo')) {
  const { repo } = await SnapshotRepository.init(dir);
  const a = await repo.writeBlob('{"a":1}\n');
  const hello = await repo.writeBlob(new TextEncoder().encode('hello\n'));
  const tree = await repo.writeTree([
    { path: 'manifest.json', oid: hello },
    { path: 'data/users/p-1.json', oid: a },
    { path: 'a0', oid: a },
    { path: 'a/x.json', oid: hello },
    { path: 'a.b', oid: a },
    { path: 'a-', oid: hello },
  ]);
  const c1 = await repo.writeCommit({ tree, parents: [], message: 'first snapshot', author: AUTHOR });
  await repo.updateRef('refs/heads/main', c1, null);
  return { repo, dir, a, hello, tree, c1 };
}

/** A linear history of `n` commits on main, each adding data/users/p-<i>.json. */
async function history(repo: SnapshotRepository, n: number): Promise<string[]> {
  const commits: string[] = [];
  const entries: { path: string; oid: string }[] = [];
  for (let i = 0; i < n; i++) {
    entries.push({ path: `data/users/p-${i}.json`, oid: await repo.writeBlob(`{"_id":${i}}\n`) });
    const tree = await repo.writeTree(entries);
    const oid = await repo.writeCommit({ tree, parents: commits.slice(-1), message: `snapshot ${i}`, author: at(i) });
    await repo.updateRef('refs/heads/main', oid, commits.at(-1) ?? null);
    commits.push(oid);
  }
  return commits;
}

async function walkModes(root: string, skip: Set<string>): Promise<{ rel: string; mode: number; dir: boolean }[]> {
  const out: { rel: string; mode: number; dir: boolean }[] = [];
  const walk = async (rel: string) => {
    for (const e of await fsp.readdir(path.join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (skip.has(r)) continue;
      const st = await fsp.stat(path.join(root, r));
      out.push({ rel: r, mode: st.mode & 0o777, dir: e.isDirectory() });
      if (e.isDirectory()) await walk(r);
    }
  };
  await walk('');
  return out;
}

describe('SnapshotRepository.init / open', () => {
  it('creates a bare repo with default branch main, idempotently, with private modes under any umask', async () => {
    const dir = path.join(tmp, 'backup-repo');
    await fsp.mkdir(dir);
    await fsp.writeFile(path.join(dir, 'README.md'), '# backups\n', { mode: 0o644 });
    await fsp.chmod(path.join(dir, 'README.md'), 0o644);
    const old = process.umask(0o000);
    try {
      const first = await SnapshotRepository.init(dir);
      expect(first.created).toBe(true);
      expect(first.repo.dir).toBe(dir);
      await fixture(dir); // objects and refs are created under the same umask
    } finally {
      process.umask(old);
    }
    const second = await SnapshotRepository.init(dir);
    expect(second.created).toBe(false);

    expect(await fsp.readFile(path.join(dir, 'HEAD'), 'utf8')).toBe('ref: refs/heads/main\n');
    expect(await fsp.readFile(path.join(dir, 'config'), 'utf8')).toContain('bare = true');
    expect((await fsp.stat(path.join(dir, 'README.md'))).mode & 0o777).toBe(0o644);
    const entries = await walkModes(dir, new Set(['README.md']));
    expect(entries.map((e) => e.rel)).toEqual(expect.arrayContaining(['HEAD', 'config', 'objects', 'objects/pack', 'refs/heads/main', 'refs/tags']));
    for (const e of entries) expect({ rel: e.rel, mode: e.mode.toString(8) }).toEqual({ rel: e.rel, mode: e.dir ? '700' : '600' });
    expect((await second.repo.head()).ref).toBe('refs/heads/main');

    if (NATIVE_GIT) {
      expect(nativeGit(dir, ['rev-parse', '--is-bare-repository']).trim()).toBe('true');
      expect(nativeGit(dir, ['symbolic-ref', 'HEAD']).trim()).toBe('refs/heads/main');
    }
  });

  it('creates missing parent directories with mode 0700', async () => {
    const dir = path.join(tmp, 'a', 'b', 'repo');
    const { created } = await SnapshotRepository.init(dir);
    expect(created).toBe(true);
    for (const d of ['a', 'a/b', 'a/b/repo']) expect((await fsp.stat(path.join(tmp, d))).mode & 0o777).toBe(0o700);
  });

  it('open fails with ENOREPO and says to run dbsnap init', async () => {
    const empty = path.join(tmp, 'only-readme');
    await fsp.mkdir(empty);
    await fsp.writeFile(path.join(empty, 'README.md'), 'x');
    for (const dir of [path.join(tmp, 'missing'), empty]) {
      const err = await SnapshotRepository.open(dir).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ENOREPO', data: { dir } });
      expect((err as Error).message).toContain('dbsnap init');
    }
    await SnapshotRepository.init(empty);
    expect((await SnapshotRepository.open(empty)).dir).toBe(empty);
  });
});

describe('objects', () => {
  it('writes blobs with git ids, skips existing ones, and counts what it wrote', async () => {
    const { repo, dir } = await fixture();
    expect(SnapshotRepository.hashBlob('hello\n')).toBe(BLOB_HELLO);
    expect(SnapshotRepository.hashBlob(Buffer.from('{"a":1}\n'))).toBe(sha1(Buffer.from('blob 8\0{"a":1}\n')));
    expect(repo.stats).toEqual({ blobsRead: 0, blobsWritten: 2, bytesWritten: 14 });

    expect(await repo.writeBlob('hello\n')).toBe(BLOB_HELLO);
    expect(repo.stats.blobsWritten).toBe(2);
    const unwritten = SnapshotRepository.hashBlob('never written');
    expect(fs.existsSync(path.join(dir, 'objects', unwritten.slice(0, 2), unwritten.slice(2)))).toBe(false);

    const big = Buffer.alloc(9 * 1024 * 1024 + 7, 0);
    for (let i = 0; i < big.length; i += 4096) big[i] = i % 251; // crosses the streaming threshold
    const bigOid = await repo.writeBlob(big);
    expect(bigOid).toBe(sha1(Buffer.concat([Buffer.from(`blob ${big.length}\0`), big])));
    expect(repo.stats).toEqual({ blobsRead: 0, blobsWritten: 3, bytesWritten: 14 + big.length });
    expect((await repo.readBlob(bigOid)).equals(big)).toBe(true);
    expect((await repo.readBlob(BLOB_A)).toString()).toBe('{"a":1}\n');
    expect(repo.stats.blobsRead).toBe(2);

    const leftovers = (await walkModes(dir, new Set())).filter((e) => e.rel.includes('tmp_'));
    expect(leftovers).toEqual([]);

    if (NATIVE_GIT) {
      expect(nativeGit(dir, ['cat-file', '-p', BLOB_A])).toBe('{"a":1}\n');
      expect(nativeGit(dir, ['cat-file', '-s', bigOid]).trim()).toBe(String(big.length));
      nativeGit(dir, ['fsck', '--strict', '--no-dangling']);
    }
  });

  it('builds nested trees in git order and a commit with the exact id native git computes', async () => {
    const { repo, dir, tree, c1 } = await fixture();
    expect(tree).toBe(FIXTURE_TREE);
    expect(c1).toBe(FIXTURE_COMMIT);
    expect([...(await repo.listFiles(c1)).keys()]).toEqual(['a-', 'a.b', 'a/x.json', 'a0', 'data/users/p-1.json', 'manifest.json']);

    // isomorphic-git reads the same objects and agrees on the ids.
    const itree = await git.readTree({ fs, gitdir: dir, oid: tree });
    // (isomorphic-git re-sorts entries when parsing, so compare as a set; native ls-tree checks the order.)
    expect(itree.oid).toBe(tree);
    expect(itree.tree.map((e) => `${e.mode} ${e.path}`).sort()).toEqual(
      ['100644 a-', '100644 a.b', '040000 a', '100644 a0', '040000 data', '100644 manifest.json'].sort(),
    );
    const icommit = await git.readCommit({ fs, gitdir: dir, oid: c1 });
    expect(icommit.commit).toMatchObject({ tree, parent: [], message: 'first snapshot\n', author: AUTHOR, committer: AUTHOR });
    expect(await git.writeCommit({ fs, gitdir: dir, commit: icommit.commit })).toBe(c1);

    if (NATIVE_GIT) {
      const env = { ...process.env, GIT_AUTHOR_DATE: '1700000000 +0100', GIT_COMMITTER_DATE: '1700000000 +0100' };
      const native = execFileSync(NATIVE_GIT, ['--git-dir', dir, '-c', 'user.name=dbsnap test', '-c', 'user.email=test@example.com',
        'commit-tree', tree, '-m', 'first snapshot'], { encoding: 'utf8', env });
      expect(native.trim()).toBe(c1);
      expect(nativeGit(dir, ['ls-tree', '--name-only', tree])).toBe('a-\na.b\na\na0\ndata\nmanifest.json\n');
      nativeGit(dir, ['fsck', '--strict', '--no-dangling']);
      expect(nativeGit(dir, ['log', '--format=%H %s']).trim()).toBe(`${c1} first snapshot`);
    }
  });

  it('writes the empty tree and rejects malformed tree paths', async () => {
    const { repo, a } = await fixture();
    expect(await repo.writeTree([])).toBe('4b825dc642cb6eb9a060e54bf8d69288fbee4904');
    for (const bad of [
      [{ path: '/abs', oid: a }],
      [{ path: 'a//b', oid: a }],
      [{ path: '../x', oid: a }],
      [{ path: '.git/config', oid: a }],
      [{ path: 'x', oid: a }, { path: 'x', oid: a }],
      [{ path: 'x', oid: a }, { path: 'x/y', oid: a }],
      [{ path: 'x/y', oid: a }, { path: 'x', oid: a }],
      [{ path: 'x', oid: 'abc' }],
    ]) {
      await expect(repo.writeTree(bad)).rejects.toMatchObject({ code: 'EINVALIDARG' });
    }
  });

  it('places a tree already written as a directory: the same root tree as writing its files flat', async () => {
    const { repo, dir, a } = await fixture();
    const b = await repo.writeBlob('{"b":2}\n');
    const flat = await repo.writeTree([
      { path: 'collections/users/collection.json', oid: a },
      { path: 'collections/users/parts/first.json', oid: b },
      { path: 'collections/users/parts/0a1b2c3d4e5f.json', oid: a },
      { path: 'manifest.json', oid: b },
    ]);
    const parts = await repo.writeTree([{ path: 'first.json', oid: b }, { path: '0a1b2c3d4e5f.json', oid: a }]);
    const users = await repo.writeTree([{ path: 'collection.json', oid: a }, { path: 'parts', oid: parts, mode: '40000' }]);
    expect(await repo.writeTree([{ path: 'collections/users', oid: users, mode: '40000' }, { path: 'manifest.json', oid: b }])).toBe(flat);
    expect((await repo.readTree(users)).map((e) => [e.name, e.type, e.oid])).toEqual([
      ['collection.json', 'blob', a],
      ['parts', 'tree', parts],
    ]);
    // The same parts tree from a list of file names alone; bad names are refused.
    expect(await repo.writeFileTree([{ name: '0a1b2c3d4e5f.json', oid: a }, { name: 'first.json', oid: b }])).toBe(parts);
    for (const bad of ['', '.', '..', '.GIT', 'a/b', 'x\0y']) {
      await expect(repo.writeFileTree([{ name: bad, oid: a }])).rejects.toMatchObject({ code: 'EINVALIDARG' });
    }
    await expect(repo.writeFileTree([{ name: 'x', oid: a }, { name: 'x', oid: b }])).rejects.toMatchObject({ code: 'EINVALIDARG' });
    await expect(repo.writeFileTree([{ name: 'x', oid: 'abc' }])).rejects.toMatchObject({ code: 'EINVALIDARG' });
    // A directory entry and a file under it are one path twice.
    await expect(repo.writeTree([{ path: 'x', oid: parts, mode: '40000' }, { path: 'x/y', oid: a }])).rejects.toMatchObject({ code: 'EINVALIDARG' });
    if (NATIVE_GIT) {
      const c = await repo.writeCommit({ tree: flat, parents: [], message: 'm', author: AUTHOR });
      expect(nativeGit(dir, ['rev-parse', `${c}:collections/users/parts`]).trim()).toBe(parts);
      nativeGit(dir, ['fsck', '--strict', '--no-dangling']);
    }
  });

  it('round-trips commit metadata, including multi-line messages and other time zones', async () => {
    const { repo, tree, c1 } = await fixture();
    const author = { name: 'Zoë', email: 'z@example.org', timestamp: 1712345678, timezoneOffset: 300 };
    const oid = await repo.writeCommit({ tree, parents: [c1], message: 'line 1\n\nline 3', author });
    expect(await repo.readCommit(oid)).toEqual({ oid, tree, parents: [c1], message: 'line 1\n\nline 3', author });
    await expect(repo.readCommit(tree)).rejects.toMatchObject({ code: 'ECORRUPT' });
  });

  it('ignores leftover temp files of a killed writer and reports damaged objects as ECORRUPT', async () => {
    const { repo, dir, c1, a } = await fixture();
    // What a process killed mid-write leaves behind: a partial temp file, never a partial object.
    await fsp.writeFile(path.join(dir, 'objects', a.slice(0, 2), 'tmp_obj_999_deadbeef'), 'partial');
    await fsp.writeFile(path.join(dir, 'tmp_999_deadbeef'), 'partial'); // init's config/HEAD temp files
    expect(await repo.resolveCommit(c1.slice(0, 4))).toBe(c1);
    expect(await repo.listRefs('refs/')).toEqual([{ ref: 'refs/heads/main', oid: c1 }]);
    expect((await repo.readBlob(a)).toString()).toBe('{"a":1}\n');
    if (NATIVE_GIT) nativeGit(dir, ['fsck', '--strict', '--no-dangling']);

    const objectFile = path.join(dir, 'objects', a.slice(0, 2), a.slice(2));
    await fsp.writeFile(objectFile, Buffer.from('not zlib at all'));
    await expect(repo.readBlob(a)).rejects.toMatchObject({ code: 'ECORRUPT', data: { oid: a } });
    const { deflateSync } = await import('node:zlib');
    await fsp.writeFile(objectFile, deflateSync(Buffer.from('blob 99\0short')));
    await expect(repo.readBlob(a)).rejects.toMatchObject({ code: 'ECORRUPT', data: { oid: a } });
    await expect(repo.readBlob(SnapshotRepository.hashBlob('absent'))).rejects.toMatchObject({ code: 'ECORRUPT', data: { missing: true } });
  });

  it('reads files and lists them under a prefix', async () => {
    const { repo, c1 } = await fixture();
    expect((await repo.readFile(c1, 'data/users/p-1.json'))?.toString()).toBe('{"a":1}\n');
    expect((await repo.readFile(c1, 'manifest.json'))?.toString()).toBe('hello\n');
    expect(await repo.readFile(c1, 'data/users/nope.json')).toBeNull();
    expect(await repo.readFile(c1, 'data/users')).toBeNull();
    expect(await repo.readFile(c1, 'nope/x.json')).toBeNull();
    expect(await repo.readFile(c1, 'manifest.json/x')).toBeNull();
    expect([...(await repo.listFiles(c1, 'data/users/'))]).toEqual([['data/users/p-1.json', BLOB_A]]);
    expect([...(await repo.listFiles(c1, 'data/users/p-')).keys()]).toEqual(['data/users/p-1.json']);
    expect([...(await repo.listFiles(c1, 'data/'))].length).toBe(1);
    expect([...(await repo.listFiles(c1, 'a')).keys()]).toEqual(['a-', 'a.b', 'a/x.json', 'a0']);
    expect([...(await repo.listFiles(c1, 'a/')).keys()]).toEqual(['a/x.json']);
    expect((await repo.listFiles(c1, 'zzz/')).size).toBe(0);
  });
});

describe('refs and history', () => {
  it('reports HEAD on an empty repo and after commits', async () => {
    const { repo } = await SnapshotRepository.init(path.join(tmp, 'r'));
    expect(await repo.head()).toEqual({ ref: 'refs/heads/main', oid: null });
    await expect(repo.resolveCommit('HEAD')).rejects.toMatchObject({ code: 'EREFNOTFOUND' });
    await expect(repo.log('HEAD')).rejects.toMatchObject({ code: 'EREFNOTFOUND' });
    const commits = await history(repo, 2);
    expect(await repo.head()).toEqual({ ref: 'refs/heads/main', oid: commits[1] });
  });

  it('updates refs atomically with compare-and-swap and never to a missing object', async () => {
    const { repo } = await SnapshotRepository.init(path.join(tmp, 'r'));
    const dir = repo.dir;
    const [c0, c1] = await history(repo, 2);
    await expect(repo.updateRef('refs/heads/main', c0!, c0!)).rejects.toMatchObject({ code: 'ELOCKED', data: { actual: c1, expected: c0 } });
    await expect(repo.updateRef('refs/heads/main', c0!, null)).rejects.toMatchObject({ code: 'ELOCKED' });
    expect((await repo.head()).oid).toBe(c1);
    await repo.updateRef('refs/heads/main', c0!, c1!);
    expect((await repo.head()).oid).toBe(c0);
    await repo.updateRef('refs/heads/main', c1!); // unconditional
    expect((await repo.head()).oid).toBe(c1);

    const missing = SnapshotRepository.hashBlob('not stored');
    await expect(repo.updateRef('refs/heads/other', missing)).rejects.toMatchObject({ code: 'ECORRUPT' });
    await expect(repo.updateRef('refs/heads/a..b', c0!)).rejects.toMatchObject({ code: 'EINVALIDARG' });
    await expect(repo.updateRef('main', c0!)).rejects.toMatchObject({ code: 'EINVALIDARG' });
    await expect(repo.updateRef('refs/heads/main', 'abc')).rejects.toMatchObject({ code: 'EINVALIDARG' });

    // Another writer holding git's ref lock.
    await fsp.writeFile(path.join(dir, 'refs/heads/main.lock'), '');
    await expect(repo.updateRef('refs/heads/main', c0!)).rejects.toMatchObject({ code: 'ELOCKED', data: { reason: 'ref-locked' } });
    await fsp.rm(path.join(dir, 'refs/heads/main.lock'));

    await repo.updateRef('refs/dbsnap/safety/2024-01-01T00-00-00Z', c0!, null);
    await repo.updateRef('refs/dbsnap/safety/2024-01-02T00-00-00Z', c1!, null);
    expect(await repo.listRefs('refs/dbsnap/safety/')).toEqual([
      { ref: 'refs/dbsnap/safety/2024-01-01T00-00-00Z', oid: c0 },
      { ref: 'refs/dbsnap/safety/2024-01-02T00-00-00Z', oid: c1 },
    ]);
    expect(await repo.listRefs('refs/heads/')).toEqual([{ ref: 'refs/heads/main', oid: c1 }]);
    expect(await repo.deleteRef('refs/dbsnap/safety/2024-01-01T00-00-00Z')).toBe(true);
    expect(await repo.deleteRef('refs/dbsnap/safety/2024-01-01T00-00-00Z')).toBe(false);
    expect((await repo.listRefs('refs/dbsnap/')).map((r) => r.ref)).toEqual(['refs/dbsnap/safety/2024-01-02T00-00-00Z']);
    expect((await walkModes(dir, new Set())).filter((e) => e.rel.endsWith('.lock') || e.rel.includes('tmp_'))).toEqual([]);
    if (NATIVE_GIT) expect(nativeGit(dir, ['rev-parse', 'refs/dbsnap/safety/2024-01-02T00-00-00Z']).trim()).toBe(c1);
  });

  it('resolves hashes, short hashes, branches, tags and ~/^ suffixes', async () => {
    const { repo } = await SnapshotRepository.init(path.join(tmp, 'r'));
    const c = await history(repo, 4);
    await repo.createTag('v1', c[2]!);
    await repo.createTag('v2', c[3]!, { message: 'release 2', tagger: AUTHOR });
    const cases: [string, string][] = [
      [c[3]!, c[3]!],
      [c[1]!.toUpperCase(), c[1]!],
      [c[1]!.slice(0, 7), c[1]!],
      [c[1]!.slice(0, 4), c[1]!],
      ['HEAD', c[3]!],
      ['@', c[3]!],
      ['main', c[3]!],
      ['heads/main', c[3]!],
      ['refs/heads/main', c[3]!],
      ['HEAD~1', c[2]!],
      ['HEAD~2', c[1]!],
      ['HEAD~~', c[1]!],
      ['main^', c[2]!],
      ['main^1', c[2]!],
      ['HEAD^^', c[1]!],
      ['HEAD~1^', c[1]!],
      ['HEAD^0', c[3]!],
      ['HEAD~3', c[0]!],
      ['v1', c[2]!],
      ['tags/v1', c[2]!],
      ['v1~1', c[1]!],
      ['v2', c[3]!],
      ['v2^{}', c[3]!],
      ['v2^{commit}', c[3]!],
      ['v2~2', c[1]!],
      ['refs/tags/v2', c[3]!],
    ];
    for (const [rev, expected] of cases) expect(await repo.resolveCommit(rev), rev).toBe(expected);

    for (const bad of ['HEAD~4', 'HEAD^2', 'nope', 'v3', 'zzzz', c[1]!.slice(0, 3), '0000000000000000000000000000000000000000', '', 'HEAD^{tree}', 'a..b']) {
      await expect(repo.resolveCommit(bad).then((oid) => `${bad} -> ${oid}`), bad).rejects.toMatchObject({ code: 'EREFNOTFOUND' });
    }
    // A tree is an object, but not a commit.
    const tree = (await repo.readCommit(c[0]!)).tree;
    await expect(repo.resolveCommit(tree)).rejects.toMatchObject({ code: 'EREFNOTFOUND', data: { type: 'tree' } });

    if (NATIVE_GIT) {
      for (const [rev, expected] of cases) expect(nativeGit(repo.dir, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]).trim(), rev).toBe(expected);
    }
  });

  it('reports an ambiguous short hash as EREFNOTFOUND listing the candidates', async () => {
    const { repo } = await SnapshotRepository.init(path.join(tmp, 'r'));
    const byPrefix = new Map<string, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair; i++) {
      const content = `doc ${i}\n`;
      const prefix = SnapshotRepository.hashBlob(content).slice(0, 4);
      const other = byPrefix.get(prefix);
      if (other !== undefined) pair = [other, content];
      else byPrefix.set(prefix, content);
    }
    const oids = [await repo.writeBlob(pair[0]), await repo.writeBlob(pair[1])];
    const err = await repo.resolveCommit(oids[0]!.slice(0, 4)).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'EREFNOTFOUND' });
    expect((err as Error).message).toContain('ambiguous');
    expect(((err as { data: { matches: string[] } }).data.matches).sort()).toEqual([...oids].sort());
  });

  it('logs first-parent history newest first, limited to n', async () => {
    const { repo } = await SnapshotRepository.init(path.join(tmp, 'r'));
    const c = await history(repo, 3);
    const side = await repo.writeCommit({ tree: (await repo.readCommit(c[0]!)).tree, parents: [c[0]!], message: 'side', author: at(50) });
    const merge = await repo.writeCommit({ tree: (await repo.readCommit(c[2]!)).tree, parents: [c[2]!, side], message: 'merge', author: at(60) });
    await repo.updateRef('refs/heads/main', merge);
    const log = await repo.log('HEAD');
    expect(log.map((x) => x.message)).toEqual(['merge', 'snapshot 2', 'snapshot 1', 'snapshot 0']);
    expect(log.map((x) => x.oid)).toEqual([merge, c[2], c[1], c[0]]);
    expect(log[0]!.parents).toEqual([c[2], side]);
    expect((await repo.log('main', 2)).map((x) => x.oid)).toEqual([merge, c[2]]);
    expect((await repo.log('HEAD~1', 1)).map((x) => x.oid)).toEqual([c[2]]);
    expect(await repo.resolveCommit('HEAD^2')).toBe(side);
    expect(log[3]!.author).toEqual(at(0));
  });
});

describe('tags', () => {
  it('creates, lists, moves and deletes lightweight and annotated tags', async () => {
    const { repo } = await SnapshotRepository.init(path.join(tmp, 'r'));
    const dir = repo.dir;
    const [c0, c1] = await history(repo, 2);
    await repo.createTag('before-migration', c0!);
    await repo.createTag('release/1.0', c1!, { message: 'first release', tagger: at(100) });
    expect(await repo.listTags()).toEqual([
      { name: 'before-migration', commit: c0, annotated: false },
      { name: 'release/1.0', commit: c1, annotated: true, message: 'first release' },
    ]);
    // Annotated tag object: exact bytes, so the id is the one `git mktag` gives.
    const tagOid = (await repo.listRefs('refs/tags/release/')).at(0)!.oid;
    const tagBody = `object ${c1}\ntype commit\ntag release/1.0\ntagger dbsnap test <test@example.com> 1700000100 +0100\n\nfirst release\n`;
    expect(tagOid).toBe(sha1(Buffer.from(`tag ${Buffer.byteLength(tagBody)}\0${tagBody}`)));
    const itag = await git.readTag({ fs, gitdir: dir, oid: tagOid });
    expect(itag.tag).toMatchObject({ object: c1, type: 'commit', tag: 'release/1.0', message: 'first release\n', tagger: at(100) });

    await expect(repo.createTag('before-migration', c1!)).rejects.toMatchObject({ code: 'ETAGEXISTS' });
    await repo.createTag('before-migration', c1!, { force: true });
    expect((await repo.tagsByCommit()).get(c1!)).toEqual(['before-migration', 'release/1.0']);
    expect((await repo.tagsByCommit()).get(c0!)).toBeUndefined();

    if (NATIVE_GIT) {
      expect(nativeGit(dir, ['mktag'], { input: tagBody }).trim()).toBe(tagOid);
      expect(nativeGit(dir, ['tag', '-l', '-n1'])).toMatch(/before-migration\s+snapshot 1\nrelease\/1.0\s+first release\n/);
      nativeGit(dir, ['fsck', '--strict', '--no-dangling']);
    }

    await repo.deleteTag('before-migration');
    await expect(repo.deleteTag('before-migration')).rejects.toMatchObject({ code: 'EREFNOTFOUND' });
    expect((await repo.listTags()).map((t) => t.name)).toEqual(['release/1.0']);
    for (const bad of ['a..b', 'x.lock', '-x', 'a b', 'a~1', '', 'a:b', 'v1^', '.hidden', 'a/']) {
      await expect(repo.createTag(bad, c0!), bad).rejects.toMatchObject({ code: 'EINVALIDARG' });
    }
    await expect(repo.createTag('ok', SnapshotRepository.hashBlob('missing'))).rejects.toMatchObject({ code: 'EREFNOTFOUND' });
  });
});

describe('packed repositories', () => {
  it('reads objects and refs packed by isomorphic-git, without rewriting packed blobs', async () => {
    const { repo, dir, c1, tree, a, hello } = await fixture();
    await repo.createTag('v1', c1, { message: 'tagged', tagger: AUTHOR });
    const { oids: allOids } = await packAllLooseObjects(dir);
    expect(allOids.length).toBeGreaterThanOrEqual(8);

    const reopened = await SnapshotRepository.open(dir);
    expect((await reopened.readBlob(a)).toString()).toBe('{"a":1}\n');
    expect((await reopened.readFile(c1, 'a/x.json'))?.toString()).toBe('hello\n');
    expect((await reopened.readCommit(c1)).tree).toBe(tree);
    expect((await reopened.listFiles(c1)).size).toBe(6);
    expect(await reopened.resolveCommit(c1.slice(0, 6))).toBe(c1);
    expect(await reopened.resolveCommit('v1')).toBe(c1);
    expect(await reopened.writeBlob('hello\n')).toBe(hello);
    expect(reopened.stats).toEqual({ blobsRead: 2, blobsWritten: 0, bytesWritten: 0 });
    expect(fs.existsSync(path.join(dir, 'objects', hello.slice(0, 2), hello.slice(2)))).toBe(false);
  });

  it('reads a repository after native git gc (packed objects and packed-refs) when git is installed', async () => {
    const { repo, dir, c1, a } = await fixture();
    const [, c2] = await extend(repo, c1);
    await repo.createTag('light', c1);
    await repo.createTag('annotated', c2, { message: 'm', tagger: AUTHOR });
    if (!NATIVE_GIT) {
      // Without native git the same reads are covered by the isomorphic-git pack test above.
      await packAllLooseObjects(dir);
    } else {
      nativeGit(dir, ['gc', '--quiet', '--prune=now']);
      expect(fs.existsSync(path.join(dir, 'packed-refs'))).toBe(true);
      expect(fs.existsSync(path.join(dir, 'objects', a.slice(0, 2), a.slice(2)))).toBe(false);
    }
    const r = await SnapshotRepository.open(dir);
    expect((await r.readBlob(a)).toString()).toBe('{"a":1}\n');
    expect(await r.resolveCommit('main~1')).toBe(c1);
    expect(await r.resolveCommit('annotated')).toBe(c2);
    expect(await r.listTags()).toEqual([
      { name: 'annotated', commit: c2, annotated: true, message: 'm' },
      { name: 'light', commit: c1, annotated: false },
    ]);
    expect((await r.log('HEAD')).map((c) => c.oid)).toEqual([c2, c1]);
    await r.deleteTag('light');
    expect((await r.listTags()).map((t) => t.name)).toEqual(['annotated']);
    await expect(r.resolveCommit('light')).rejects.toMatchObject({ code: 'EREFNOTFOUND' });
    // A new commit on top of a packed branch.
    const c3 = await r.writeCommit({ tree: await r.writeTree([{ path: 'x', oid: await r.writeBlob('x') }]), parents: [c2], message: 'c3', author: at(9) });
    await r.updateRef('refs/heads/main', c3, c2);
    expect((await r.log('main')).map((c) => c.message)).toEqual(['c3', 'second', 'first snapshot']);
    if (NATIVE_GIT) {
      nativeGit(dir, ['fsck', '--strict', '--no-dangling']);
      expect(nativeGit(dir, ['tag', '-l'])).toBe('annotated\n');
      const clone = path.join(tmp, 'clone');
      execFileSync(NATIVE_GIT, ['clone', '--quiet', dir, clone], { env: { ...process.env, HOME: os.tmpdir() } });
      expect(await fsp.readFile(path.join(clone, 'x'), 'utf8')).toBe('x');
    }
  });
});

async function extend(repo: SnapshotRepository, parent: string): Promise<[string, string]> {
  const b = await repo.writeBlob('{"b":2}\n');
  const tree = await repo.writeTree([{ path: 'data/users/p-2.json', oid: b }]);
  const c2 = await repo.writeCommit({ tree, parents: [parent], message: 'second', author: at(10) });
  await repo.updateRef('refs/heads/main', c2, parent);
  return [parent, c2];
}

/** Packs every loose object with isomorphic-git (no native git needed) and deletes the loose files. */
async function packAllLooseObjects(dir: string): Promise<{ oids: string[] }> {
  const loose: string[] = [];
  for (const d of await fsp.readdir(path.join(dir, 'objects'))) {
    if (!/^[0-9a-f]{2}$/.test(d)) continue;
    for (const f of await fsp.readdir(path.join(dir, 'objects', d))) loose.push(d + f);
  }
  const { filename } = await git.packObjects({ fs, gitdir: dir, oids: loose, write: true });
  const { oids } = await git.indexPack({ fs, dir, gitdir: dir, filepath: `objects/pack/${filename}` });
  expect([...oids].sort()).toEqual([...loose].sort());
  for (const oid of loose) await fsp.rm(path.join(dir, 'objects', oid.slice(0, 2), oid.slice(2)));
  return { oids };
}

describe('opening a clone', () => {
  it('finds the git directory inside a working tree (a clone of the snapshot repository)', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'dbsnap-clone-'));
    try {
      const { repo } = await SnapshotRepository.init(join(dir, '.git'));
      const opened = await SnapshotRepository.open(dir);
      expect(opened.dir).toBe(repo.dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
