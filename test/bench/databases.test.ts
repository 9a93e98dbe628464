import { BSON } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { loadBigDocuments, loadManyCollections } from '../../bench/databases.js';
import { useTestDatabase } from '../support/test-db.js';

describe('bench databases (issue 17: many collections, big documents)', () => {
  it('spreads the shop round robin over N collections, empty ones included, and counts its bytes', async () => {
    const t = await useTestDatabase('bench_many');
    try {
      const loaded = await loadManyCollections(t.db as never, { collections: 12, documents: 10, seed: 1 });
      expect(loaded.collections).toBe(12);
      expect(loaded.documents).toBe(10);
      const names = (await t.db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
      expect(names).toEqual(Array.from({ length: 12 }, (_, i) => `c${String(i).padStart(3, '0')}`));
      let bytes = 0;
      let docs = 0;
      for (const name of names) {
        for await (const raw of t.db.collection(name).find({}, { raw: true })) {
          bytes += (raw as unknown as Buffer).length;
          docs++;
        }
      }
      expect(docs).toBe(10);
      expect(bytes).toBe(loaded.bsonBytes);
      expect(await t.db.collection('c010').countDocuments()).toBe(0);
    } finally {
      await t.drop();
    }
  });

  it('writes documents of about the asked size, the same bytes for the same seed', async () => {
    const t = await useTestDatabase('bench_big');
    try {
      const loaded = await loadBigDocuments(t.db as never, { count: 2, megabytes: 2, seed: 3 });
      expect(loaded).toMatchObject({ collections: 1, documents: 2 });
      const raws = (await t.db.collection('big').find({}, { sort: { _id: 1 }, raw: true }).toArray()) as unknown as Buffer[];
      expect(raws.length).toBe(2);
      expect(raws[0]!.length + raws[1]!.length).toBe(loaded.bsonBytes);
      for (const raw of raws) {
        expect(raw.length).toBeGreaterThanOrEqual(2 * 2 ** 20);
        expect(raw.length).toBeLessThan(2 * 2 ** 20 + 4096);
      }
      const again = await useTestDatabase('bench_big');
      try {
        await loadBigDocuments(again.db as never, { count: 2, megabytes: 2, seed: 3 });
        const raws2 = (await again.db.collection('big').find({}, { sort: { _id: 1 }, raw: true }).toArray()) as unknown as Buffer[];
        expect(Buffer.concat(raws2).equals(Buffer.concat(raws))).toBe(true);
      } finally {
        await again.drop();
      }
      expect(Object.keys(BSON.deserialize(raws[0]!))).toEqual(['_id', 'name', 'attachment', 'lines']);
    } finally {
      await t.drop();
    }
  });
});
