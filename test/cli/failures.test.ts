/**
 * Failure paths of the real binary: each message is one line that says what is true and what to
 * do, never a stack trace or a credential, and nothing is left behind (issue #10).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { commit, init, restore, updateConfig } from '../../src/index.js';
import { protectedHostsIn, redactText, redactUri } from '../../src/mongo/uri.js';
import type { TestDatabase } from '../support/test-db.js';
import { FIXED, useRepositoryAndDatabase } from '../support/temp-repo.js';
import { BIN, cli, dbsnap } from './support.js';

let dir = '';
let repo = '';
let t: TestDatabase;

useRepositoryAndDatabase('failures', async (s) => {
  ({ dir, repo, t } = s);
  await t.db.collection('users').insertMany([{ _id: 1, name: 'a' }, { _id: 2, name: 'b' }]);
  await t.db.collection('orders').insertMany([{ _id: 1, user: 1 }]);
  await commit({ repo, uri: t.dbUri, message: 'first', ...FIXED });
  await commit({ repo, uri: t.dbUri, message: 'second', allowEmpty: true, ...FIXED });
});

/** stderr is exactly one `error: ...` line. */
function expectOneErrorLine(stderr: string): void {
  expect(stderr).toMatch(/^error: [^\n]+\n$/);
  expect(stderr).not.toMatch(/\n\s+at /);
}

describe('defect 4: no password in any message', () => {
  const PASSWORD = 'Sup3rS3cret';
  // [what, argv, env, through the real binary (slower) or in-process]
  const cases: [string, string[], NodeJS.ProcessEnv, boolean][] = [
    ['misspelt scheme', ['commit', '--uri', `mongdb://admin:${PASSWORD}@host/db`], {}, true],
    ['leading space', ['commit', '--uri', ` mongodb://admin:${PASSWORD}@host/db`], {}, false],
    ['MONGODB_URI with --json', ['commit', '--json'], { MONGODB_URI: `mongdb://admin:${PASSWORD}@host/db` }, true],
    ['--debug (message and stack)', ['commit', '--debug', '--uri', `mongdb://admin:${PASSWORD}@host/db`], {}, false],
    ['unescaped @ in the password', ['commit', '--uri', `mongodb://admin:${PASSWORD}@x@127.0.0.1:1/db`], {}, false],
    ['unescaped @ with --debug', ['status', '--debug', '--uri', `mongodb://admin:p@${PASSWORD}@127.0.0.1:1/db`], {}, true],
    ['no scheme at all', ['commit', '--uri', `admin:${PASSWORD}@host/db`], {}, false],
    ['--uri=', [`--uri=mongodb://admin:${PASSWORD}@h:1,/db`, 'commit'], {}, false],
  ];
  it.each(cases)('%s', async (_what, argv, env, binary) => {
    const r = binary ? await dbsnap(['--repo', repo, ...argv], { env }) : await cli(['--repo', repo, ...argv], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: /);
    expect(r.stderr + r.stdout).not.toContain(PASSWORD);
    expect(r.stderr + r.stdout).not.toContain(encodeURIComponent(PASSWORD));
  });

  it('one redaction handles what the old pattern missed', () => {
    expect(redactUri(' mongodb://u:pw@h/db')).toBe(' mongodb://<credentials>@h/db');
    expect(redactUri('mongdb://u:pw@h/db')).toBe('mongdb://<credentials>@h/db');
    expect(redactUri('mongodb://u:p@w@h/db')).toBe('mongodb://<credentials>@h/db');
    expect(redactUri('mongodb://u:p/w?x@h/db')).toBe('mongodb://<credentials>@h/db');
    expect(redactUri('u:pw@h/db')).toBe('<credentials>@h/db');
    expect(redactText('failed: "mongodb+srv://u:pw@x.net/db" and MONGODB://a:b@c')).toBe('failed: "mongodb+srv://<credentials>@x.net/db" and MONGODB://<credentials>@c');
    // A driver message that quotes only the decoded password.
    expect(redactText('auth as admin with p@ss!word failed', 'mongodb://admin:p%40ss!word@h/db')).toBe('auth as admin with <redacted> failed');
    expect(redactText('at file:///x/node_modules/@scope/p/i.js:1:2')).toBe('at file:///x/node_modules/@scope/p/i.js:1:2');
  });
});

describe('defect 6: protectedHosts normalises host names', () => {
  it.each([
    ['mongodb://u:pw@db.example.net./shop', ['db.example.net'], ['db.example.net']],
    ['mongodb+srv://u:pw@x.net./shop', ['x.net'], ['x.net']],
    ['mongodb://DB.Example.NET:27017/shop', ['db.example.net.'], ['db.example.net']],
    ['mongodb://[0:0::1]:27017/shop', ['::1'], ['::1']],
    ['mongodb://[::1]/shop', ['[::1]:27017'], ['::1']],
    ['mongodb://a.example.net.:27018/shop', ['*.EXAMPLE.net'], ['a.example.net']],
    ['mongodb://a.example.net:27018/shop', ['a.example.net:27017'], []],
    ['mongodb://other.net/shop', ['example.net', '*.example.net'], []],
  ])('%s against %j', (uri, patterns, hits) => {
    expect(protectedHostsIn(uri, patterns)).toEqual(hits);
  });

  it('restore into db.example.net. refuses when db.example.net is protected', async () => {
    const r2 = join(dir, 'protected-repo');
    await init({ repo: r2, ...FIXED });
    await commit({ repo: r2, uri: t.dbUri, ...FIXED });
    await updateConfig({ repo: r2, change: (c) => ({ ...c, protectedHosts: ['db.example.net', 'x.net'] }), message: 'protect', ...FIXED });
    for (const uri of ['mongodb://db.example.net./shop', 'mongodb://DB.EXAMPLE.NET.:27017/shop', 'mongodb+srv://u:pw@x.net./shop']) {
      await expect(restore({ repo: r2, ref: 'HEAD', uri, confirm: async () => true, ...FIXED }), uri).rejects.toMatchObject({ code: 'EPROTECTED' });
    }
  });
});

describe('defect 7: an empty --collections is an error', () => {
  it.each([
    ['commit', "''", ['commit', '--collections', ''], true],
    ['commit', ',', ['commit', '--collections', ','], false],
    ['commit --exclude', ',', ['commit', '--exclude', ' , '], false],
    ['restore', "''", ['restore', 'HEAD', '--yes', '--collections', ''], false],
    ['restore', ',', ['restore', 'HEAD', '--yes', '--collections', ','], true],
    ['diff', ',', ['diff', '--collections', ','], false],
  ])('%s --collections %s', async (_c, _v, argv, binary) => {
    const before = await t.db.collection('users').countDocuments();
    const all = ['--repo', repo, '--uri', t.dbUri, ...argv];
    const r = binary ? await dbsnap(all) : await cli(all);
    expect(r.code).toBe(2);
    expectOneErrorLine(r.stderr);
    expect(r.stderr).toMatch(/names nothing/);
    expect(await t.db.collection('users').countDocuments()).toBe(before);
  });

  it('the library refuses an empty list too', async () => {
    await expect(commit({ repo, uri: t.dbUri, collections: [], ...FIXED })).rejects.toMatchObject({ code: 'EINVALIDARG' });
    await expect(restore({ repo, ref: 'HEAD', uri: t.dbUri, collections: [''], confirm: async () => true })).rejects.toMatchObject({ code: 'EINVALIDARG' });
  });
});

describe('defect 8: a URI the driver chokes on', () => {
  it.each(['mongodb://h:1,/db', 'mongodb://,h/db', 'mongodb://h:99999/db', 'mongodb://h:abc/db'])('%s: one line, exit 2, no lock left', async (uri) => {
    const argv = ['--repo', repo, 'commit', '--uri', uri];
    const r = uri === 'mongodb://h:1,/db' ? await dbsnap(argv, { timeoutMs: 20_000 }) : await cli(argv);
    expect(r.code).toBe(2);
    expectOneErrorLine(r.stderr);
    expect(r.stderr).toContain('not a MongoDB connection string');
    expect(existsSync(join(repo, 'dbsnap.lock'))).toBe(false);
  });

  it('an exception nobody awaits still exits 2 with one line and releases the lock', async () => {
    // A stand-in for a driver that throws from an event handler: once the real commit holds the
    // lock (waiting for a server that is not there), something throws where nobody awaits it.
    const script = join(dir, 'crash.mjs');
    const main = new URL('../../dist/cli/main.js', import.meta.url).href;
    const lock = join(repo, 'dbsnap.lock');
    await writeFile(
      script,
      `import { existsSync } from 'node:fs';\n` +
        `const poll = setInterval(() => { if (existsSync(${JSON.stringify(lock)})) { clearInterval(poll); throw new Error('boom from mongodb://u:Sup3rS3cret@h/db'); } }, 5);\n` +
        `process.argv.splice(2, Infinity, 'commit', '--repo', ${JSON.stringify(repo)}, '--uri', 'mongodb://127.0.0.1:1/db?serverSelectionTimeoutMS=30000');\n` +
        `await import(${JSON.stringify(main)});\n`,
    );
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
    expect(code).toBe(2);
    expect(stderr).toBe('error: boom from mongodb://<credentials>@h/db\n');
    expect(existsSync(join(repo, 'dbsnap.lock'))).toBe(false);
  });
});

describe('defect 9: a closed stdout', () => {
  it('dbsnap log into a reader that has gone: exit 0, nothing on stderr', async () => {
    {
      const child = spawn(process.execPath, [BIN, 'log', '--repo', repo], { stdio: ['ignore', 'pipe', 'pipe'] });
      // The reader closes before dbsnap writes anything: every write hits EPIPE.
      child.stdout.destroy();
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d));
      const code = await new Promise<number | null>((res) => child.on('close', (c) => res(c)));
      expect(stderr).toBe('');
      expect(code).toBe(0);
    }
  });
});

describe('defect 11: init refuses a directory that is not empty', () => {
  it('refuses a directory of other files and a code work tree, changing nothing', async () => {
    const mine = join(dir, 'project');
    await mkdir(join(mine, '.git'), { recursive: true });
    await writeFile(join(mine, 'index.js'), 'x');
    const r = await dbsnap(['init', '--repo', mine]);
    expect(r.code).toBe(2);
    expectOneErrorLine(r.stderr);
    expect(r.stderr).toContain('is a git work tree and not a dbsnap repository (it holds .git, index.js); nothing was created');
    expect((await readdir(mine)).sort()).toEqual(['.git', 'index.js']);
    await expect(init({ repo: join(mine, 'index.js') })).rejects.toMatchObject({ code: 'ENOTDBSNAP', data: { reason: 'file' } });
  });

  it('still accepts a new directory, an empty one, one holding only a README, and its own repository', async () => {
    const readmeOnly = join(dir, 'with-readme');
    await mkdir(readmeOnly);
    await writeFile(join(readmeOnly, 'README.md'), '# backups\n');
    await mkdir(join(dir, 'empty'));
    for (const d of [join(dir, 'new', 'nested'), join(dir, 'empty'), readmeOnly]) {
      expect((await init({ repo: d, ...FIXED })).created).toBe(true);
      expect((await init({ repo: d, ...FIXED })).created).toBe(false);
    }
  });
});

describe('rough edges: arguments that used to be accepted or misreported', () => {
  it.each([['-1'], ['abc'], ['1.5']])('log -n %s is refused', async (n) => {
    const r = await cli(['log', '--repo', repo, '-n', n]);
    expect(r.code).toBe(2);
    expectOneErrorLine(r.stderr);
    expect(r.stderr).toContain('-n takes a whole number');
  });

  it.each(['HEAD', 'refs/tags/x', 'heads/x', 'main', 'a'.repeat(40)])('tag %s is refused', async (name) => {
    const r = await cli(['tag', name, '--repo', repo]);
    expect(r.code).toBe(2);
    expectOneErrorLine(r.stderr);
    expect(r.stderr).toContain(`invalid tag name "${name}"`);
  });

  it('diff --collections nosuch and status --db nosuch are errors, not "no differences" / "all dropped"', async () => {
    const d = await dbsnap(['diff', '--repo', repo, '--uri', t.dbUri, '--collections', 'nosuch']);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/^error: no collection "nosuch" in HEAD or /);
    const d2 = await cli(['diff', 'HEAD~1', 'HEAD', '--repo', repo, '--collections', 'users,nosuch']);
    expect(d2.code).toBe(2);
    expect(d2.stderr).toBe('error: no collection "nosuch" in HEAD~1 or HEAD; check the names given to --collections.\n');
    const s = await cli(['status', '--repo', repo, '--uri', t.dbUri, '--db', 'dbsnap_no_such_db']);
    expect(s.code).toBe(2);
    expect(s.stderr).toMatch(/^error: database "dbsnap_no_such_db" does not exist on /);
  });

  it('an option missing its values (log --doc COLLECTION without the ID) is a usage error, not "a bug in dbsnap" (#10 sweep)', async () => {
    const r = await dbsnap(['log', '--repo', repo, '--doc', 'users']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: Not enough arguments following: doc\n');
    const json = await dbsnap(['log', '--repo', repo, '--doc', 'users', '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout).error.code).toBe('EINVALIDARG');
  });

  it('--repo pointing at a file says so', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'x');
    const r = await cli(['log', '--repo', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error: ${file} is a file, not a dbsnap repository; point --repo (or DBSNAP_REPO) at the repository directory.\n`);
  });
});
