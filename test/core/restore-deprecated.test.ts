import { BSON } from 'bson';
import { expect, it } from 'vitest';
import { useTempRepository } from '../support/temp-repo.js';
import { serializeDocument } from '../../src/canonical/bson-serializer.js';
import { DbPointer } from '../../src/canonical/bson-special-values.js';
import { restore, verify } from '../../src/index.js';
import { ObjectId } from 'bson';
import { commitHandmadeSnapshot } from '../support/handmade-snapshot.js';
import { useTestDatabase } from '../support/test-db.js';

let repo = '';
useTempRepository('deprecated', (r) => (repo = r.repo));

it.each([
  ['Undefined', { _id: 2, legacy: { gone: undefined } }, 'legacy.gone'],
  ['a DBPointer', { _id: 2, ptr: new DbPointer('db.coll', new ObjectId('68a72cf14b78eb31b9af9e46')) }, 'ptr'],
  ['Undefined', { _id: 2, a: 1, items: [{ ok: 1 }, { deep: { x: 1, gone: undefined } }] }, 'items.1.deep.gone'],
])('refuses, before touching the target, to restore %s the driver cannot write', async (what, doc, path) => {
  await commitHandmadeSnapshot(repo, 'legacy', [BSON.serialize({ _id: 1, ok: true }), serializeDocument(doc)]);
  // The snapshot itself is sound and stores the value exactly.
  expect((await verify({ repo })).ok).toBe(true);
  const t = await useTestDatabase('deprecated');
  try {
    await t.db.collection('legacy').insertOne({ _id: 1, before: 'restore' });
    await expect(restore({ repo, ref: 'HEAD', uri: t.dbUri, backup: false })).rejects.toMatchObject({
      code: 'EUNSUPPORTED',
      data: { collection: 'legacy', path },
      message: expect.stringContaining(what),
    });
    expect(await t.db.collection('legacy').find().toArray()).toEqual([{ _id: 1, before: 'restore' }]);
  } finally {
    await t.drop();
  }
});
