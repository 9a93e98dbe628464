import { BSON } from 'bson';
import { expect, it } from 'vitest';
import { useTempRepository } from '../support/temp-repo.js';
import { serializeDocument } from '../../src/canonical/bson-serializer.js';
import { DbPointer, OUT_OF_RANGE_DATE_MS } from '../../src/canonical/bson-special-values.js';
import { restore, verify } from '../../src/index.js';
import { ObjectId } from 'bson';
import { commitHandmadeSnapshot } from '../support/handmade-snapshot.js';
import { useTestDatabase } from '../support/test-db.js';

let repo = '';
useTempRepository('deprecated', (r) => (repo = r.repo));

/** A date a JS Date cannot hold (year 300000), as the reader gives it. */
function farDate(): Date {
  const d = new Date(NaN) as Date & { [OUT_OF_RANGE_DATE_MS]?: bigint };
  d[OUT_OF_RANGE_DATE_MS] = 9_000_000_000_000_000n;
  return d;
}

const cases: [string, Record<string, unknown>, string][] = [
  ['Undefined', { _id: 2, legacy: { gone: undefined } }, 'legacy.gone'],
  ['a DBPointer', { _id: 2, ptr: new DbPointer('db.coll', new ObjectId('68a72cf14b78eb31b9af9e46')) }, 'ptr'],
  ['Undefined', { _id: 2, a: 1, items: [{ ok: 1 }, { deep: { x: 1, gone: undefined } }] }, 'items.1.deep.gone'],
  ['a date beyond year 275760', { _id: 2, when: farDate() }, 'when'],
];

it.each(cases)('a replace restore writes %s back exactly (the snapshot\'s own bytes, not documents for the driver)', async (_what, doc) => {
  const bytes = [BSON.serialize({ _id: 1, ok: true }), serializeDocument(doc)];
  await commitHandmadeSnapshot(repo, 'legacy', bytes);
  expect((await verify({ repo })).ok).toBe(true);
  const t = await useTestDatabase('deprecated');
  try {
    await t.db.collection('legacy').insertOne({ _id: 1, before: 'restore' });
    const r = await restore({ repo, ref: 'HEAD', uri: t.dbUri, backup: false, confirm: async () => true });
    expect(r.verified.documents).toBe(2);
    const back = (await t.db.collection('legacy').find({}, { raw: true, sort: { _id: 1 } }).toArray()) as unknown as Uint8Array[];
    expect(back.map((b) => Buffer.from(b).toString('hex'))).toEqual(bytes.map((b) => Buffer.from(b).toString('hex')));
  } finally {
    await t.drop();
  }
});

it.each(cases)('refuses, before touching the target, %s where the driver is handed documents (merge, or rawInsert: false)', async (what, doc, path) => {
  await commitHandmadeSnapshot(repo, 'legacy', [BSON.serialize({ _id: 1, ok: true }), serializeDocument(doc)]);
  const t = await useTestDatabase('deprecated');
  try {
    await t.db.collection('legacy').insertOne({ _id: 1, before: 'restore' });
    for (const opts of [{ mode: 'merge' as const }, { rawInsert: false }]) {
      await expect(restore({ repo, ref: 'HEAD', uri: t.dbUri, backup: false, confirm: async () => true, ...opts })).rejects.toMatchObject({
        code: 'EUNSUPPORTED',
        data: { collection: 'legacy', path },
        message: expect.stringContaining(what),
      });
      expect(await t.db.collection('legacy').find().toArray()).toEqual([{ _id: 1, before: 'restore' }]);
      expect((await t.db.listCollections().toArray()).map((c) => c.name)).toEqual(['legacy']);
    }
  } finally {
    await t.drop();
  }
});
