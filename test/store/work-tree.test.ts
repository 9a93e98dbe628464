import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { init } from '../../src/index.js';
import { formatIndex, parseIndex } from '../../src/store/git-index.js';
import { SnapshotRepository, type CommitInfo } from '../../src/store/index.js';
import { FIXED } from '../support/temp-repo.js';

// These tests are about what native git sees, so they need it (installed on every dbsnap machine).
const GIT = '/usr/bin/git';
const ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: os.tmpdir(), GIT_AUTHOR_NAME: 'x', GIT_AUTHOR_EMAIL: 'x@x', GIT_COMMITTER_NAME: 'x', GIT_COMMITTER_EMAIL: 'x@x' };
const git = (cwd: string, ...args: string[]) => execFileSync(GIT, args, { cwd, encoding: 'utf8', env: ENV, stdio: ['pipe', 'pipe', 'pipe'] });
const AUTHOR: CommitInfo['author'] = { name: 'dbsnap test', email: 'test@example.com', timestamp: 1700000000, timezoneOffset: 0 };

let tmp: string;
let clone: string;
beforeEach(async () => {
  tmp = await fsp.mkdtemp(path.join(os.tmpdir(), 'dbsnap-worktree-'));
  const bare = path.join(tmp, 'origin');
  await init({ repo: bare, ...FIXED });
  const repo = await SnapshotRepository.open(bare);
  const head = (await repo.head()).oid!;
  const files = await repo.listFiles(head);
  const c = await repo.writeCommit({
    tree: await repo.writeTree([
      ...[...files].map(([p, oid]) => ({ path: p, oid })),
      { path: 'collections/users/parts/first.json', oid: await repo.writeBlob('[\n  {"_id": 1}\n]\n') },
      { path: 'collections/users/parts/aa.json', oid: await repo.writeBlob('[\n  {"_id": 2}\n]\n') },
      { path: 'manifest.json', oid: await repo.writeBlob('{"v": 1}\n') },
    ]),
    parents: [head],
    message: 'first',
    author: AUTHOR,
  });
  await repo.updateRef('refs/heads/main', c, head);
  clone = path.join(tmp, 'clone');
  execFileSync(GIT, ['clone', '--quiet', bare, clone], { env: ENV });
});
afterEach(async () => {
  await fsp.rm(tmp, { recursive: true, force: true });
});

/** A commit on top of HEAD with `changes` applied (null deletes a path). */
async function nextCommit(repo: SnapshotRepository, changes: Record<string, string | null>): Promise<{ parent: string; commit: string }> {
  const parent = (await repo.head()).oid!;
  const files = await repo.listFiles(parent);
  for (const [p, text] of Object.entries(changes)) {
    if (text === null) files.delete(p);
    else files.set(p, await repo.writeBlob(text));
  }
  const commit = await repo.writeCommit({ tree: await repo.writeTree([...files].map(([p, oid]) => ({ path: p, oid }))), parents: [parent], message: 'next', author: AUTHOR });
  return { parent, commit };
}

describe('a non-bare clone follows its branch', () => {
  it('moving the checked-out branch writes only the changed paths and leaves git status clean', async () => {
    const repo = await SnapshotRepository.open(clone);
    expect(repo.workTree?.root).toBe(clone);
    const untouched = path.join(clone, 'collections/users/parts/aa.json');
    const inodeBefore = fs.statSync(untouched).ino;
    const mtimeBefore = fs.statSync(untouched).mtimeMs;
    const { parent, commit } = await nextCommit(repo, {
      'collections/users/parts/first.json': '[\n  {"_id": 1, "x": 2}\n]\n',
      'manifest.json': '{"v": 2}\n',
      'collections/orders/parts/first.json': '[\n  {"_id": 9}\n]\n',
    });
    const { commit: c3 } = await (async () => {
      await repo.updateRef('refs/heads/main', commit, parent);
      return nextCommit(repo, { 'collections/orders/parts/first.json': null });
    })();
    expect(git(clone, 'status', '--porcelain')).toBe('');
    expect(await fsp.readFile(path.join(clone, 'collections/users/parts/first.json'), 'utf8')).toBe('[\n  {"_id": 1, "x": 2}\n]\n');
    expect(await fsp.readFile(path.join(clone, 'collections/orders/parts/first.json'), 'utf8')).toBe('[\n  {"_id": 9}\n]\n');
    // The unchanged part was not rewritten.
    expect(fs.statSync(untouched).ino).toBe(inodeBefore);
    expect(fs.statSync(untouched).mtimeMs).toBe(mtimeBefore);

    await repo.updateRef('refs/heads/main', c3, commit);
    expect(git(clone, 'status', '--porcelain')).toBe('');
    // A deleted collection's directory goes away with its last file.
    expect(fs.existsSync(path.join(clone, 'collections/orders'))).toBe(false);
    expect(git(clone, 'rev-parse', 'HEAD').trim()).toBe(c3);
    expect(git(clone, 'diff', '--stat', 'HEAD')).toBe('');
    git(clone, 'fsck', '--strict', '--no-dangling');
  });

  it('refuses to move when a tracked file is edited, staged or an untracked file is in the way, changing nothing', async () => {
    const repo = await SnapshotRepository.open(clone);
    const { parent, commit } = await nextCommit(repo, { 'manifest.json': '{"v": 2}\n', 'collections/new/parts/first.json': '[]\n' });
    const edited = path.join(clone, 'collections/users/parts/aa.json');

    await fsp.writeFile(edited, '[\n  {"_id": 2, "hand": "edit"}\n]\n');
    await expect(repo.updateRef('refs/heads/main', commit, parent)).rejects.toMatchObject({
      code: 'EDIRTY',
      data: { changes: [{ path: 'collections/users/parts/aa.json', kind: 'modified' }] },
    });
    expect(git(clone, 'rev-parse', 'HEAD').trim()).toBe(parent);
    expect(await fsp.readFile(edited, 'utf8')).toContain('hand');
    expect(fs.existsSync(path.join(clone, '.git/index.lock'))).toBe(false);

    git(clone, 'add', 'collections/users/parts/aa.json');
    await expect(repo.updateRef('refs/heads/main', commit, parent)).rejects.toMatchObject({ code: 'EDIRTY', data: { changes: [{ kind: 'staged' }] } });
    await expect(repo.assertWorkTreeClean('dbsnap commit')).rejects.toThrow(/dbsnap commit: the work tree of .* has uncommitted changes: collections\/users\/parts\/aa.json \(staged\)/);
    git(clone, 'reset', '--quiet', '--hard');

    await fsp.rm(path.join(clone, 'manifest.json'));
    await expect(repo.updateRef('refs/heads/main', commit, parent)).rejects.toMatchObject({ code: 'EDIRTY', data: { changes: [{ path: 'manifest.json', kind: 'deleted' }] } });
    git(clone, 'checkout', '--quiet', '--', 'manifest.json');

    await fsp.mkdir(path.join(clone, 'collections/new/parts'), { recursive: true });
    await fsp.writeFile(path.join(clone, 'collections/new/parts/first.json'), 'mine\n');
    await expect(repo.updateRef('refs/heads/main', commit, parent)).rejects.toMatchObject({ code: 'EDIRTY', data: { changes: [{ kind: 'untracked' }] } });
    // The same content in the way is no conflict.
    await fsp.writeFile(path.join(clone, 'collections/new/parts/first.json'), '[]\n');
    await repo.updateRef('refs/heads/main', commit, parent);
    expect(git(clone, 'status', '--porcelain')).toBe('');
  });

  it('waits for nobody: a held index.lock is ELOCKED and the ref does not move', async () => {
    const repo = await SnapshotRepository.open(clone);
    const { parent, commit } = await nextCommit(repo, { 'manifest.json': '{"v": 3}\n' });
    await fsp.writeFile(path.join(clone, '.git/index.lock'), '');
    await expect(repo.updateRef('refs/heads/main', commit, parent)).rejects.toMatchObject({ code: 'ELOCKED' });
    expect(git(clone, 'rev-parse', 'HEAD').trim()).toBe(parent);
  });

  it('reads the index versions git writes (2 and 4) and writes version 2', async () => {
    const repo = await SnapshotRepository.open(clone);
    // (git writes version 3 only when an entry has extended flags, which dbsnap refuses.)
    for (const version of ['4', '2']) {
      git(clone, 'update-index', '--index-version', version);
      const buf = await fsp.readFile(path.join(clone, '.git/index'));
      expect(buf.readUInt32BE(4)).toBe(Number(version));
      const entries = parseIndex(buf, 'index');
      expect(entries.map((e) => e.path)).toEqual(['.gitattributes', 'collections/users/parts/aa.json', 'collections/users/parts/first.json', 'dbsnap.json', 'manifest.json']);
      // Re-serialized as version 2, git reads the same entries back.
      await fsp.writeFile(path.join(clone, '.git/index'), formatIndex(entries));
      expect(git(clone, 'ls-files', '-s')).toBe(git(clone, 'ls-tree', '-r', 'HEAD').replace(/^(\d+) blob ([0-9a-f]+)\t/gm, '$1 $2 0\t'));
    }
    git(clone, 'update-index', '--index-version', '4');
    const { parent, commit } = await nextCommit(repo, { 'manifest.json': '{"v": 4}\n' });
    await repo.updateRef('refs/heads/main', commit, parent);
    expect(git(clone, 'status', '--porcelain')).toBe('');
  });

  it('switches branches: files follow, a new branch starts at HEAD, a remote-only branch is created from the remote', async () => {
    const repo = await SnapshotRepository.open(clone);
    const main = (await repo.head()).oid!;
    expect(await repo.switchBranch('data/fix', { create: true })).toEqual({ branch: 'data/fix', commit: main, created: true });
    expect(git(clone, 'branch', '--show-current').trim()).toBe('data/fix');
    const { parent, commit } = await nextCommit(repo, { 'collections/users/parts/aa.json': '[\n  {"_id": 2, "fixed": true}\n]\n' });
    await repo.updateRef('refs/heads/data/fix', commit, parent);
    expect(git(clone, 'status', '--porcelain')).toBe('');

    await repo.switchBranch('main');
    expect(await fsp.readFile(path.join(clone, 'collections/users/parts/aa.json'), 'utf8')).toBe('[\n  {"_id": 2}\n]\n');
    expect(git(clone, 'status', '--porcelain')).toBe('');
    expect((await repo.listBranches()).map((b) => [b.name, b.current])).toEqual([['data/fix', false], ['main', true]]);

    await expect(repo.switchBranch('main', { create: true })).rejects.toMatchObject({ code: 'EBRANCH' });
    await expect(repo.switchBranch('nope')).rejects.toMatchObject({ code: 'EREFNOTFOUND' });
    await expect(repo.switchBranch('bad..name')).rejects.toMatchObject({ code: 'EINVALIDARG' });
    await expect(repo.deleteBranch('main')).rejects.toMatchObject({ code: 'EBRANCH' });
    // data/fix has a commit main does not contain.
    await expect(repo.deleteBranch('data/fix')).rejects.toMatchObject({ code: 'EBRANCH' });

    // A branch only on the remote: push data/fix there, delete it locally, switch by name.
    git(clone, 'push', '--quiet', 'origin', 'data/fix');
    git(clone, 'fetch', '--quiet', 'origin');
    expect(await repo.deleteBranch('data/fix', { force: true })).toBe(commit);
    expect(await repo.switchBranch('data/fix')).toEqual({ branch: 'data/fix', commit, created: true });
    expect(git(clone, 'status', '--porcelain')).toBe('');
    expect(await repo.resolveCommit('origin/main')).toBe(main);
  });

  it('a bare repository has no work tree and switching only moves HEAD', async () => {
    const repo = await SnapshotRepository.open(path.join(tmp, 'origin'));
    expect(repo.workTree).toBeNull();
    await repo.switchBranch('other', { create: true });
    expect((await repo.head()).ref).toBe('refs/heads/other');
    expect(fs.existsSync(path.join(tmp, 'origin', 'index'))).toBe(false);
  });
});
