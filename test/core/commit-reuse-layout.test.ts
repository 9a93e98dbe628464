/**
 * An unchanged collection is taken from HEAD by copying its collection.json's part list
 * (rewriteCollectionDir). A collection.json not laid out as dbsnap writes it (edited by hand and
 * committed) is parsed and written anew instead: the next commit holds the file as dbsnap writes
 * it, with the same parts.
 */
import { expect, it } from 'vitest';
import { commit } from '../../src/index.js';
import { SnapshotRepository } from '../../src/store/index.js';
import { FIXED, useRepositoryAndDatabase } from '../support/temp-repo.js';
import type { TestDatabase } from '../support/test-db.js';
import { loadShop } from '../support/shop.js';

let repo = '';
let t: TestDatabase;
useRepositoryAndDatabase('commit_reuse_layout', (r) => ({ repo, t } = r));

it('writes HEAD\'s collection.json anew when it is not laid out as dbsnap writes it, and keeps it as stored when it is', async () => {
  await loadShop(t.db, { totalDocs: 900, seed: 5 });
  const first = await commit({ repo, uri: t.dbUri, message: 'first', useServerHashes: true, ...FIXED });
  expect(first.committed).toBe(true);
  const path = 'collections/orders/collection.json';

  // Commit a hand edit: the same collection.json as compact JSON.
  const r = await SnapshotRepository.open(repo);
  const files = await r.listFiles(first.commit!);
  const original = files.get(path)!;
  const stored = await r.readBlob(original);
  const compact = await r.writeBlob(JSON.stringify(JSON.parse(stored.toString('utf8'))));
  files.set(path, compact);
  const tree = await r.writeTree([...files].map(([p, oid]) => ({ path: p, oid })));
  const head = await r.head();
  const edited = await r.writeCommit({ tree, parents: [first.commit!], message: 'compact orders/collection.json\n', author: { name: 'Test', email: 'test@example.com', timestamp: 1735787045, timezoneOffset: 0 } });
  await r.updateRef(head.ref, edited, first.commit);

  // Nothing changed in the database: orders is taken from HEAD, its file written as dbsnap writes it.
  const second = await commit({ repo, uri: t.dbUri, message: 'second', useServerHashes: true, ...FIXED });
  expect(second.committed).toBe(true);
  expect(second.collections.find((c) => c.name === 'orders')).toMatchObject({ source: 'server-hash', documents: first.collections.find((c) => c.name === 'orders')!.documents });
  const again = await r.listFiles(second.commit!);
  expect(again.get(path)).toBe(original);
  expect(await r.treeOid(second.commit!, 'collections/orders/parts')).toBe(await r.treeOid(first.commit!, 'collections/orders/parts'));

  // And with the file as dbsnap writes it, the next commit is no commit at all.
  const third = await commit({ repo, uri: t.dbUri, message: 'third', useServerHashes: true, ...FIXED });
  expect(third.committed).toBe(false);
  expect(third.tree).toBe((await r.readCommit(second.commit!)).tree);
  await r.close();
});
