/**
 * The package as npm users get it: `npm pack`, then an install of the tarball into an empty
 * project with every dependency nested (nothing hoisted), offline from the npm cache, then the
 * installed binary and library are used from that project.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase, type TestDatabase } from '../support/test-db.js';
import { nestedLockFor } from './nested-lock.js';

const run = promisify(execFile);
const ROOT = new URL('../..', import.meta.url).pathname;

interface PackResult {
  filename: string;
  files: { path: string }[];
}

let dir = '';
let project = '';
let packed: PackResult;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dbsnap-tarball-'));
  // dist/ is fresh: npm test builds first. --ignore-scripts skips prepack's second build.
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT });
  packed = (JSON.parse(stdout) as PackResult[])[0]!;
  project = join(dir, 'project');
  await mkdir(project);
  const { packageJson, lock } = nestedLockFor(JSON.parse(await readFile(join(ROOT, 'package-lock.json'), 'utf8')), `../${packed.filename}`);
  await writeFile(join(project, 'package.json'), JSON.stringify(packageJson, null, 2));
  await writeFile(join(project, 'package-lock.json'), JSON.stringify(lock, null, 2));
  await run('npm', ['ci', '--offline', '--install-strategy=nested', '--no-audit', '--no-fund'], { cwd: project });
}, 180_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function dbsnap(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(join(project, 'node_modules/.bin/dbsnap'), args, { cwd: project, env: { ...process.env, NO_COLOR: '1' } });
    return { code: 0, ...r };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('the packed tarball', () => {
  it('holds the built code, LICENSE and README, and no source maps without sources', () => {
    const files = packed.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['LICENSE', 'README.md', 'package.json', 'bin/dbsnap.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js']));
    const maps = files.filter((f) => f.endsWith('.map'));
    for (const m of maps) expect(files).toContain(m.replace(/^dist\//, 'src/').replace(/\.js\.map$|\.d\.ts\.map$/, '.ts'));
    expect(files.filter((f) => f.startsWith('test/') || f.startsWith('src/') && !maps.length)).toEqual([]);
  });

  it('has a README whose links stay inside the package (it is the npm page)', async () => {
    const files = packed.files.map((f) => f.path);
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const targets = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((t) => !/^(https?:|#|mailto:)/.test(t));
    expect(targets.length).toBeGreaterThan(0);
    expect(targets.filter((t) => !files.includes(t.split('#')[0]!))).toEqual([]);
  });

  it('declares every package its code imports (nested install: nothing is reachable by hoisting)', async () => {
    const installed = join(project, 'node_modules/dbsnap');
    const declared = Object.keys((JSON.parse(await readFile(join(installed, 'package.json'), 'utf8')) as { dependencies: object }).dependencies);
    const { stdout } = await run('grep', ['-rhoE', "from '[^.][^']*'|import\\('[^.][^']*'\\)", join(installed, 'dist')]);
    const imported = new Set(
      stdout
        .split('\n')
        .map((l) => /'([^']+)'/.exec(l)?.[1])
        // 'dbsnap' itself appears in the TSDoc examples.
        .filter((s): s is string => !!s && !s.startsWith('node:') && s !== 'dbsnap')
        .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!)),
    );
    expect([...imported].filter((p) => !declared.includes(p))).toEqual([]);
  });

  it('runs dbsnap --help and a commit from the installed package, and imports the library', async () => {
    const help = await dbsnap(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('dbsnap commit');

    let t: TestDatabase | undefined;
    try {
      t = await useTestDatabase('tarball');
      await t.db.collection('users').insertMany([{ _id: 1, name: 'Ada' }, { _id: 2, name: 'Grace' }]);
      const repo = join(dir, 'backup-repo');
      expect((await dbsnap(['init', '--repo', repo])).code).toBe(0);
      const c = await dbsnap(['commit', '--repo', repo, '--uri', t.dbUri, '-m', 'from the tarball']);
      expect(c.stderr).toBe('');
      expect(c.code).toBe(0);
      expect(c.stdout).toMatch(/^\[[0-9a-f]{7}\] from the tarball\n/);
      expect(c.stdout).toContain('users: 2 documents');

      const script = `import('dbsnap').then(async (m) => { const [e] = await m.log({ repo: ${JSON.stringify(repo)} }); console.log(e.documents, e.subject); })`;
      const lib = await run(process.execPath, ['-e', script], { cwd: project });
      expect(lib.stdout).toBe('2 from the tarball\n');
    } finally {
      await t?.drop();
    }
  });
});
