import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Document } from 'bson';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { commit, init } from '../../src/index.js';
import { SnapshotRepository } from '../../src/store/index.js';
import type { Core } from '../../src/cli/context.js';
import * as core from '../../src/core/index.js';
import { loadShop } from '../support/shop.js';
import { useTestDatabase, type TestDatabase } from '../support/test-db.js';
import { cli } from './support.js';

const FIXED = { author: { name: 'Test', email: 'test@example.com' }, now: new Date('2025-01-02T03:04:05Z') };

let dir: string;
let repo: string;
let t: TestDatabase;
beforeAll(async () => {
  t = await useTestDatabase('cli_verify');
  await loadShop(t.db, { totalDocs: 200, seed: 2 });
});
afterAll(async () => {
  await t.drop();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dbsnap-cli-verify-'));
  repo = join(dir, 'backup-repo');
  await init({ repo, ...FIXED });
  await commit({ repo, uri: t.dbUri, ...FIXED });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('dbsnap verify', () => {
  it('exits 0 on a clean snapshot, one line per collection and a summary', async () => {
    const r = await cli(['verify', '--repo', repo]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^verify [0-9a-f]{7} \(HEAD\)$/);
    expect(lines.slice(1, 5).map((l) => l.replace(/\d+ parts?/, 'N parts'))).toEqual([
      'ok   orders: 120 documents, N parts',
      'ok   producers: 4 documents, N parts',
      'ok   products: 36 documents, N parts',
      'ok   users: 40 documents, N parts',
    ]);
    expect(lines.at(-1)).toBe('verified: 4 collections, 200 documents, no problems');
  });

  it('exits 1 and names the file when a part was corrupted by hand', async () => {
    const r0 = await SnapshotRepository.open(repo);
    const head = await r0.head();
    const files = await r0.listFiles(head.oid!);
    const [path, oid] = [...files].find(([p]) => p.startsWith('collections/users/parts/'))!;
    files.set(path, await r0.writeBlob((await r0.readBlob(oid)).toString('utf8').replace('"role": "customer"', '"role": "admin"')));
    const tree = await r0.writeTree([...files].map(([p, o]) => ({ path: p, oid: o })));
    const c = await r0.writeCommit({ tree, parents: [head.oid!], message: 'by hand\n', author: { name: 'h', email: 'h@x', timestamp: 1, timezoneOffset: 0 } });
    await r0.updateRef(head.ref, c, head.oid);

    const r = await cli(['verify', '--repo', repo]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAIL users: 40 documents');
    expect(r.stdout).toContain(`hash: ${path} does not match collections/users/collection.json`);
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('verify failed: 4 collections, 200 documents, 2 problems');

    const json = await cli(['verify', '--repo', repo, '--json']);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as core.VerifyReport;
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.file)).toContain(path);
  });

  it('exits 1 naming a damaged git object', async () => {
    const r0 = await SnapshotRepository.open(repo);
    const files = await r0.listFiles((await r0.head()).oid!);
    const oid = files.get('collections/orders/collection.json')!;
    const file = join(repo, 'objects', oid.slice(0, 2), oid.slice(2));
    await chmod(file, 0o600);
    await writeFile(file, 'garbage');
    const r = await cli(['verify', '--repo', repo]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`git-object: collections/orders/collection.json: git object ${oid} cannot be decompressed`);
  });

  it('exits 2 on errors: unknown ref, missing repository', async () => {
    const bad = await cli(['verify', 'nope', '--repo', repo]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: "nope" is not a commit/);
    const none = await cli(['verify', '--repo', join(dir, 'absent')]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('no dbsnap repository');
  });

  it('compares with a database only when --uri or --db is on the command line', async () => {
    const env = { MONGODB_URI: t.dbUri };
    const offline = await cli(['verify', '--repo', repo], { env });
    expect(offline.code).toBe(0);
    expect(offline.stdout).not.toContain('database');

    const explicit = await cli(['verify', '--repo', repo, '--uri', t.dbUri]);
    expect(explicit.code).toBe(0);
    expect(explicit.stdout).toContain(`against database ${t.dbName}`);
    expect(explicit.stdout).toMatch(/ok {3}users: 40 documents, \d+ parts?; database identical/);

    const other = await useTestDatabase('cli_verify_other');
    try {
      await loadShop(other.db, { totalDocs: 200, seed: 2 });
      await other.db.collection('users').updateOne({}, { $set: { role: 'admin2' } });
      await other.db.collection('orders').insertOne({ _id: 'zzz', status: 'new' } as Document);
      const r = await cli(['verify', '--repo', repo, '--db', other.dbName], { env });
      expect(r.code).toBe(1);
      expect(r.stdout).toMatch(/FAIL users: 40 documents, \d+ parts?; database differs: 0 added, 0 removed, 1 changed/);
      expect(r.stdout).toMatch(/FAIL orders: 120 documents, \d+ parts?; database differs: 1 added, 0 removed, 0 changed/);
      expect(r.stdout).toContain(`live: orders: database ${other.dbName} differs from the snapshot: 1 added, 0 removed, 0 changed documents.`);
    } finally {
      await other.drop();
    }
  });

  it('maps argv to the core call', async () => {
    const calls: unknown[] = [];
    const fake = {
      ...core,
      verify: async (o: core.VerifyOptions) => {
        calls.push({ ...o, onProgress: undefined, signal: undefined });
        return { ref: 'v1', commit: 'a'.repeat(40), ok: true, documents: 0, problems: [], collections: [], relations: [], warnings: [] };
      },
    } as Core;
    await cli(['verify', 'v1', '--repo', 'r', '--uri', 'mongodb://h/x', '--examples', '2'], { core: fake, env: { DBSNAP_KEY: 'k' } });
    await cli(['verify', '--repo', 'r'], { core: fake, env: { MONGODB_URI: 'mongodb://env/y' } });
    await cli(['verify', '--repo', 'r', '--db', 'z'], { core: fake, env: { MONGODB_URI: 'mongodb://env/y' } });
    expect(calls).toEqual([
      { repo: 'r', ref: 'v1', uri: 'mongodb://h/x', db: undefined, key: { text: 'k', source: 'DBSNAP_KEY' }, examples: 2, onProgress: undefined, signal: undefined },
      { repo: 'r', ref: 'HEAD', key: undefined, examples: 5, onProgress: undefined, signal: undefined },
      { repo: 'r', ref: 'HEAD', uri: 'mongodb://env/y', db: 'z', key: undefined, examples: 5, onProgress: undefined, signal: undefined },
    ]);
  });
});

describe('dbsnap relations', () => {
  it('lists, infers and accepts the shop relations', async () => {
    const empty = await cli(['relations', '--repo', repo]);
    expect(empty.code).toBe(0);
    expect(empty.stdout).toContain('(none: add them to "relations" in dbsnap.json');

    const inferred = await cli(['relations', '--infer', '--repo', repo]);
    expect(inferred.code).toBe(0);
    const proposed = inferred.stdout.split('\n').filter((l) => l.includes(' -> ')).map((l) => l.trim().split(/\s+/).slice(0, 4).join(' '));
    expect(proposed).toEqual([
      '100% orders.items.productId -> products._id',
      '100% orders.userId -> users._id',
      '100% products.producerId -> producers._id',
    ]);

    const accepted = await cli(['relations', '--infer', '--accept', '--repo', repo]);
    expect(accepted.stdout).toMatch(/accepted 3 relations in commit [0-9a-f]{7}/);
    const json = await cli(['relations', '--repo', repo, '--json']);
    expect(JSON.parse(json.stdout).declared).toHaveLength(3);

    // verify now checks them.
    const v = await cli(['verify', '--repo', repo]);
    expect(v.code).toBe(0);
    expect(v.stdout).toContain('ok   orders.userId -> users._id: 120 references');
  });
});
