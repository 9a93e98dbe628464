import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as os from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BSON } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commit, init } from '../../src/index.js';
import { loadShop, mutateShop } from '../support/shop.js';
import { useTestDatabase, uriWithDatabase, type TestDatabase } from '../support/test-db.js';

const BIN = new URL('../../bin/dbsnap.js', import.meta.url).pathname;
const NATIVE_GIT = !process.env.DBSNAP_TEST_NO_NATIVE_GIT && fs.existsSync('/usr/bin/git') ? '/usr/bin/git' : null;
const GIT_ENV = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', HOME: os.tmpdir() };
const FIXED = { author: { name: 'Test', email: 'test@example.com' }, now: new Date('2025-01-02T03:04:05Z') };
const run = promisify(execFile);

/** Runs the built binary; resolves with the exit code and output (never rejects on exit != 0). */
async function dbsnap(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1' }, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** Every document of every collection of a database, as BSON bytes in _id order. */
async function dump(t: TestDatabase, dbName: string): Promise<Record<string, string[]>> {
  const db = t.client.db(dbName);
  const out: Record<string, string[]> = {};
  for (const { name } of await db.listCollections().toArray()) {
    const docs = await db.collection(name).find({}, { sort: { _id: 1 } }).toArray();
    out[name] = docs.map((d) => Buffer.from(BSON.serialize(d)).toString('base64'));
  }
  return out;
}

let t: TestDatabase;
let dir = '';
let packed = '';
let loose = '';
beforeAll(async () => {
  t = await useTestDatabase('cli_gc');
  await loadShop(t.db, { totalDocs: 600, seed: 4 });
  dir = await mkdtemp(join(tmpdir(), 'dbsnap-cli-gc-'));
  packed = join(dir, 'packed');
  await init({ repo: packed, ...FIXED });
  await commit({ repo: packed, uri: t.dbUri, message: 'first', ...FIXED });
  await mutateShop(t.db, { fraction: 0.02, seed: 4 });
  await commit({ repo: packed, uri: t.dbUri, message: 'second', ...FIXED });
  loose = join(dir, 'loose');
  await cp(packed, loose, { recursive: true });
});
afterAll(async () => {
  await t.drop();
  await rm(dir, { recursive: true, force: true });
});

describe('dbsnap gc (built binary)', () => {
  it('packs the repository, and a second run has nothing to do', async () => {
    const r = await dbsnap(['gc', '--repo', packed]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Packed (\d+) loose objects \((\d+) as deltas\) into pack-[0-9a-f]{40}: \1 objects, verified\nobjects\/ [\d.]+ KB -> [\d.]+ KB\n$/);
    const deltas = Number(/\((\d+) as deltas\)/.exec(r.stdout)![1]);
    expect(deltas).toBeGreaterThan(0);
    expect((await readdir(join(packed, 'objects'))).sort()).toEqual(['info', 'pack']);

    const again = await dbsnap(['gc', '--repo', packed, '--json']);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ packed: false, looseObjects: 0, deltas: 0 });
  }, 120_000);

  it('with nothing to pack, a damaged pack is named (exit 2), not reported as "Nothing to pack"', async () => {
    const damaged = join(dir, 'damaged');
    await cp(packed, damaged, { recursive: true });
    const packDir = join(damaged, 'objects', 'pack');
    const name = (await readdir(packDir)).find((f) => f.endsWith('.pack'))!;
    const clean = await dbsnap(['gc', '--repo', damaged]);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/^Nothing to pack: \d+ objects already in pack-[0-9a-f]{40}; its entries match their index CRCs \(objects\/ [\d.]+ KB\)\n$/);
    const bytes = await readFile(join(packDir, name));
    const at = Math.floor(bytes.length / 2);
    bytes[at] = bytes[at]! ^ 0xff;
    await writeFile(join(packDir, name), bytes);
    const r = await dbsnap(['gc', '--repo', damaged]);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^error: gc: pack \\S*${name.replace('.', '\\.')} is damaged \\(object [0-9a-f]{40} at offset \\d+ fails its CRC\\)\\. Run \`git fsck\` and restore the pack from a copy or a remote\\.\\n$`));
    expect(r.stdout + r.stderr).not.toContain('Nothing to pack');
  }, 120_000);

  it.skipIf(!NATIVE_GIT)('leaves a repository native git checks clean and clones', async () => {
    expect(execFileSync(NATIVE_GIT!, ['--git-dir', packed, 'fsck', '--full', '--strict'], { encoding: 'utf8', env: GIT_ENV, stdio: 'pipe' })).toBe('');
    const clone = join(dir, 'clone');
    execFileSync(NATIVE_GIT!, ['clone', '--quiet', packed, clone], { env: GIT_ENV, stdio: 'pipe' });
    expect(execFileSync(NATIVE_GIT!, ['-C', clone, 'status', '--porcelain'], { encoding: 'utf8', env: GIT_ENV })).toBe('');
    // dbsnap reads the clone (native git's own pack) as well.
    const v = await dbsnap(['verify', 'HEAD~1', '--repo', clone]);
    expect(v.code).toBe(0);
  }, 120_000);

  it('verify, diff, log and restore read the packed repository exactly as the loose one', async () => {
    for (const args of [['verify', 'HEAD', '--json'], ['diff', 'HEAD~1', 'HEAD', '--json'], ['log']]) {
      const a = await dbsnap([...args, '--repo', packed]);
      const b = await dbsnap([...args, '--repo', loose]);
      expect(a.code, args.join(' ')).toBe(0);
      expect(a.stdout, args.join(' ')).toBe(b.stdout);
    }
    const fromPacked = `${t.dbName}_rp`;
    const fromLoose = `${t.dbName}_rl`;
    try {
      for (const [repo, db] of [[packed, fromPacked], [loose, fromLoose]] as const) {
        const r = await dbsnap(['restore', 'HEAD~1', '--repo', repo, '--uri', uriWithDatabase(t.uri, db), '--yes', '--no-backup']);
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
      }
      const a = await dump(t, fromPacked);
      expect(Object.keys(a).sort()).toEqual(['orders', 'producers', 'products', 'users']);
      expect(Object.values(a).reduce((n, docs) => n + docs.length, 0)).toBe(600);
      expect(a).toEqual(await dump(t, fromLoose));
    } finally {
      await t.client.db(fromPacked).dropDatabase();
      await t.client.db(fromLoose).dropDatabase();
    }
  }, 300_000);
});
