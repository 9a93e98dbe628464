import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Code, Decimal128, EJSON, Int32, Long, Timestamp, type Document } from 'bson';
import type { Db } from 'mongodb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commit, init } from '../../src/index.js';
import { generateKey } from '../../src/crypto/index.js';
import { restore } from '../../src/core/restore.js';
import { planRestore } from '../../src/core/restore-plan.js';
import { updateConfig } from '../../src/core/config.js';
import { collectionDir } from '../../src/canonical/format.js';
import { SnapshotRepository } from '../../src/store/index.js';
import { useTestDatabase, type TestDatabase } from '../support/test-db.js';
import { loadShop, mutateShop } from '../support/shop.js';

const FIXED = { author: { name: 'Test', email: 'test@example.com' }, now: new Date('2025-01-02T03:04:05Z') };
const yes = async () => true;

let dir: string;
let repo: string;
const dbs: TestDatabase[] = [];
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dbsnap-restore-'));
  repo = join(dir, 'backup-repo');
  await init({ repo, ...FIXED });
});
afterEach(async () => {
  for (const t of dbs.splice(0)) await t.drop().catch(() => {});
  await rm(dir, { recursive: true, force: true });
});

async function testDb(prefix: string): Promise<TestDatabase> {
  const t = await useTestDatabase(prefix);
  dbs.push(t);
  return t;
}

/** Everything restore promises to bring back: options, indexes and the raw bytes of each document. */
async function dump(db: Db): Promise<Record<string, { type: string; options: string; indexes: string; docs: string[] }>> {
  const out: Record<string, { type: string; options: string; indexes: string; docs: string[] }> = {};
  const infos = await db.listCollections({}, { nameOnly: false }).toArray();
  for (const info of infos.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (info.name.startsWith('system.')) continue;
    const view = info.type === 'view';
    const indexes = view ? [] : await db.collection(info.name).listIndexes().toArray();
    const docs = view
      ? []
      : ((await db.collection(info.name).find({}, { raw: true, sort: { _id: 1 } }).toArray()) as unknown as Uint8Array[]);
    out[info.name] = {
      type: String(info.type),
      options: EJSON.stringify((info as Document).options ?? {}, { relaxed: false }),
      indexes: EJSON.stringify(indexes.sort((a, b) => (a.name < b.name ? -1 : 1)), { relaxed: false }),
      docs: docs.map((d) => Buffer.from(d).toString('base64')),
    };
  }
  return out;
}

async function refs(): Promise<string> {
  const r = await SnapshotRepository.open(repo);
  return JSON.stringify(await r.listRefs('refs/'));
}

async function tagHead(name: string): Promise<string> {
  const r = await SnapshotRepository.open(repo);
  const head = (await r.head()).oid!;
  await r.createTag(name, head);
  return head;
}

/** The shop plus a validated collection, a capped one and a view. */
async function richDatabase(t: TestDatabase, totalDocs = 300): Promise<void> {
  await loadShop(t.db, { totalDocs, seed: 7 });
  // Field order inside the validator is part of what must come back.
  await t.db.createCollection('accounts', {
    validator: { $jsonSchema: { required: ['zeta', 'alpha'], bsonType: 'object' } },
    validationLevel: 'moderate',
  });
  await t.db.collection('accounts').insertMany([
    { _id: 1 as unknown as never, zeta: 1, alpha: 'a' },
    { _id: 2 as unknown as never, zeta: 2, alpha: 'b', nested: { y: 1, x: 2 } },
  ]);
  await t.db.createCollection('events', { capped: true, size: 65536 });
  await t.db.collection('events').insertMany([{ _id: 'e1' as unknown as never, n: new Int32(1) }]);
  await t.db.createCollection('tags', { collation: { locale: 'en', strength: 2 } });
  await t.db.collection('tags').insertMany([{ _id: 'b' as unknown as never }, { _id: 'A' as unknown as never }]);
  await t.db.collection('tags').createIndex({ label: 1 }, { name: 'label_1', collation: { locale: 'fr' } });
  await t.db.createCollection('bigOrders', {
    viewOn: 'orders',
    pipeline: [{ $match: { status: 'paid' } }, { $project: { userId: 1, status: 1 } }],
  });
}

describe('restore', () => {
  it('brings back an older tag exactly (bytes, options, indexes, view), and its safety snapshot restores the replaced state', async () => {
    const t = await testDb('exact');
    await richDatabase(t);
    await commit({ repo, uri: t.dbUri, ...FIXED });
    await tagHead('v1');
    const v1 = await dump(t.db);

    await mutateShop(t.db, { fraction: 0.2, seed: 3 });
    await t.db.collection('accounts').deleteOne({ _id: 2 as unknown as never });
    await t.db.collection('users').dropIndex('email_1');
    await t.db.collection('orders').drop();
    await t.db.collection('extra').insertOne({ kept: true });
    await t.db.collection('bigOrders').drop();
    await t.db.createCollection('bigOrders', { viewOn: 'users', pipeline: [{ $limit: 1 }] });
    const before = await dump(t.db);
    expect(before).not.toEqual(v1);

    const plans: unknown[] = [];
    const r = await restore({ repo, ref: 'v1', uri: t.dbUri, confirm: async (p) => (plans.push(p), true), ...FIXED });
    const after = await dump(t.db);
    const { extra, ...restored } = after;
    expect(restored).toEqual(v1);
    expect(extra).toEqual(before.extra); // not in the snapshot: left as it was
    const docs = 300;
    expect(r.summary).toBe(`verified: 8 collections, ${docs + 5} documents identical to v1`);
    // Checked by the server's hash where it has one, else by reading back: either way every collection.
    expect(r.restored.filter((c) => c.check === 'hash' || c.check === 'server-hash')).toHaveLength(7);
    expect(new Set(r.restored.filter((c) => c.type !== 'view').map((c) => c.check)).size).toBe(1);
    expect(plans).toHaveLength(1);
    expect(r.plan.collections.find((c) => c.name === 'orders')!.action).toBe('create');
    expect(r.plan.collections.find((c) => c.name === 'users')!.action).toBe('replace');
    expect(r.plan.untouched).toEqual(['extra']);
    expect(JSON.parse(v1.tags!.options).collation.locale).toBe('en');

    // The safety snapshot holds what was replaced; restoring it gives that state back.
    expect(r.safetySnapshot!.ref).toMatch(/^refs\/dbsnap\/safety\/20250102T030405Z-dbsnap_test_exact_/);
    expect(r.safetySnapshot!.collections).toEqual(['accounts', 'bigOrders', 'events', 'producers', 'products', 'tags', 'users']);
    const back = await restore({ repo, ref: r.safetySnapshot!.ref, uri: t.dbUri, backup: false, confirm: yes, ...FIXED });
    expect(back.safetySnapshot).toBeUndefined();
    // orders was absent before the first restore, so the safety snapshot does not cover it.
    const { orders: _o, ...now } = await dump(t.db);
    expect(now).toEqual(before);
  });

  it('writes the same bytes whether it sends the snapshot\'s BSON as read (default) or has the driver serialise documents', async () => {
    const t = await testDb('rawsrc');
    await richDatabase(t, 400);
    // Values the fast reader leaves to the full way, beside the ones it reads.
    await t.db.collection('odd').insertMany([
      { _id: 1, re: /a.b/i, code: new Code('f()'), n: new Int32(1) },
      { _id: 2, big: Long.fromString('9007199254740993'), ts: new Timestamp({ t: 5, i: 6 }), d: new Date(-1), dec: Decimal128.fromString('1.50') },
    ]);
    await commit({ repo, uri: t.dbUri, ...FIXED });
    const source = await dump(t.db);
    for (const rawInsert of [true, false]) {
      const target = await testDb(rawInsert ? 'raw' : 'driver');
      const r = await restore({ repo, ref: 'HEAD', uri: target.dbUri, rawInsert, backup: false, confirm: yes, ...FIXED });
      expect(r.verified.documents).toBe(400 + 5 + 2);
      expect(await dump(target.db)).toEqual(source);
    }
  });

  it('restores into another database name, and reports dangling references after a partial restore', async () => {
    const t = await testDb('partial');
    await loadShop(t.db, { totalDocs: 200, seed: 1 });
    await commit({ repo, uri: t.dbUri, ...FIXED });
    await updateConfig({
      repo,
      change: (c) => ({
        ...c,
        relations: [
          { from: 'orders.userId', to: 'users._id' },
          { from: 'orders.items.productId', to: 'products._id' },
          { from: 'products.producerId', to: 'producers._id' },
        ],
      }),
      message: 'relations',
      ...FIXED,
    });
    const other = await testDb('partial_other');
    const r = await restore({ repo, ref: 'HEAD', uri: t.uri, db: other.dbName, collections: ['orders'], ...FIXED });
    expect(r.database).toBe(other.dbName);
    expect(r.safetySnapshot).toBeUndefined(); // nothing existed there
    const orders = await t.db.collection('orders').countDocuments();
    expect(await other.db.collection('orders').countDocuments()).toBe(orders);
    expect((await other.db.listCollections().toArray()).map((c) => c.name)).toEqual(['orders']);
    const byRelation = Object.fromEntries(r.dangling.map((d) => [d.relation, d]));
    expect(Object.keys(byRelation).sort()).toEqual(['orders.items.productId -> products._id', 'orders.userId -> users._id']);
    const users = byRelation['orders.userId -> users._id']!;
    expect(users.dangling).toBe(orders);
    const firstIds = (await t.db.collection('orders').find({}, { projection: { _id: 1 }, sort: { _id: 1 }, limit: 5 }).toArray()).map((d) =>
      String(d._id),
    );
    expect(users.examples.map(String)).toEqual(firstIds);

    // With users restored too, only the products reference dangles.
    const r2 = await restore({ repo, ref: 'HEAD', uri: t.uri, db: other.dbName, collections: ['users', 'orders'], confirm: yes, ...FIXED });
    expect(r2.dangling.map((d) => d.relation)).toEqual(['orders.items.productId -> products._id']);
  });

  it('leaves the target byte-identical when the server fails an insert mid-way', async () => {
    const t = await testDb('failinsert');
    await loadShop(t.db, { totalDocs: 3000, seed: 2 });
    await commit({ repo, uri: t.dbUri, ...FIXED });
    await mutateShop(t.db, { fraction: 0.1, seed: 9 });
    await t.db.collection('users').insertOne({ note: 'newer' });
    const before = await dump(t.db);
    const refsBefore = await refs();

    // The second insert dbsnap sends fails, after one batch has gone into a temporary collection.
    await t.client.db('admin').command({
      configureFailPoint: 'failCommand',
      mode: { skip: 1, times: 1 },
      data: { failCommands: ['insert'], errorCode: 11600, appName: 'dbsnap' },
    });
    let err: unknown;
    try {
      await restore({ repo, ref: 'HEAD', uri: t.dbUri, confirm: yes, ...FIXED });
    } catch (e) {
      err = e;
    } finally {
      await t.client.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' });
    }
    expect((err as { code?: string }).code).toBe('ERESTORE');
    expect((err as { data: { collection: string } }).data.collection).toBeTruthy();
    expect(String((err as Error).message)).toMatch(/every target collection is as it was/i);
    expect(await dump(t.db)).toEqual(before);
    // The safety snapshot had been taken (the only change: a new ref).
    expect(await refs()).not.toBe(refsBefore);
  });

  it('refuses a part file edited and committed by hand, naming it, before touching the target', async () => {
    const t = await testDb('corrupt');
    await loadShop(t.db, { totalDocs: 100, seed: 4 });
    await commit({ repo, uri: t.dbUri, ...FIXED });
    await mutateShop(t.db, { fraction: 0.5, seed: 1 });
    const before = await dump(t.db);

    // Change one character of one part of users, then commit that tree as a branch.
    const r = await SnapshotRepository.open(repo);
    const head = (await r.head()).oid!;
    const files = await r.listFiles(head);
    const partPath = [...files.keys()].find((p) => p.startsWith(`${collectionDir('users')}/parts/`))!;
    const text = (await r.readBlob(files.get(partPath)!)).toString('utf8');
    const edited = text.replace('"email": "', '"email": "x');
    expect(edited).not.toBe(text);
    files.set(partPath, await r.writeBlob(edited));
    const tree = await r.writeTree([...files].map(([path, oid]) => ({ path, oid })));
    const bad = await r.writeCommit({
      tree,
      parents: [head],
      message: 'hand edit',
      author: { ...FIXED.author, timestamp: 1735787045, timezoneOffset: 0 },
    });
    await r.updateRef('refs/heads/edited', bad);
    const refsBefore = await refs();

    await expect(restore({ repo, ref: 'edited', uri: t.dbUri, confirm: yes, ...FIXED })).rejects.toMatchObject({
      code: 'ECORRUPT',
      data: { path: partPath },
      message: expect.stringContaining(partPath),
    });
    expect(await dump(t.db)).toEqual(before);
    expect(await refs()).toBe(refsBefore);
  });

  it('--dry-run returns the plan and changes nothing, not even refs', async () => {
    const t = await testDb('dryrun');
    await loadShop(t.db, { totalDocs: 100, seed: 5 });
    await commit({ repo, uri: t.dbUri, ...FIXED });
    await t.db.collection('orders').deleteMany({});
    await t.db.collection('leftover').insertOne({ a: 1 });
    const before = await dump(t.db);
    const refsBefore = await refs();
    let asked = false;
    const r = await restore({ repo, ref: 'HEAD', uri: t.dbUri, dryRun: true, confirm: async () => (asked = true), ...FIXED });
    expect(asked).toBe(false);
    expect(r.dryRun).toBe(true);
    expect(r.summary).toBeUndefined();
    expect(r.plan.dropped).toEqual(
      ['orders', 'producers', 'products', 'users'].map((name) => ({ name, type: 'collection', documents: before[name]!.docs.length })),
    );
    expect(before.orders!.docs).toHaveLength(0);
    expect(r.plan.untouched).toEqual(['leftover']);
    expect(await dump(t.db)).toEqual(before);
    expect(await refs()).toBe(refsBefore);
  });

  it('refuses a protected host unless forced, and a declined confirmation, before anything changes', async () => {
    const t = await testDb('protected');
    await loadShop(t.db, { totalDocs: 50, seed: 6 });
    await commit({ repo, uri: t.dbUri, ...FIXED });
    const host = new URL(t.uri.replace(/^mongodb/, 'http')).hostname;
    await updateConfig({ repo, change: (c) => ({ ...c, protectedHosts: [host] }), message: 'protect', ...FIXED });
    await t.db.collection('users').deleteMany({});
    const before = await dump(t.db);
    const refsBefore = await refs();
    await expect(restore({ repo, ref: 'HEAD', uri: t.dbUri, confirm: yes, ...FIXED })).rejects.toMatchObject({ code: 'EPROTECTED' });
    await expect(restore({ repo, ref: 'HEAD', uri: t.dbUri, force: true, confirm: async () => false, ...FIXED })).rejects.toMatchObject({
      code: 'ECONFIRM',
    });
    expect(await dump(t.db)).toEqual(before);
    expect(await refs()).toBe(refsBefore);
    const r = await restore({ repo, ref: 'HEAD', uri: t.dbUri, force: true, confirm: yes, ...FIXED });
    expect(r.verified.documents).toBe(50);

    // Atlas URIs go through the same check (it runs before any connection or DNS lookup).
    await updateConfig({ repo, change: (c) => ({ ...c, protectedHosts: ['*.mongodb.net'] }), message: 'protect atlas', ...FIXED });
    await expect(
      restore({ repo, ref: 'HEAD', uri: 'mongodb+srv://u:secret@cluster0.ab1cd.mongodb.net/shop', confirm: yes, ...FIXED }),
    ).rejects.toMatchObject({ code: 'EPROTECTED', data: { hosts: ['cluster0.ab1cd.mongodb.net'] }, message: expect.not.stringContaining('secret') });
  });

  it('merge upserts by _id and keeps everything else', async () => {
    const t = await testDb('merge');
    await loadShop(t.db, { totalDocs: 100, seed: 8 });
    await commit({ repo, uri: t.dbUri, ...FIXED });
    const v1 = await dump(t.db);
    await mutateShop(t.db, { fraction: 0.5, seed: 2 });
    const someUser = (await t.db.collection('users').find({}, { sort: { _id: 1 } }).limit(1).toArray())[0]!;
    await t.db.collection('users').deleteOne({ _id: someUser._id });
    await t.db.collection('users').insertOne({ _id: 'zz-new' as unknown as never, added: true });
    await t.db.collection('users').dropIndex('email_1');

    const r = await restore({ repo, ref: 'HEAD', uri: t.dbUri, collections: ['users'], mode: 'merge', confirm: yes, ...FIXED });
    expect(r.restored).toEqual([{ name: 'users', type: 'collection', action: 'merge', documents: v1.users!.docs.length, check: 'documents', kept: 1 }]);
    const after = await dump(t.db);
    const added = Buffer.from(
      (await t.db.collection('users').find({ _id: 'zz-new' as unknown as never }, { raw: true }).toArray())[0] as unknown as Uint8Array,
    ).toString('base64');
    // A string _id sorts before ObjectIds.
    expect(after.users!.docs).toEqual([added, ...v1.users!.docs]);
    expect(after.users!.indexes).toEqual(v1.users!.indexes);
    // The collection is not identical to HEAD (it holds zz-new too): the summary says so.
    expect(r.summary).toBe(`verified: ${v1.users!.docs.length} documents restored identical to HEAD in 1 collection, 1 other document kept`);
  });

  it('a restore killed with SIGKILL leaves the target as it was; the next restore drops the leftover', { timeout: 180_000 }, async () => {
    const t = await testDb('kill');
    await t.db.collection('big').insertMany(
      Array.from({ length: 30000 }, (_, i) => ({ _id: i as unknown as never, payload: `document ${i} `.repeat(4) })),
    );
    await commit({ repo, uri: t.dbUri, ...FIXED });
    await t.db.collection('big').updateMany({ _id: { $lt: 100 } as never }, { $set: { changed: true } });
    const before = await dump(t.db);

    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(process.cwd(), 'src/cli/main.ts'), 'restore', 'HEAD', '--repo', repo, '--uri', t.dbUri, '--yes', '--no-backup'],
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } },
    );
    let stderr = '';
    child.stderr.on('data', (b) => (stderr += b));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    let temp: string | undefined;
    let done = false;
    void exited.then(() => (done = true));
    while (!temp && !done) {
      const names = (await t.db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
      temp = names.find((n) => n.startsWith('__dbsnap_tmp_'));
      if (!temp) await new Promise((r) => setTimeout(r, 5));
    }
    expect(done, `restore finished before it could be killed: ${stderr}`).toBe(false);
    child.kill('SIGKILL');
    await exited;
    expect(await t.db.collection(temp!).countDocuments()).toBeLessThan(30000);

    // The killed restore also leaves its lock document (taken over at once: its pid is gone).
    const { [temp!]: leftover, __dbsnap_lock: lock, ...rest } = await dump(t.db);
    expect(leftover).toBeDefined();
    expect(lock).toBeDefined();
    expect(rest).toEqual(before);

    const r = await restore({ repo, ref: 'HEAD', uri: t.dbUri, backup: false, confirm: yes, ...FIXED });
    expect(r.cleanedUp).toEqual([temp]);
    const after = await dump(t.db);
    expect(Object.keys(after)).toEqual(['big']);
    expect(after.big!.docs).toHaveLength(30000);
    expect(r.summary).toBe('verified: 1 collection, 30000 documents identical to HEAD');
  });
});

describe('restore of encrypted fields', () => {
  it('needs the right key before touching the target, decrypts exactly, and masks on request', async () => {
    const t = await testDb('crypto');
    await loadShop(t.db, { totalDocs: 60, seed: 11 });
    const key = generateKey();
    await updateConfig({ repo, change: (c) => ({ ...c, sensitive: { users: ['email', 'address.phone'] } }), message: 'sensitive', ...FIXED });
    await commit({ repo, uri: t.dbUri, key, ...FIXED });
    const v1 = await dump(t.db);
    await t.db.collection('users').deleteMany({});
    const before = await dump(t.db);
    const refsBefore = await refs();

    await expect(restore({ repo, ref: 'HEAD', uri: t.dbUri, confirm: yes, ...FIXED })).rejects.toMatchObject({
      code: 'EKEY',
      data: { fields: ['users.email', 'users.address.phone'] },
    });
    await expect(restore({ repo, ref: 'HEAD', uri: t.dbUri, key: generateKey(), confirm: yes, ...FIXED })).rejects.toMatchObject({ code: 'EKEY' });
    expect(await dump(t.db)).toEqual(before);
    expect(await refs()).toBe(refsBefore);

    // Read back and re-encrypted: the deterministic ciphertext must equal the snapshot's.
    const r = await restore({ repo, ref: 'HEAD', uri: t.dbUri, key, readBack: true, confirm: yes, ...FIXED });
    expect(await dump(t.db)).toEqual(v1);
    expect(r.restored.find((c) => c.name === 'users')!.check).toBe('hash');

    const masked = await restore({ repo, ref: 'HEAD', uri: t.dbUri, db: `${t.dbName}_m`, key, mask: true, confirm: yes, ...FIXED });
    const m = t.client.db(`${t.dbName}_m`);
    try {
      expect(masked.summary).toBe(`verified: 4 collections, 60 documents restored from HEAD (sensitive fields masked; counts checked)`);
      const users = await m.collection('users').find({}, { sort: { _id: 1 } }).toArray();
      const real = await t.db.collection('users').find({}, { sort: { _id: 1 } }).toArray();
      expect(users.map((u) => u._id.toString())).toEqual(real.map((u) => u._id.toString()));
      expect(users.every((u, i) => u.email !== real[i]!.email && u.firstName === real[i]!.firstName)).toBe(true);
    } finally {
      await m.dropDatabase();
    }
  });
});

describe('planRestore', () => {
  const entry = (name: string, type: 'collection' | 'view' | 'timeseries', options: Record<string, unknown> = {}) => ({
    name,
    type,
    options,
    indexes: [{ name: '_id_' }, { name: 'a_1' }],
    documents: 3,
    sha256: '',
    parts: [],
  });
  it('plans creates, replaces, view swaps and drops, and refuses what the server cannot do', () => {
    const plan = planRestore({
      ref: 'v1',
      commit: 'c'.repeat(40),
      database: 'shop',
      mode: 'replace',
      entries: [entry('users', 'collection'), entry('orders', 'collection'), entry('v', 'view', { viewOn: 'users', pipeline: [] }), entry('ts', 'timeseries', { timeseries: { timeField: 't' } })],
      target: [
        { name: 'users', type: 'collection', documents: 10 },
        { name: 'v', type: 'view', documents: 0 },
        { name: 'other', type: 'collection', documents: 1 },
      ],
      serverVersion: '4.4.1',
    });
    expect(plan.collections.map((c) => [c.name, c.action, c.existingDocuments, c.indexes])).toEqual([
      ['orders', 'create', undefined, 1],
      ['ts', 'create', undefined, 1],
      ['users', 'replace', 10, 1],
    ]);
    expect(plan.views).toEqual([{ name: 'v', viewOn: 'users', action: 'replace' }]);
    expect(plan.dropped).toEqual([
      { name: 'users', type: 'collection', documents: 10 },
      { name: 'v', type: 'view', documents: 0 },
    ]);
    expect(plan.affected).toEqual(['users', 'v']);
    expect(plan.untouched).toEqual(['other']);
    expect(plan.unsupported).toEqual([{ collection: 'ts', reason: expect.stringContaining('MongoDB 5.0 or newer (the target runs 4.4.1)') }]);
    expect(plan.documents).toBe(9);
  });
});

