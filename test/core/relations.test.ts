import { Int32, type Document } from 'bson';
import { describe, expect, it } from 'vitest';
import { FIXED, useTempRepository } from '../support/temp-repo.js';
import { commit } from '../../src/index.js';
import { relations } from '../../src/core/relations.js';
import { loadShop } from '../support/shop.js';
import { useTestDatabase } from '../support/test-db.js';
import { updateConfig } from '../../src/core/config.js';
import { readHeadConfig } from '../../src/core/snapshot.js';
import { SnapshotRepository } from '../../src/store/index.js';


let repo = '';
useTempRepository('relations', (r) => (repo = r.repo));

describe('updateConfig', () => {
  it('commits dbsnap.json with the change on top of HEAD, keeping every other file', async () => {
    const r = await SnapshotRepository.open(repo);
    const before = (await r.head()).oid!;
    const filesBefore = await r.listFiles(before);
    const res = await updateConfig({
      repo,
      change: (cfg) => ({ ...cfg, relations: [{ from: 'orders.userId', to: 'users._id' }] }),
      message: 'declare a relation',
      ...FIXED,
    });
    expect(res.changed).toBe(true);
    const head = await r.head();
    expect(head.oid).toBe(res.commit);
    const c = await r.readCommit(res.commit);
    expect(c.parents).toEqual([before]);
    expect(c.message).toBe('declare a relation');
    expect((await readHeadConfig(r)).config.relations).toEqual([{ from: 'orders.userId', to: 'users._id' }]);
    const filesAfter = await r.listFiles(res.commit);
    expect([...filesAfter.keys()].sort()).toEqual([...filesBefore.keys()].sort());
    expect(filesAfter.get('.gitattributes')).toBe(filesBefore.get('.gitattributes'));
    expect(filesAfter.get('dbsnap.json')).not.toBe(filesBefore.get('dbsnap.json'));

    const again = await updateConfig({ repo, change: (cfg) => cfg, message: 'nothing', ...FIXED });
    expect(again).toMatchObject({ changed: false, commit: res.commit });
  });

  it('refuses an invalid config without committing', async () => {
    const r = await SnapshotRepository.open(repo);
    const before = (await r.head()).oid;
    await expect(
      updateConfig({ repo, change: (cfg) => ({ ...cfg, relations: [{ from: 'nodot', to: 'users._id' }] }), message: 'bad', ...FIXED }),
    ).rejects.toMatchObject({ code: 'ECONFIG' });
    expect((await r.head()).oid).toBe(before);
  });
});

describe('relations', () => {
  it('infers exactly the shop references from a snapshot, and accepts them into dbsnap.json', async () => {
    const t = await useTestDatabase('relations_infer');
    try {
      await loadShop(t.db, { totalDocs: 1000, seed: 1 });
      await commit({ repo, uri: t.dbUri, ...FIXED });
      const listed = await relations({ repo });
      expect(listed.declared).toEqual([]);
      expect(listed.proposals).toBeUndefined();

      const r = await relations({ repo, infer: true });
      expect(r.proposals!.map((p) => [p.from, p.to, p.matched, p.declared])).toEqual([
        ['orders.items.productId', 'products._id', 1, false],
        ['orders.userId', 'users._id', 1, false],
        ['products.producerId', 'producers._id', 1, false],
      ]);
      const p = r.proposals![1]!;
      expect(p.values).toBe(600);
      expect(p.sample[0]).toMatch(/^\{"\$oid":"[0-9a-f]{24}"\}$/);

      const accepted = await relations({ repo, infer: true, accept: true, ...FIXED });
      expect(accepted.accepted!.relations).toHaveLength(3);
      const repoObj = await SnapshotRepository.open(repo);
      const head = await repoObj.readCommit(accepted.accepted!.commit);
      expect(head.message.split('\n')[0]).toBe('dbsnap relations: accept 3');
      const after = await relations({ repo, infer: true, accept: true, ...FIXED });
      expect(after.declared).toEqual([
        { from: 'orders.items.productId', to: 'products._id' },
        { from: 'orders.userId', to: 'users._id' },
        { from: 'products.producerId', to: 'producers._id' },
      ]);
      expect(after.proposals!.every((x) => x.declared)).toBe(true);
      expect(after.accepted).toBeUndefined();
    } finally {
      await t.drop();
    }
  });

  it('matches uniquely indexed fields, keeps types apart, and leaves weak or self matches out', async () => {
    const t = await useTestDatabase('relations_small');
    try {
      await t.db.collection('accounts').insertMany(
        Array.from({ length: 10 }, (_, i): Document => ({ _id: new Int32(i), number: `AC-${i}`, owner: `AC-${i}` })),
      );
      await t.db.collection('accounts').createIndex({ number: 1 }, { unique: true, name: 'number_1' });
      await t.db.collection('customers').insertMany([
        { _id: 'c1', accounts: ['AC-1', 'AC-2'], code: '1', half: new Int32(1) },
        { _id: 'c2', accounts: ['AC-3'], code: '2', half: new Int32(99) },
        { _id: 'c3', accounts: [], code: '3', half: new Int32(2) },
        { _id: 'c4', accounts: ['AC-4'], code: '4', half: new Int32(98) },
      ] as Document[]);
      await commit({ repo, uri: t.dbUri, ...FIXED });
      const r = await relations({ repo, infer: true });
      expect(r.proposals!.map((p) => [p.from, p.to, p.matched, p.values, p.distinct])).toEqual([
        // `owner` holds the same values but has no unique index: not a target. `number` is not
        // proposed as a reference to itself; `code` (strings) does not match Int32 _ids; `half` matches 50%.
        ['accounts.owner', 'accounts.number', 1, 10, 10],
        ['customers.accounts', 'accounts.number', 1, 4, 4],
      ]);
      const loose = await relations({ repo, infer: true, minShare: 0.5 });
      expect(loose.proposals!.map((p) => `${p.from} -> ${p.to} ${p.matched}`)).toContain('customers.half -> accounts._id 0.5');
    } finally {
      await t.drop();
    }
  });
});
