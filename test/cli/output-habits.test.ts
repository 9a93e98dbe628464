/**
 * Through the real binary: --json errors, --quiet on every command, progress on a terminal's
 * stderr even with stdout redirected, init's permissions in a fresh clone, test-server's URI.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commit, ERROR_CODES, init, isDbsnapError, status } from '../../src/index.js';
import * as errors from '../../src/errors/index.js';
import { loadShop } from '../support/shop.js';
import { useTestDatabase, type TestDatabase } from '../support/test-db.js';
import { BIN, dbsnapBinary } from './binary.js';

const FIXED = { author: { name: 'Test', email: 'test@example.com' }, now: new Date('2025-01-02T03:04:05Z') };
const ROOT = new URL('../..', import.meta.url).pathname;

let dir: string;
let repo: string;
let t: TestDatabase;
beforeAll(async () => {
  t = await useTestDatabase('cli_habits');
  await loadShop(t.db, { totalDocs: 200, seed: 3 });
  dir = await mkdtemp(join(tmpdir(), 'dbsnap-cli-habits-'));
  repo = join(dir, 'backup-repo');
  await init({ repo, ...FIXED });
  await commit({ repo, uri: t.dbUri, message: 'first', ...FIXED });
});
afterAll(async () => {
  await t?.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('--json errors', () => {
  it('prints {"error": {code, message}} on stdout with the stable code, and the message on stderr', async () => {
    const missing = await dbsnapBinary(['log', '--repo', join(dir, 'nowhere'), '--json']);
    expect(missing.code).toBe(2);
    const body = JSON.parse(missing.stdout) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('ENOREPO');
    expect(body.error.message).toContain('no dbsnap repository at');
    expect(missing.stderr).toBe(`error: ${body.error.message}\n`);

    const usage = await dbsnapBinary(['log', '--repo', repo, '--bogus', '--json']);
    expect(usage.code).toBe(2);
    expect(JSON.parse(usage.stdout)).toEqual({ error: { code: 'EINVALIDARG', message: 'Unknown argument: bogus' } });

    const badRef = await dbsnapBinary(['show', 'nope', '--repo', repo, '--json']);
    expect(JSON.parse(badRef.stdout).error.code).toBe('EREFNOTFOUND');

    // Without --json, stdout stays empty on errors.
    const plain = await dbsnapBinary(['show', 'nope', '--repo', repo]);
    expect(plain).toMatchObject({ code: 2, stdout: '' });
    expect(plain.stderr).toMatch(/^error: /);
  }, 300_000);

  it('a command the server refuses is EMONGO, for library callers and --json alike', async () => {
    const admin = t.client.db('admin');
    const fail = (times: number) =>
      admin.command({ configureFailPoint: 'failCommand', mode: { times }, data: { failCommands: ['listCollections'], errorCode: 8000, appName: 'dbsnap' } });
    try {
      await fail(1);
      const err = await status({ repo, uri: t.dbUri }).catch((e: unknown) => e);
      expect(isDbsnapError(err)).toBe(true);
      expect(err).toMatchObject({ code: 'EMONGO', data: { serverCode: 8000 } });
      expect((err as Error).message).toMatch(/^listing the collections of dbsnap_test_cli_habits_\w+ failed: /);
      expect((err as Error).cause).toBeInstanceOf(Error);

      await fail(1);
      const r = await dbsnapBinary(['status', '--repo', repo, '--uri', t.dbUri, '--json']);
      expect(r.code).toBe(2);
      expect(JSON.parse(r.stdout).error.code).toBe('EMONGO');
    } finally {
      await admin.command({ configureFailPoint: 'failCommand', mode: 'off' });
    }
  }, 300_000);

  it('exports every error code as a const list, each class has one, and the README lists them all', async () => {
    const classes = (Object.values(errors) as unknown[]).filter(
      (v): v is { code: string } => typeof v === 'function' && typeof (v as { code?: unknown }).code === 'string',
    );
    expect(classes.length).toBeGreaterThan(15);
    expect(new Set(classes.map((c) => c.code))).toEqual(new Set(ERROR_CODES));
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    for (const code of ERROR_CODES) expect(readme).toContain(`\`${code}\``);
  }, 300_000);
});

describe('--quiet', () => {
  it('prints nothing but errors on every command', async () => {
    const common = ['--repo', repo, '--quiet'];
    const check = (name: string, r: { code: number; stdout: string; stderr: string }) =>
      expect({ name, code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({ name, code: 0, stdout: '', stderr: '' });
    const reads: [string, string[]][] = [
      ['log', ['log']],
      ['show', ['show']],
      ['verify', ['verify']],
      ['tag --list', ['tag', '--list']],
      ['config print', ['config']],
      ['config key', ['config', 'exclude']],
      ['relations', ['relations']],
      ['status', ['status', '--uri', t.dbUri]],
      ['diff', ['diff', '--uri', t.dbUri]],
      ['init', ['init']],
    ];
    const results = await Promise.all(reads.map(([, args]) => dbsnapBinary([...args, ...common])));
    reads.forEach(([name], i) => check(name, results[i]!));
    // Commands that write take the repository lock: one at a time.
    check('tag', await dbsnapBinary(['tag', 'q1', ...common]));
    check('commit', await dbsnapBinary(['commit', '--uri', t.dbUri, '--allow-empty', '-m', 'quiet', ...common]));
    // Errors still print.
    const r = await dbsnapBinary(['show', 'nope', ...common]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: /);
  }, 300_000);
});

describe('progress', () => {
  it('goes to stderr when stderr is a terminal, even with stdout redirected to a file', async () => {
    const out = join(dir, 'commit.txt');
    // script(1) gives the command a terminal; inside it, stdout goes to a file and stderr stays on the terminal.
    const cmd = `${process.execPath} ${BIN} commit --repo ${repo} --uri '${t.dbUri}' --allow-empty -m progress > ${out}`;
    const terminal = await new Promise<string>((resolve, reject) => {
      execFile('script', ['-qec', cmd, '/dev/null'], { env: { ...process.env, NO_COLOR: '1', MONGODB_URI: '' } }, (err, stdout) =>
        err ? reject(err) : resolve(stdout),
      );
    });
    expect(terminal).toMatch(/read\s+users\s+\[[█░]+\] \d+\/\d+/);
    const text = await readFile(out, 'utf8');
    expect(text).toMatch(/^\[[0-9a-f]{7}\] progress\n/);
    expect(text).not.toContain('█');
  }, 300_000);
});

describe('init in a fresh clone', () => {
  it('makes a tracked backup-repo/ (0755, with a README) owner-only; verify then has no warning', async () => {
    const clone = join(dir, 'clone');
    await mkdir(join(clone, 'backup-repo'), { recursive: true });
    await chmod(join(clone, 'backup-repo'), 0o755);
    await writeFile(join(clone, 'backup-repo', 'README.md'), '# backup-repo\n', { mode: 0o644 });
    const r = await dbsnapBinary(['init'], { cwd: clone });
    expect(r.code).toBe(0);
    expect((await stat(join(clone, 'backup-repo'))).mode & 0o777).toBe(0o700);
    expect((await dbsnapBinary(['commit', '--uri', t.dbUri], { cwd: clone })).code).toBe(0);
    const v = await dbsnapBinary(['verify'], { cwd: clone });
    expect(v.stderr).toBe('');
    expect(v.code).toBe(0);
  }, 300_000);
});

describe('npm run test-server', () => {
  it('prints a URI that works as printed, with the database when --shop loads one', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'node_modules/tsx/dist/cli.mjs'), join(ROOT, 'scripts/test-server.ts'), '--shop', '40'], {
      env: { ...process.env, DBSNAP_TEST_SERVER: 'wire' },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    try {
      const line = await new Promise<string>((resolve, reject) => {
        let buf = '';
        child.stdout.on('data', (d: Buffer) => {
          buf += d.toString();
          const m = /MONGODB_URI=(\S+)\n/.exec(buf);
          if (m) resolve(m[1]!);
        });
        child.on('exit', () => reject(new Error(`test-server exited: ${buf}`)));
      });
      expect(line).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+\/shop$/);
      const repo2 = join(dir, 'shop-repo');
      expect((await dbsnapBinary(['init', '--repo', repo2])).code).toBe(0);
      const c = await dbsnapBinary(['commit', '--repo', repo2], { env: { MONGODB_URI: line } });
      expect(c.stderr).toBe('');
      expect(c.stdout).toMatch(/ users: \d+ documents/);
    } finally {
      child.kill('SIGTERM');
    }
  }, 300_000);
});
