import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, utimes, writeFile, cp } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import * as realCore from '../../src/core/index.js';
import type { Core } from '../../src/cli/context.js';
import { log } from '../../src/index.js';
import { useTempRepository } from '../support/temp-repo.js';
import { cli } from './support.js';

const BIN = fileURLToPath(new URL('../../bin/dbsnap.js', import.meta.url));
const SEED = fileURLToPath(new URL('../fixtures/seed-backup/', import.meta.url));
const run = promisify(execFile);

async function dbsnap(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1', DBSNAP_KEY: '' } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

let dir = '';
let repo = '';
useTempRepository('cli-io', (r) => ({ dir, repo } = r));

describe('dbsnap import / export argv -> core call', () => {
  function recording() {
    const calls: Record<string, unknown>[] = [];
    const core = {
      ...realCore,
      importBackup: async (o: Record<string, unknown>) => (calls.push(o), { snapshots: [] }),
      exportSnapshot: async (o: Record<string, unknown>) => (calls.push(o), { commit: 'c'.repeat(40), format: o.format, database: 'shop', output: 'x', documents: 0, collections: [], notes: [] }),
    } as unknown as Core;
    return { core, calls };
  }
  it.each<[string[], Record<string, unknown>]>([
    [['import', 'dump/'], { paths: ['dump/'], asHistory: false, types: 'infer' }],
    [['import', 'a', 'b', '--as-history', '--types', 'keep', '--format', 'json', '--db', 'shop', '--exclude', 'x,y'], { paths: ['a', 'b'], asHistory: true, types: 'keep', format: 'json', db: 'shop', exclude: ['x', 'y'] }],
    [['import', 'a', '--date', '2025-08-21T10:00:00Z', '-m', 'old'], { date: new Date('2025-08-21T10:00:00Z'), message: 'old' }],
    [['export', 'v1', 'out'], { ref: 'v1', dir: 'out', format: 'mongodump', gzip: false, keepEncrypted: false, mask: false }],
    [['export', 'HEAD', '--archive', 'a.gz', '--gzip', '--collections', 'users'], { ref: 'HEAD', archive: 'a.gz', gzip: true, collections: ['users'] }],
    [['export', 'HEAD', 'out', '--format', 'json', '--keep-encrypted'], { format: 'json', keepEncrypted: true }],
  ])('dbsnap %j', async (argv, expected) => {
    const { core, calls } = recording();
    const r = await cli(argv, { core });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(calls[0]).toMatchObject({ repo: './backup-repo', ...expected });
  });

  it('rejects a bad --date and an unknown format before calling the core', async () => {
    const { core, calls } = recording();
    expect((await cli(['import', 'a', '--date', 'yesterday'], { core })).code).toBe(2);
    expect((await cli(['export', 'HEAD', 'out', '--format', 'csv'], { core })).code).toBe(2);
    expect(calls).toHaveLength(0);
  });
});

describe('dbsnap import / export, the built binary', () => {
  it('imports the seed folder printing the inferred types, and exports it again', async () => {
    const r = await dbsnap(['import', SEED, '--repo', repo, '--db', 'shop', '-m', 'Import the old backup folder']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\[[0-9a-f]{7}\] Import the old backup folder\n/);
    expect(r.stdout).toContain('   orders: 73 documents\n     _id: 73 values -> ObjectId\n');
    expect(r.stdout).toContain('     loyaltyPoints: 24 values -> Int64\n');
    const out = join(dir, 'dump');
    const e = await dbsnap(['export', 'HEAD', out, '--repo', repo, '--json']);
    expect(e.code).toBe(0);
    expect(JSON.parse(e.stdout)).toMatchObject({ format: 'mongodump', database: 'shop', documents: 120 });
    expect((await readdir(join(out, 'shop'))).sort()).toEqual([
      'orders.bson', 'orders.metadata.json', 'producers.bson', 'producers.metadata.json',
      'products.bson', 'products.metadata.json', 'users.bson', 'users.metadata.json',
    ]);
  });

  it('export to a path that is a file, or with a bad --format: one line naming it, no bug hint (#10 sweep)', async () => {
    expect((await dbsnap(['import', SEED, '--repo', repo, '--db', 'shop'])).code).toBe(0);
    const file = join(dir, 'taken.txt');
    await writeFile(file, 'mine\n');
    const r = await dbsnap(['export', 'HEAD', file, '--repo', repo]);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`error: cannot write ${file}/shop: a part of that path is a file, not a directory (ENOTDIR); the files written before it stay, each complete (none is half-written). Choose another path.\n`);
    const format = await dbsnap(['export', 'HEAD', join(dir, 'out'), '--format', 'bogus', '--repo', repo]);
    expect(format.code).toBe(2);
    // yargs' two-line message is one readable line, no escaped newline.
    expect(format.stderr).toMatch(/^error: Invalid values: Argument: format, Given: "bogus", Choices: "mongodump", "ejson", "json"\n/);
    expect(format.stderr).not.toContain('\\x0a');
  });

  it('export into a non-empty directory or onto an existing archive is refused (exit 2, nothing written) unless --force, which says what it replaced', async () => {
    expect((await dbsnap(['import', SEED, '--repo', repo, '--db', 'shop'])).code).toBe(0);
    const out = join(dir, 'used');
    await mkdir(join(out, 'shop'), { recursive: true });
    await writeFile(join(out, 'shop', 'stale.bson'), 'from another export');
    const r = await dbsnap(['export', 'HEAD', out, '--repo', repo]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`error: ${out} is not empty (1 entry: shop); nothing was written. Choose an empty or new directory, or pass --force to delete its contents and export into it.\n`);
    expect(await readdir(join(out, 'shop'))).toEqual(['stale.bson']);

    const f = await dbsnap(['export', 'HEAD', out, '--repo', repo, '--force']);
    expect(f.stderr).toBe('');
    expect(f.code).toBe(0);
    expect(f.stdout).toContain(`   note: --force: deleted the earlier contents of ${out} (1 entry: shop)\n`);
    expect((await readdir(join(out, 'shop'))).sort()).toEqual([
      'orders.bson', 'orders.metadata.json', 'producers.bson', 'producers.metadata.json',
      'products.bson', 'products.metadata.json', 'users.bson', 'users.metadata.json',
    ]);

    const archive = join(dir, 'shop.archive');
    await writeFile(archive, 'mine\n');
    const a = await dbsnap(['export', 'HEAD', '--archive', archive, '--repo', repo]);
    expect(a.code).toBe(2);
    expect(a.stderr).toBe(`error: ${archive} already exists; nothing was written. Choose a new file name, or pass --force to replace it.\n`);
    expect(await readFile(archive, 'utf8')).toBe('mine\n');
    const af = await dbsnap(['export', 'HEAD', '--archive', archive, '--repo', repo, '--force']);
    expect(af.code).toBe(0);
    expect(af.stdout).toContain(`   note: --force: replaced the existing file ${archive}\n`);
    expect((await readFile(archive)).readUInt32LE(0)).toBe(0x8199e26d); // the mongodump archive magic

    // --force never deletes a git repository (the snapshot repository itself, or a code work tree).
    const g = await dbsnap(['export', 'HEAD', repo, '--repo', repo, '--force']);
    expect(g.code).toBe(2);
    expect(g.stderr).toBe(`error: ${repo} holds a git repository; --force does not delete that. Nothing was written. Choose another directory.\n`);
    expect((await dbsnap(['log', '--repo', repo])).code).toBe(0);

    // An empty directory is fine without --force.
    const empty = join(dir, 'empty');
    await mkdir(empty);
    expect((await dbsnap(['export', 'HEAD', empty, '--repo', repo])).code).toBe(0);
  });

  it('bad input: exit 2, one line naming file and line, nothing committed', async () => {
    const bad = join(dir, 'bad');
    await mkdir(bad);
    await writeFile(join(bad, 'users.json'), '[{"_id": "68a72cf14b78eb31b9af9e45"}]');
    await writeFile(join(bad, 'orders.json'), '[\n{"_id": 1},\n{"_id": 2\n]');
    const r = await dbsnap(['import', bad, '--repo', repo]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: .*orders\.json: invalid JSON: expected ',' or '}' at line 4, column 1 \(byte offset \d+\); nothing was imported\.\n$/);
    expect((await log({ repo })).length).toBe(1);
  });

  it('--as-history: one commit per folder, oldest first, dated from the name or the files\' times', async () => {
    const series = join(dir, 'backups');
    for (const [name, users] of [['2025-08-03', 3], ['2025-08-01', 1], ['older', 2]] as const) {
      await mkdir(join(series, name), { recursive: true });
      const docs = Array.from({ length: users }, (_, i) => ({ _id: `68a72cf14b78eb31b9af9e4${i}`, n: i }));
      await writeFile(join(series, name, 'users.json'), JSON.stringify(docs));
    }
    const old = new Date('2025-07-15T08:00:00Z');
    await utimes(join(series, 'older', 'users.json'), old, old);
    const r = await dbsnap(['import', join(series, '2025-08-03'), join(series, 'older'), join(series, '2025-08-01'), '--as-history', '--repo', repo, '--json']);
    expect(r.code).toBe(0);
    const snaps = JSON.parse(r.stdout).snapshots as { date: string; dateSource: string; documents: number }[];
    expect(snaps.map((s) => [s.date, s.dateSource, s.documents])).toEqual([
      ['2025-07-15T08:00:00.000Z', 'files', 2],
      ['2025-08-01T00:00:00.000Z', 'name', 1],
      ['2025-08-03T00:00:00.000Z', 'name', 3],
    ]);
    const entries = await log({ repo });
    expect(entries.slice(0, 3).map((e) => e.date)).toEqual(['2025-08-03T00:00:00.000Z', '2025-08-01T00:00:00.000Z', '2025-07-15T08:00:00.000Z']);
    const d = await dbsnap(['diff', 'HEAD~1', 'HEAD', '--repo', repo, '--stat']);
    expect(d.stdout).toMatch(/users/);
  });

  it('export without the key of a snapshot with sensitive fields: exit 2, nothing written', async () => {
    await cp(SEED, join(dir, 'seed'), { recursive: true });
    await dbsnap(['config', 'sensitive.users', '["email"]', '--repo', repo]);
    const key = '0123456789abcdef'.repeat(4);
    const keyFile = join(dir, 'key');
    await writeFile(keyFile, key);
    expect((await dbsnap(['import', join(dir, 'seed'), '--repo', repo, '--key-file', keyFile])).code).toBe(0);
    const r = await dbsnap(['export', 'HEAD', join(dir, 'out'), '--repo', repo]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: the snapshot holds encrypted fields \(users\.email\); pass --key-file/);
    await expect(readdir(join(dir, 'out'))).rejects.toThrow();
    expect((await dbsnap(['export', 'HEAD', join(dir, 'out'), '--repo', repo, '--key-file', keyFile, '--mask'])).code).toBe(0);
  });
});
