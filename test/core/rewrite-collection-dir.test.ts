/**
 * A collection unchanged since HEAD keeps HEAD's part list: rewriteCollectionDir copies it from
 * the stored collection.json instead of parsing and writing it again, and must give exactly the
 * bytes the parse-and-write way gives.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BSON, Int32, ObjectId } from 'bson';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { collectionEntryBytes, defaultConfig, type CollectionEntry } from '../../src/canonical/format.js';
import { collectionEntry, rewriteCollectionDir, writeCollection, writeCollectionDir, type CollectionSpec } from '../../src/core/snapshot-writer.js';
import { SnapshotRepository } from '../../src/store/index.js';

let dir = '';
let repo: SnapshotRepository;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dbsnap-rewrite-'));
  repo = (await SnapshotRepository.init(dir)).repo;
});
afterEach(async () => {
  vi.restoreAllMocks();
  await repo.close();
  await rm(dir, { recursive: true, force: true });
});

const idIndex = { v: 2, key: { _id: 1 }, name: '_id_' };
const spec = (extra: Partial<CollectionSpec> = {}): CollectionSpec => ({ name: 'orders', type: 'collection', options: {}, indexes: [idIndex], ...extra });
const docs = (n: number) => Array.from({ length: n }, (_, i) => BSON.serialize({ _id: new Int32(i), note: `order ${i} ü`, ref: new ObjectId('68a72cf14b78eb31b9af9e45') }));
const config = { ...defaultConfig(), partBits: 3 };

/** The collection.json blob and tree a collection's directory holds. */
async function dirOf(tree: string): Promise<{ bytes: Buffer; oid: string; parts: string | null }> {
  const entries = await repo.readTree(tree);
  const oid = entries.find((e) => e.name === 'collection.json')!.oid;
  return { bytes: await repo.readBlob(oid), oid, parts: entries.find((e) => e.name === 'parts')?.oid ?? null };
}

/** What writeCollectionDir makes from the stored file parsed, with `next`'s type, options and indexes. */
async function parsedWay(stored: Buffer, next: CollectionSpec) {
  const e = JSON.parse(stored.toString('utf8')) as CollectionEntry;
  return collectionEntryBytes(collectionEntry(next, e, e.parts));
}

describe('rewriteCollectionDir', () => {
  for (const n of [0, 1, 200]) {
    it(`keeps the stored file and tree when nothing changed, and writes what the parsing way writes when indexes or options did (${n} documents)`, async () => {
      const first = await writeCollection(repo, spec(), docs(n), config);
      const stored = await dirOf(first.tree);
      if (n === 200) expect(first.record.parts).toBeGreaterThan(5);

      const writes = vi.spyOn(repo, 'writeBlob');
      const same = (await rewriteCollectionDir(repo, spec(), { bytes: stored.bytes, oid: stored.oid }, stored.parts))!;
      expect(writes).not.toHaveBeenCalled();
      expect(same).toEqual(first);

      const changed = spec({ options: { validator: { qty: { $gte: 0 } } }, indexes: [idIndex, { v: 2, key: { note: 1 }, name: 'note_1' }] });
      const next = (await rewriteCollectionDir(repo, changed, { bytes: stored.bytes, oid: stored.oid }, stored.parts))!;
      const written = await dirOf(next.tree);
      expect(written.bytes.equals(await parsedWay(stored.bytes, changed))).toBe(true);
      expect(written.bytes.equals(stored.bytes)).toBe(false);
      expect(written.parts).toBe(stored.parts);
      expect(next.record).toEqual(first.record);
      // The same tree as the parsing way's.
      const e = JSON.parse(stored.bytes.toString('utf8')) as CollectionEntry;
      expect(next.tree).toBe((await writeCollectionDir(repo, collectionEntry(changed, e, e.parts), stored.parts)).tree);
    });
  }

  it('is null for a collection.json not laid out as dbsnap writes it (the caller parses it)', async () => {
    const first = await writeCollection(repo, spec(), docs(50), config);
    const stored = await dirOf(first.tree);
    const text = stored.bytes.toString('utf8');
    const variants = [
      JSON.stringify(JSON.parse(text)),
      text.replace('\n  "parts": [', '\n  "parts":  ['),
      text.slice(0, -1),
      `${text}\n`,
      text.replace(/\n {2}\]\n\}\n$/, '\n  ],\n  "extra": 1\n}\n'),
    ];
    for (const [k, v] of variants.entries()) {
      const bytes = Buffer.from(v, 'utf8');
      expect(await rewriteCollectionDir(repo, spec(), { bytes, oid: await repo.writeBlob(bytes) }, stored.parts), `variant ${k}`).toBeNull();
    }
  });
});
