import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { execFileSync } from 'node:child_process';
import { addRemote, clone, commit, configValue, fetchRemote, init, listRemotes, push, removeRemote, tag } from '../../src/index.js';
import { generateKey } from '../../src/crypto/index.js';
import { dbsnap } from '../cli/support.js';
import { loadShop, mutateShop } from '../support/shop.js';
import { useTestDatabase, type TestDatabase } from '../support/test-db.js';
import { fsck, git, newObjects, objectCount, rawState, showRef, uriWithDatabase } from './support.js';

const FIXED = { author: { name: 'Test', email: 'test@example.com' }, now: new Date('2025-01-02T03:04:05Z') };
let dir = '';
let repo = '';
let t: TestDatabase;
const scratch: TestDatabase[] = [];
let clock = Date.parse('2025-01-02T03:04:05Z');
const later = () => ({ ...FIXED, now: new Date((clock += 60_000)) });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dbsnap-push-file-'));
  repo = join(dir, 'backup-repo');
  t = await useTestDatabase('pushfile');
  await loadShop(t.db, { totalDocs: 600, seed: 11 });
  await init({ repo, ...FIXED });
  await commit({ repo, uri: t.dbUri, message: 'first', ...later() });
  await tag({ repo, name: 'v1', ...FIXED });
});

afterAll(async () => {
  for (const d of scratch) await d.drop().catch(() => {});
  await t?.drop();
  await rm(dir, { recursive: true, force: true });
});

async function restoreInto(from: string, ref: string): Promise<TestDatabase> {
  const target = await useTestDatabase('pushfile_restore');
  scratch.push(target);
  const r = await dbsnap(['restore', ref, '--repo', from, '--uri', uriWithDatabase(t.uri, target.dbName), '--yes', '--no-backup']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return target;
}

// Each test runs the built binary and native git several times: minutes on a loaded machine.
vi.setConfig({ testTimeout: 240_000 });

describe('local-path remotes', () => {
  it('remote add/list/remove are standard git config sections; a URL with a password is refused', async () => {
    const added = await dbsnap(['remote', 'add', 'nas', join(dir, 'nas.git'), '--repo', repo]);
    expect(added).toEqual({ code: 0, stdout: `Added remote nas (${join(dir, 'nas.git')})\n`, stderr: '' });
    expect(git(['--git-dir', repo, 'remote', '-v'])).toBe(`nas\t${join(dir, 'nas.git')} (fetch)\nnas\t${join(dir, 'nas.git')} (push)\n`);
    expect(git(['--git-dir', repo, 'config', '--get', 'remote.nas.fetch']).trim()).toBe('+refs/heads/*:refs/remotes/nas/*');

    const secret = await dbsnap(['remote', 'add', 'gh', 'https://me:hunter2@github.com/acme/data.git', '--repo', repo]);
    expect(secret.code).toBe(2);
    expect(secret.stderr).toBe('error: the URL https://me:***@github.com/acme/data.git contains a password or token, and dbsnap never stores credentials in the repository: give the URL without it and put the token in DBSNAP_GIT_TOKEN (or use a git credential helper).\n');
    expect(await readFile(join(repo, 'config'), 'utf8')).not.toContain('hunter2');

    const dup = await dbsnap(['remote', 'add', 'nas', '/elsewhere', '--repo', repo]);
    expect(dup.code).toBe(2);
    expect(dup.stderr).toMatch(/^error: remote "nas" already exists/);

    git(['--git-dir', repo, 'remote', 'add', 'byhand', 'git@example.com:acme/data.git']);
    expect(await listRemotes({ repo })).toEqual([
      { name: 'nas', url: join(dir, 'nas.git'), kind: 'file' },
      { name: 'byhand', url: 'git@example.com:acme/data.git', kind: 'ssh' },
    ]);
    const removed = await dbsnap(['remote', 'remove', 'byhand', '--repo', repo]);
    expect(removed.code).toBe(0);
    expect(git(['--git-dir', repo, 'remote'])).toBe('nas\n');
    const missing = await dbsnap(['remote', 'remove', 'byhand', '--repo', repo]);
    expect(missing).toMatchObject({ code: 2, stderr: 'error: no remote named "byhand" (configured: nas).\n' });
  });

  it('the first push creates a bare repository native git clones and fscks; the next sends only new objects', async () => {
    const nas = join(dir, 'nas.git');
    const first = await push({ repo });
    expect(first.ok).toBe(true);
    expect(first.remotes[0]).toMatchObject({ remote: 'nas', status: 'pushed', objects: newObjects(repo, '--all') });
    expect(showRef(nas)).toBe(showRef(repo));
    expect(fsck(nas)).toEqual({ code: 0, output: '' });
    expect(git(['--git-dir', nas, 'config', '--get', 'core.bare']).trim()).toBe('true');
    const native = join(dir, 'native');
    git(['clone', '-q', nas, native]);
    expect(git(['-C', native, 'rev-parse', 'HEAD'])).toBe(git(['--git-dir', repo, 'rev-parse', 'HEAD']));
    expect(await rawState((await restoreInto(native, 'v1')).db)).toEqual(await rawState(t.db));

    await mutateShop(t.db, { fraction: 0.001, seed: 3 });
    await commit({ repo, uri: t.dbUri, message: 'small change', ...later() });
    const expected = newObjects(repo, 'HEAD', 'HEAD~1');
    const before = objectCount(nas);
    const second = await dbsnap(['push', '--repo', repo]);
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(new RegExp(`^nas  ${nas.replace(/[.]/g, '\\.')}: ${expected} objects, [\\d.]+ (B|KiB) \\(main\\)\\n$`));
    expect(objectCount(nas) - before).toBe(expected);
    expect(fsck(nas)).toEqual({ code: 0, output: '' });
    expect(await dbsnap(['push', '--repo', repo])).toMatchObject({ code: 0, stdout: `nas  ${nas}: up to date\n` });
  });

  it('a packed remote (native git clone --bare, gc) takes pushes and clones from it restore identically', async () => {
    const packed = join(dir, 'packed.git');
    git(['clone', '-q', '--bare', repo, packed]);
    git(['--git-dir', packed, 'gc', '-q']);
    expect(git(['--git-dir', packed, 'count-objects', '-v'])).toMatch(/^count: 0$/m);
    await addRemote({ repo, name: 'packed', url: packed });
    await t.db.collection('products').updateOne({}, { $set: { price: 1234 } });
    await commit({ repo, uri: t.dbUri, message: 'price', ...later() });
    const r = await push({ repo, remotes: ['packed'] });
    expect(r.remotes[0]).toMatchObject({ status: 'pushed', objects: newObjects(repo, 'HEAD', 'HEAD~1') });
    expect(fsck(packed)).toEqual({ code: 0, output: '' });

    const cloned = join(dir, 'from-packed');
    const c = await clone({ url: packed, dir: cloned });
    expect(c).toMatchObject({ branch: 'refs/heads/main', commit: git(['--git-dir', repo, 'rev-parse', 'HEAD']).trim(), tags: 1, dbsnap: true });
    expect(c.objects).toBe(newObjects(repo, '--all'));
    expect(fsck(cloned)).toEqual({ code: 0, output: '' });
    expect(await rawState((await restoreInto(cloned, 'HEAD')).db)).toEqual(await rawState(t.db));
  });

  it('fetch and pull fast-forward a clone; diverged branches are refused with exit 2 and nothing moves', async () => {
    const mine = join(dir, 'mine');
    const cl = await dbsnap(['clone', join(dir, 'nas.git'), mine]);
    expect(cl.code).toBe(0);
    const at = git(['--git-dir', mine, 'rev-parse', 'HEAD']).trim();

    await t.db.collection('users').updateOne({}, { $set: { note: 'fetched later' } });
    await commit({ repo, uri: t.dbUri, message: 'another', ...later() });
    await push({ repo, remotes: ['nas'] });
    const f = await fetchRemote({ repo: mine });
    expect(f.refs).toEqual([{ ref: 'refs/remotes/origin/main', old: at, new: git(['--git-dir', repo, 'rev-parse', 'HEAD']).trim() }]);
    expect(git(['--git-dir', mine, 'rev-parse', 'HEAD']).trim()).toBe(at);
    const p = await dbsnap(['pull', '--repo', mine]);
    expect(p.code).toBe(0);
    expect(p.stdout).toBe(`main: fast-forward ${at.slice(0, 7)}..${git(['--git-dir', repo, 'rev-parse', '--short=7', 'HEAD']).trim()}\n`);
    expect(git(['--git-dir', mine, 'rev-parse', 'HEAD'])).toBe(git(['--git-dir', repo, 'rev-parse', 'HEAD']));
    expect(fsck(mine)).toEqual({ code: 0, output: '' });

    // Both sides move on: pull refuses, push refuses, nothing changes.
    await commit({ repo: mine, uri: t.dbUri, message: 'on mine', allowEmpty: true, ...later() });
    await commit({ repo, uri: t.dbUri, message: 'on repo', allowEmpty: true, ...later() });
    await push({ repo, remotes: ['nas'] });
    const mineRefs = showRef(mine);
    const diverged = await dbsnap(['pull', '--repo', mine]);
    expect(diverged.code).toBe(2);
    expect(diverged.stderr).toMatch(/^error: main and origin\/main have diverged \(each has commits the other lacks\); pull only fast-forwards, so main was left at [0-9a-f]{7}\./);
    expect(diverged.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    const afterRefs = showRef(mine);
    expect(afterRefs.split('\n').filter((l) => l.endsWith('refs/heads/main'))).toEqual(mineRefs.split('\n').filter((l) => l.endsWith('refs/heads/main')));
    const refused = await push({ repo: mine });
    expect(refused.ok).toBe(false);
    expect(refused.remotes[0]!.error).toMatchObject({ code: 'EREJECTED' });
  });

  it('removing a remote drops its tracking refs and leaves the remote alone', async () => {
    const mine = join(dir, 'mine');
    expect((await removeRemote({ repo: mine, name: 'origin' })).name).toBe('origin');
    expect(git(['--git-dir', mine, 'for-each-ref', 'refs/remotes/'])).toBe('');
    expect(fsck(join(dir, 'nas.git')).code).toBe(0);
  });
});

describe('encrypted repositories', () => {
  it('push exactly what is committed: no sensitive plaintext and no key reaches the remote', async () => {
    const enc = join(dir, 'enc-repo');
    const key = generateKey();
    await init({ repo: enc, ...FIXED });
    await configValue({ repo: enc, key: 'sensitive.users', value: '["email"]', ...later() });
    const c = await commit({ repo: enc, uri: t.dbUri, key, message: 'encrypted', ...later() });
    expect(c.committed).toBe(true);
    const emails = (await t.db.collection('users').find().toArray()).map((u) => String(u.email));
    expect(emails.length).toBeGreaterThan(10);
    const remote = join(dir, 'enc-remote.git');
    await addRemote({ repo: enc, name: 'nas', url: remote });
    expect((await push({ repo: enc })).ok).toBe(true);
    expect(showRef(remote)).toBe(showRef(enc));
    // Every object the remote holds, inflated, as text: ciphertext only.
    const everything = execFileSync('git', ['--git-dir', remote, 'cat-file', '--batch-all-objects', '--batch'], { maxBuffer: 256 * 1024 * 1024 }).toString('latin1');
    expect(everything.length).toBeGreaterThan(10_000);
    for (const e of emails) expect(everything.includes(e)).toBe(false);
    expect(everything.includes(key)).toBe(false);
    expect(spawnSyncText('grep', ['-r', '-l', key, remote])).toBe('');
  });
});

function spawnSyncText(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8' });
  } catch (err) {
    return (err as { stdout?: string }).stdout ?? '';
  }
}

describe('SSH remotes (native git)', () => {
  it('push and clone go through git with the repository as git dir', async () => {
    // A stand-in for ssh: runs the remote command locally, as sshd would.
    const fakeSsh = join(dir, 'fake-ssh');
    await writeFile(fakeSsh, '#!/bin/sh\nshift\nexec sh -c "$*"\n');
    await chmod(fakeSsh, 0o755);
    const target = join(dir, 'ssh.git');
    git(['init', '-q', '--bare', '-b', 'main', target]);
    const sshEnv = { GIT_SSH_COMMAND: fakeSsh, GIT_SSH_VARIANT: 'simple' };
    expect((await dbsnap(['remote', 'add', 'ssh', `ssh://backup-host${target}`, '--repo', repo])).code).toBe(0);
    const r = await dbsnap(['push', 'ssh', '--repo', repo], { env: sshEnv });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ssh  ssh:\/\/backup-host\S+ssh\.git: pushed \(main \(new\), v1 \(new\)\)\n$/);
    expect(showRef(target)).toBe(showRef(repo).split('\n').filter((l) => !l.includes('refs/remotes/')).join('\n'));
    expect(fsck(target)).toEqual({ code: 0, output: '' });
    expect(await dbsnap(['push', 'ssh', '--repo', repo], { env: sshEnv })).toMatchObject({ code: 0, stdout: expect.stringMatching(/: up to date\n$/) });

    const cloned = join(dir, 'ssh-clone');
    const c = await dbsnap(['clone', `ssh://backup-host${target}`, cloned], { env: sshEnv });
    expect(c.code).toBe(0);
    expect(git(['--git-dir', cloned, 'rev-parse', 'HEAD', 'v1'])).toBe(git(['--git-dir', repo, 'rev-parse', 'HEAD', 'v1']));
    expect(fsck(cloned)).toEqual({ code: 0, output: '' });
  });

  it('without a git binary: a one-line error naming the alternatives, other remotes still pushed', async () => {
    const r = await dbsnap(['push', 'ssh', 'nas', '--repo', repo], { env: { PATH: '/nonexistent' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error: ssh  ssh://backup-host${join(dir, 'ssh.git')}: ssh://backup-host${join(dir, 'ssh.git')} is an SSH remote, which needs the git binary, and git is not installed. Install git, or use an https:// URL (token in DBSNAP_GIT_TOKEN) or a local path instead.\n`);
    expect(r.stdout).toMatch(/^nas  \S+: (up to date|\d+ objects.*)\n$/);
  });
});
