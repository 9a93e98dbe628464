import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BSON } from 'bson';
import { describe, expect, it } from 'vitest';
import { importBackup, relations, restore, updateConfig } from '../../src/index.js';
import { FIXED, useTempRepository } from '../support/temp-repo.js';
import { useTestDatabase } from '../support/test-db.js';
import { SEED_BACKUP_DIR, seedBackupFiles, seedShopDocuments } from '../support/seed-backup.js';
import { SHOP_COLLECTIONS } from '../support/shop.js';

const SEED = fileURLToPath(SEED_BACKUP_DIR);
let repo = '';
useTempRepository('seed', (r) => ({ repo } = r));

describe('the seed-style backup folder', () => {
  it('is what JSON.stringify of the shop gives (the fixture cannot drift from the generator)', () => {
    for (const [name, text] of Object.entries(seedBackupFiles())) expect(readFileSync(join(SEED, name), 'utf8')).toBe(text);
  });

  it('imports with ObjectIds, dates and Int64s inferred, reported field by field', async () => {
    const r = await importBackup({ repo, paths: [SEED], db: 'shop', ...FIXED });
    const s = r.snapshots[0]!;
    expect(s.format).toBe('json');
    const shop = seedShopDocuments();
    expect(s.collections.map((c) => [c.name, c.documents])).toEqual(
      ['orders', 'producers', 'products', 'users'].map((n) => [n, shop[n as keyof typeof shop].length]),
    );
    const conv = (name: string) => Object.fromEntries(s.collections.find((c) => c.name === name)!.conversions!.map((f) => [f.field, f.to]));
    expect(conv('orders')).toMatchObject({ _id: 'ObjectId', userId: 'ObjectId', 'items.productId': 'ObjectId', createdAt: 'Date', updatedAt: 'Date' });
    expect(conv('products')).toMatchObject({ _id: 'ObjectId', producerId: 'ObjectId', createdAt: 'Date' });
    expect(conv('users')).toMatchObject({ _id: 'ObjectId', createdAt: 'Date', birthDate: 'Date', loyaltyPoints: 'Int64' });
    // Strings that only look alike in some documents stay strings.
    expect(conv('users').email).toBeUndefined();
    expect(s.collections.find((c) => c.name === 'orders')!.conversions!.find((f) => f.field === 'items.productId')!.values).toBe(
      shop.orders.reduce((n, o) => n + (o.items as unknown[]).length, 0),
    );
  });

  it('leaves out what dbsnap.json excludes, as commit does', async () => {
    await updateConfig({ repo, ...FIXED, message: 'no producers', change: (c) => ({ ...c, exclude: ['producers'] }) });
    const r = await importBackup({ repo, paths: [SEED], ...FIXED });
    expect(r.snapshots[0]!.collections.map((c) => c.name)).toEqual(['orders', 'products', 'users']);
    expect(r.snapshots[0]!.notes).toEqual(['left out producers: dbsnap.json excludes it']);
  });

  it('--types keep stores the strings as they are', async () => {
    const r = await importBackup({ repo, paths: [SEED], types: 'keep', ...FIXED });
    expect(r.snapshots[0]!.collections.every((c) => c.conversions!.length === 0)).toBe(true);
  });

  it('relations --infer then finds the three references the seed kept', async () => {
    await importBackup({ repo, paths: [SEED], ...FIXED });
    const r = await relations({ repo, infer: true, ...FIXED });
    expect(r.proposals!.filter((p) => p.matched === 1).map((p) => `${p.from} -> ${p.to}`).sort()).toEqual([
      'orders.items.productId -> products._id',
      'orders.userId -> users._id',
      'products.producerId -> producers._id',
    ]);
  });

  it('restores into a database as documents equal to the shop', async () => {
    await importBackup({ repo, paths: [SEED], ...FIXED });
    const t = await useTestDatabase('seedrestore');
    try {
      await restore({ repo, ref: 'HEAD', uri: t.dbUri, ...FIXED });
      const shop = seedShopDocuments();
      for (const name of SHOP_COLLECTIONS) {
        const got = await t.db.collection(name).find().sort({ _id: 1 }).toArray();
        // What the driver reads back from the original shop: the same promotion of numbers.
        const want = shop[name].map((d) => BSON.deserialize(BSON.serialize(d))).sort((a, b) => String(a._id).localeCompare(String(b._id)));
        expect(got).toEqual(want);
      }
    } finally {
      await t.drop();
    }
  });
});
