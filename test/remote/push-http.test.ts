import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { commit, init, tag } from '../../src/index.js';
import { dbsnap } from '../cli/support.js';
import { startGitHttpServer, type GitHttpServer } from '../support/git-http-server.js';
import { loadShop, mutateShop } from '../support/shop.js';
import { useTestDatabase, type TestDatabase } from '../support/test-db.js';
import { fsck, git, newObjects, objectCount, rawState, showRef, uriWithDatabase } from './support.js';

const FIXED = { author: { name: 'Test', email: 'test@example.com' }, now: new Date('2025-01-02T03:04:05Z') };
const TOKEN = 'tok-3f9a1c77e2';

let dir = '';
let repo = '';
let remoteDir = '';
let server: GitHttpServer;
let t: TestDatabase;
const restored: TestDatabase[] = [];
const env = () => ({ DBSNAP_GIT_TOKEN: TOKEN, MONGODB_URI: t.dbUri });

/** A fresh database name on the test server, dropped after the file's tests. */
async function scratchDb(prefix: string): Promise<TestDatabase> {
  const d = await useTestDatabase(prefix);
  restored.push(d);
  return d;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dbsnap-push-http-'));
  repo = join(dir, 'backup-repo');
  remoteDir = join(dir, 'srv', 'data.git');
  git(['init', '-q', '--bare', '-b', 'main', remoteDir]);
  server = await startGitHttpServer({ root: join(dir, 'srv'), user: 'ci', token: TOKEN });
  t = await useTestDatabase('pushhttp');
  await loadShop(t.db, { totalDocs: 2000, seed: 5 });
  await init({ repo, ...FIXED });
  await commit({ repo, uri: t.dbUri, message: 'first', ...FIXED });
  await tag({ repo, name: 'v1', message: 'first snapshot', ...FIXED });
});

afterAll(async () => {
  await server?.close();
  for (const d of restored) await d.drop().catch(() => {});
  await t?.drop();
  await rm(dir, { recursive: true, force: true });
});

// Each test runs the built binary and native git several times: minutes on a loaded machine.
vi.setConfig({ testTimeout: 240_000 });

describe('dbsnap push / clone over smart HTTP (git http-backend with basic auth)', () => {
  it('pushes the branch and tags; a native clone has the same refs, passes fsck and restores byte-identically', async () => {
    expect((await dbsnap(['remote', 'add', 'origin', server.url('data.git'), '--repo', repo])).code).toBe(0);
    const r = await dbsnap(['push', '--repo', repo], { env: env() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const everything = newObjects(repo, '--all');
    expect(r.stdout).toMatch(new RegExp(`^origin  ${server.url('data.git').replace(/[.]/g, '\\.')}: ${everything} objects, [\\d.]+ (KiB|MiB) \\(main \\(new\\), v1 \\(new\\)\\)\\n$`));
    expect(objectCount(remoteDir)).toBe(everything);
    // The token went over the wire only: not printed, not in the repository's files.
    expect(r.stdout + r.stderr).not.toContain(TOKEN);
    expect(spawnSync('grep', ['-r', '-l', TOKEN, repo]).status).toBe(1);
    expect(await readFile(join(repo, 'config'), 'utf8')).not.toContain(TOKEN);
    expect(git(['--git-dir', repo, 'config', '--get', 'remote.origin.url']).trim()).toBe(server.url('data.git'));

    expect(showRef(remoteDir)).toBe(showRef(repo));
    expect(fsck(remoteDir)).toEqual({ code: 0, output: '' });
    const native = join(dir, 'native');
    git(['clone', '-q', remoteDir, native]);
    expect(git(['-C', native, 'rev-parse', 'HEAD', 'v1^{commit}'])).toBe(git(['--git-dir', repo, 'rev-parse', 'main', 'v1^{commit}']));
    expect(git(['-C', native, 'status', '--porcelain'])).toBe('');

    const target = await scratchDb('pushhttp_restore');
    const restore = await dbsnap(['restore', 'v1', '--repo', native, '--uri', uriWithDatabase(t.uri, target.dbName), '--yes', '--no-backup']);
    expect(restore.stderr).toBe('');
    expect(restore.code).toBe(0);
    expect(await rawState(target.db)).toEqual(await rawState(t.db));
  });

  it('a second push after a 0.1% change sends only the new objects, in one request', async () => {
    const changed = await mutateShop(t.db, { fraction: 0.001, seed: 7 });
    expect(Object.values(changed).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    const c = await commit({ repo, uri: t.dbUri, message: 'a few changes', ...FIXED, now: new Date('2025-01-03T00:00:00Z') });
    expect(c.committed).toBe(true);
    const expected = newObjects(repo, 'HEAD', 'HEAD~1');
    expect(expected).toBeGreaterThan(2);
    expect(expected).toBeLessThan(newObjects(repo, "HEAD") / 5);
    const before = objectCount(remoteDir);
    const posts = server.requests.filter((q) => q.method === 'POST').length;

    const r = await dbsnap(['push', '--repo', repo], { env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`: ${expected} objects, [\\d.]+ (B|KiB) \\(main\\)\\n$`));
    expect(objectCount(remoteDir) - before).toBe(expected);
    expect(server.requests.filter((q) => q.method === 'POST').length - posts).toBe(1);
    expect(fsck(remoteDir)).toEqual({ code: 0, output: '' });

    const again = await dbsnap(['push', '--repo', repo, '--json'], { env: env() });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ ok: true, remotes: [{ remote: 'origin', status: 'up-to-date', objects: 0 }] });
  });

  it('dbsnap clone of the HTTP remote restores identically, and keeps no token', async () => {
    const cloned = join(dir, 'cloned');
    const r = await dbsnap(['clone', server.url('data.git'), cloned], { env: env() });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Cloned http:\/\/127\.0\.0\.1:\d+\/data\.git into .*cloned: main at [0-9a-f]{7}, 1 tag\n$/);
    expect(git(['--git-dir', cloned, 'rev-parse', 'HEAD', 'v1'])).toBe(git(['--git-dir', repo, 'rev-parse', 'HEAD', 'v1']));
    expect(fsck(cloned)).toEqual({ code: 0, output: '' });
    expect(await readFile(join(cloned, 'config'), 'utf8')).not.toContain(TOKEN);

    const target = await scratchDb('pushhttp_clone');
    const restore = await dbsnap(['restore', 'HEAD', '--repo', cloned, '--uri', uriWithDatabase(t.uri, target.dbName), '--yes', '--no-backup']);
    expect(restore.code).toBe(0);
    expect(await rawState(target.db)).toEqual(await rawState(t.db));
    const verify = await dbsnap(['verify', 'v1', '--repo', cloned]);
    expect(verify.code).toBe(0);
  });

  it('wrong token, no token, remote down, not a repository: one line each, exit 2, local unchanged, other remotes still pushed', async () => {
    const nas = join(dir, 'nas.git');
    expect((await dbsnap(['remote', 'add', 'nas', nas, '--repo', repo])).code).toBe(0);
    const down = createServer();
    await new Promise<void>((resolve) => down.listen(0, '127.0.0.1', resolve));
    const downPort = (down.address() as AddressInfo).port;
    await new Promise((resolve) => down.close(resolve));
    expect((await dbsnap(['remote', 'add', 'down', `http://127.0.0.1:${downPort}/data.git`, '--repo', repo])).code).toBe(0);
    expect((await dbsnap(['remote', 'add', 'missing', server.url('missing.git'), '--repo', repo])).code).toBe(0);
    const junk = join(dir, 'junk');
    await mkdir(junk);
    await writeFile(join(junk, 'notes.txt'), 'not a repository\n');
    expect((await dbsnap(['remote', 'add', 'junk', junk, '--repo', repo])).code).toBe(0);
    const refsBefore = showRef(repo);
    const configBefore = await readFile(join(repo, 'config'), 'utf8');
    const remoteBefore = showRef(remoteDir);

    const wrong = await dbsnap(['push', 'origin', 'nas', '--repo', repo], { env: { DBSNAP_GIT_TOKEN: 'wrong-token' } });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/^error: origin  http:\/\/127\.0\.0\.1:\d+\/data\.git: http:\/\/\S+ refused the token from DBSNAP_GIT_TOKEN\/GIT_TOKEN \(HTTP 401\/403\); check that it is valid and has access to this repository\.\n$/);
    expect(wrong.stderr + wrong.stdout).not.toContain('wrong-token');
    expect(wrong.stdout).toMatch(/^nas     \S+nas\.git: \d+ objects, [\d.]+ (KiB|MiB) \(main \(new\), v1 \(new\)\)\n$/);
    expect(showRef(nas)).toBe(showRef(repo));
    expect(fsck(nas)).toEqual({ code: 0, output: '' });

    const none = await dbsnap(['push', 'origin', '--repo', repo]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^error: origin  \S+: \S+ asks for credentials and none are configured: set DBSNAP_GIT_TOKEN \(or GIT_TOKEN\)/);
    expect(none.stderr.split('\n').filter(Boolean)).toHaveLength(1);

    const others = await dbsnap(['push', 'down', 'missing', 'junk', 'nas', '--repo', repo], { env: env() });
    expect(others.code).toBe(2);
    const lines = others.stderr.split('\n').filter(Boolean);
    expect(lines).toEqual([
      expect.stringMatching(/^error: down +http:\/\/127\.0\.0\.1:\d+\/data\.git: cannot reach http:\/\/127\.0\.0\.1:\d+\/data\.git: connection refused\.$/),
      expect.stringMatching(/^error: missing +\S+: \S+missing\.git: no git repository there \(HTTP 404\)\. Create it on the server first/),
      expect.stringMatching(/^error: junk +\S+junk: \S+junk is not a git repository\. Use an empty or new directory, or an existing bare repository\.$/),
    ]);
    expect(others.stdout).toMatch(/^nas +\S+: up to date\n$/);

    expect(showRef(repo)).toBe(refsBefore);
    expect(await readFile(join(repo, 'config'), 'utf8')).toBe(configBefore);
    expect(showRef(remoteDir)).toBe(remoteBefore);
  });

  it('refuses a non-fast-forward with a clear message and changes nothing; --force overwrites', async () => {
    // Someone else pushes a commit to the remote that this repository does not have.
    const other = join(dir, 'other');
    git(['clone', '-q', remoteDir, other]);
    git(['-C', other, '-c', 'user.name=O', '-c', 'user.email=o@example.com', 'commit', '-q', '--allow-empty', '-m', 'elsewhere']);
    git(['-C', other, 'push', '-q', 'origin', 'main']);
    const theirs = showRef(remoteDir);
    await t.db.collection('users').updateOne({}, { $set: { note: 'local change' } });
    await commit({ repo, uri: t.dbUri, message: 'local', ...FIXED, now: new Date('2025-01-04T00:00:00Z') });
    const refsBefore = showRef(repo);

    const r = await dbsnap(['push', 'origin', '--repo', repo], { env: env() });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: origin +\S+: main on origin has commits this repository does not have \([0-9a-f]{7} is not an ancestor of [0-9a-f]{7}\): not a fast-forward, nothing was pushed there\. Run dbsnap pull origin first, or push --force to overwrite them\.\n$/);
    expect(showRef(remoteDir)).toBe(theirs);
    expect(showRef(repo)).toBe(refsBefore);

    const forced = await dbsnap(['push', 'origin', '--force', '--repo', repo], { env: env() });
    expect(forced.code).toBe(0);
    expect(forced.stdout).toMatch(/\(main \(forced\)\)\n$/);
    expect(showRef(remoteDir)).toBe(showRef(repo));
    expect(fsck(remoteDir)).toEqual({ code: 0, output: '' });
  });

  it('without a token, the git credential helper answers the server', async () => {
    const store = join(dir, 'credentials');
    const u = new URL(server.url('data.git'));
    await writeFile(store, `http://ci:${TOKEN}@${u.host}\n`, { mode: 0o600 });
    git(['--git-dir', repo, 'config', 'credential.helper', `store --file ${store}`]);
    try {
      const r = await dbsnap(['push', 'origin', '--repo', repo]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^origin  \S+: up to date\n$/);
      expect(r.stdout).not.toContain(TOKEN);
    } finally {
      git(['--git-dir', repo, 'config', '--unset', 'credential.helper']);
    }
    expect(await readFile(join(repo, 'config'), 'utf8')).not.toContain(TOKEN);
  });
});
