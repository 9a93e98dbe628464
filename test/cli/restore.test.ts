import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Db } from 'mongodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as realCore from '../../src/core/index.js';
import type { Core } from '../../src/cli/context.js';
import type { CliIO } from '../../src/cli/io.js';
import { runCli } from '../../src/cli/run.js';
import { commit, init } from '../../src/index.js';
import { updateConfig } from '../../src/core/config.js';
import { SnapshotRepository } from '../../src/store/index.js';
import { useTestDatabase, type TestDatabase } from '../support/test-db.js';
import { loadShop } from '../support/shop.js';
import { cli } from './support.js';

const FIXED = { author: { name: 'Test', email: 'test@example.com' }, now: new Date('2025-01-02T03:04:05Z') };
const URI = 'mongodb://localhost:27017/shop';

describe('dbsnap restore argv -> core call', () => {
  function recordingCore() {
    const calls: Record<string, unknown>[] = [];
    const core = {
      ...realCore,
      restore: async (opts: Record<string, unknown>) => {
        calls.push(opts);
        return {
          ref: 'v1', commit: 'c'.repeat(40), database: 'shop', target: URI, mode: 'replace', dryRun: false,
          plan: { ref: 'v1', commit: 'c'.repeat(40), database: 'shop', mode: 'replace', collections: [], views: [], dropped: [], affected: [], untouched: [], unsupported: [], warnings: [], documents: 0 },
          cleanedUp: [], restored: [], verified: { collections: 0, documents: 0 }, summary: 'verified: 0 collections, 0 documents identical to v1',
          dangling: [], warnings: [], durationMs: 1,
        };
      },
    } as unknown as Core;
    return { core, calls };
  }

  it.each<[string[], Record<string, unknown>]>([
    [['restore', 'v1', '--uri', URI, '--yes'], { ref: 'v1', uri: URI, mode: 'replace', dryRun: false, backup: true, force: false, mask: false, confirm: undefined }],
    [['restore', 'HEAD~1', '--uri', URI, '--db', 'other', '--collections', 'a,b', '--mode', 'merge', '-y'], { ref: 'HEAD~1', db: 'other', collections: ['a', 'b'], mode: 'merge' }],
    [['restore', 'v1', '--uri', URI, '--dry-run', '--no-backup', '--force', '--mask', '--yes'], { dryRun: true, backup: false, force: true, mask: true }],
  ])('dbsnap %j', async (argv, expected) => {
    const { core, calls } = recordingCore();
    const r = await cli(argv, { core, env: { DBSNAP_KEY: 'k'.repeat(64) } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ repo: './backup-repo', key: { text: 'k'.repeat(64), source: 'DBSNAP_KEY' }, ...expected });
    expect(r.stdout).toBe('verified: 0 collections, 0 documents identical to v1\n');
  });

  it('passes a confirmation callback unless --yes', async () => {
    const { core, calls } = recordingCore();
    await cli(['restore', 'v1', '--uri', URI], { core });
    expect(typeof calls[0]!.confirm).toBe('function');
  });

  it('rejects an unknown mode', async () => {
    const { core, calls } = recordingCore();
    const r = await cli(['restore', 'v1', '--uri', URI, '--mode', 'overwrite'], { core });
    expect(r.code).toBe(2);
    expect(calls).toHaveLength(0);
  });
});

describe('dbsnap restore against a server', () => {
  let dir: string;
  let repo: string;
  let t: TestDatabase;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dbsnap-cli-restore-'));
    repo = join(dir, 'backup-repo');
    await init({ repo, ...FIXED });
    t = await useTestDatabase('clirestore');
    await loadShop(t.db, { totalDocs: 120, seed: 3 });
    await commit({ repo, uri: t.dbUri, ...FIXED });
    await t.db.collection('users').deleteMany({});
    await t.db.collection('orders').updateMany({}, { $set: { status: 'lost' } });
  });
  afterEach(async () => {
    await t.drop();
    await rm(dir, { recursive: true, force: true });
  });

  async function state(db: Db): Promise<string> {
    const out: string[] = [];
    for (const name of ['users', 'producers', 'products', 'orders']) {
      const docs = (await db.collection(name).find({}, { raw: true, sort: { _id: 1 } }).toArray()) as unknown as Uint8Array[];
      out.push(`${name}:${docs.map((d) => Buffer.from(d).toString('hex')).join(',')}`);
    }
    return out.join('\n');
  }
  const refs = async () => JSON.stringify(await (await SnapshotRepository.open(repo)).listRefs('refs/'));
  const run = (argv: string[], io: Partial<CliIO> = {}) => {
    let stdout = '';
    let stderr = '';
    return runCli(argv, { stdout: (s) => (stdout += s), stderr: (s) => (stderr += s), env: {}, isTTY: false, ...io }).then((code) => ({ code, stdout, stderr }));
  };

  it('without a terminal and without --yes refuses with ECONFIRM before touching anything', async () => {
    const before = await state(t.db);
    const refsBefore = await refs();
    const r = await run(['restore', 'HEAD', '--repo', repo, '--uri', t.dbUri]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: restore would replace orders, producers, products, users in dbsnap_test_clirestore_\w+ and there is no terminal to ask on; pass --yes/);
    expect(await state(t.db)).toBe(before);
    expect(await refs()).toBe(refsBefore);
  });

  it('on a terminal asks; "no" changes nothing, "yes" restores and prints the safety ref and the verified line', async () => {
    const before = await state(t.db);
    const refsBefore = await refs();
    const questions: string[] = [];
    const no = await run(['restore', 'HEAD', '--repo', repo, '--uri', t.dbUri], { confirm: async (q) => (questions.push(q), false) });
    expect(no.code).toBe(2);
    expect(no.stderr).toContain('replace users: 24 documents, 1 index (now 0)');
    expect(no.stderr).toContain('was not confirmed; nothing was changed');
    expect(questions).toEqual([`Replace 4 collections in ${t.dbName}?`]);
    expect(await state(t.db)).toBe(before);
    expect(await refs()).toBe(refsBefore);

    const yes = await run(['restore', 'HEAD', '--repo', repo, '--uri', t.dbUri], { confirm: async () => true });
    expect(yes.stderr).not.toContain('error');
    expect(yes.code).toBe(0);
    const lines = yes.stdout.trimEnd().split('\n');
    const safety = /^safety snapshot: (refs\/dbsnap\/safety\/\S+) \(restore it with: dbsnap restore \1 --db (\S+)\)$/.exec(lines[0]!);
    expect(safety?.[2]).toBe(t.dbName);
    expect(lines.at(-1)).toBe('verified: 4 collections, 120 documents identical to HEAD');
    const restored = await state(t.db);
    expect(restored).not.toBe(before);

    // The printed command brings the replaced state back.
    const back = await run(['restore', safety![1]!, '--repo', repo, '--uri', t.dbUri, '--db', t.dbName, '--yes', '--no-backup']);
    expect(back.code).toBe(0);
    expect(back.stdout.trimEnd().split('\n').at(-1)).toBe(`verified: 4 collections, ${120 - 24} documents identical to ${safety![1]}`);
    expect(await state(t.db)).toBe(before);
  });

  it('--dry-run prints the plan, --json the result, and partial restores warn about dangling references', async () => {
    const before = await state(t.db);
    const dry = await run(['restore', 'HEAD', '--repo', repo, '--uri', t.dbUri, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('  replace orders: 73 documents, 1 index (now 73)');
    expect(dry.stdout).toContain('drops: orders (73 documents), producers (2 documents), products (21 documents), users (0 documents)');
    expect(dry.stdout.endsWith('dry run: nothing was changed\n')).toBe(true);
    expect(await state(t.db)).toBe(before);

    await updateConfig({ repo, change: (c) => ({ ...c, relations: [{ from: 'orders.userId', to: 'users._id' }] }), message: 'relations', ...FIXED });
    const json = await run(['restore', 'HEAD', '--repo', repo, '--uri', t.dbUri, '--collections', 'orders', '--yes', '--json']);
    expect(json.code).toBe(0);
    const result = JSON.parse(json.stdout);
    expect(result.summary).toBe('verified: 1 collection, 73 documents identical to HEAD');
    expect(result.dangling).toEqual([{ relation: 'orders.userId -> users._id', from: 'orders.userId', to: 'users._id', dangling: 73, examples: expect.any(Array) }]);
    expect(result.dangling[0].examples).toHaveLength(5);

    const text = await run(['restore', 'HEAD', '--repo', repo, '--uri', t.dbUri, '--collections', 'orders', '--yes', '--no-backup']);
    expect(text.stderr).toMatch(/^warning: orders\.userId -> users\._id: 73 restored documents point at nothing in \S+ \(e\.g\. _id [0-9a-f]{24}, /);
    expect(text.stdout).toBe('  replace orders: 73 documents\nverified: 1 collection, 73 documents identical to HEAD\n');
  });
});
