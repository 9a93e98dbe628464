import { createHash } from 'node:crypto';
import { BSON, Int32, type Document } from 'bson';
import { describe, expect, it } from 'vitest';
import { readPartFile } from '../../src/canonical/document-reader.js';
import { partFileText, writeDocument } from '../../src/canonical/document-writer.js';
import { partEntries } from '../../src/canonical/part-entries.js';
import { diffCollection, diffSnapshots, type CollectionSide, type PartRef } from '../../src/diff/index.js';
import { makeSide } from './sides.js';

const user = (i: number, extra: Document = {}): Document => ({ _id: new Int32(i), name: `user${i}`, qty: new Int32(i % 7), ...extra });
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const every250 = (d: Document) => (d._id as Int32).value % 250 === 0;

describe('diffCollection: cost follows the change', () => {
  it('loads only the one part per side that holds the changed document', async () => {
    const loads: string[] = [];
    const oldDocs = range(10_000).map((i) => user(i));
    const newDocs = oldDocs.map((d, i) => (i === 5_123 ? user(i, { name: 'changed' }) : d));
    const from = makeSide('users', oldDocs, { startsPart: every250, loads, label: 'from' });
    const to = makeSide('users', newDocs, { startsPart: every250, loads, label: 'to' });
    expect(from.parts).toHaveLength(40);

    const delta = await diffCollection(from, to);
    expect(loads).toEqual(['from:p-5000', 'to:p-5000']);
    expect(delta.status).toBe('changed');
    expect(delta.counts).toEqual({ added: 0, removed: 0, changed: 1 });
    expect(delta.documents).toEqual([
      { kind: 'changed', id: new Int32(5_123), fields: [{ path: 'name', kind: 'changed', old: 'user5123', new: 'changed' }] },
    ]);
  });

  it('loads nothing when both sides are equal', async () => {
    const loads: string[] = [];
    const docs = range(1000).map((i) => user(i));
    const delta = await diffCollection(
      makeSide('users', docs, { startsPart: every250, loads }),
      makeSide('users', docs, { startsPart: every250, loads }),
    );
    expect(loads).toEqual([]);
    expect(delta.status).toBe('unchanged');
  });

  it('loads only the new parts when documents were appended as parts of their own', async () => {
    const loads: string[] = [];
    const from = makeSide('users', range(1000).map((i) => user(i)), { startsPart: every250, loads, label: 'from' });
    const to = makeSide('users', range(1500).map((i) => user(i)), { startsPart: every250, loads, label: 'to' });
    const delta = await diffCollection(from, to, { limit: 1000 });
    expect(loads).toEqual(['to:p-1000', 'to:p-1250']);
    expect(delta.counts).toEqual({ added: 500, removed: 0, changed: 0 });
    expect(delta.documents[0]).toMatchObject({ kind: 'added', id: new Int32(1000) });
  });

  it('resynchronises after an inserted document that starts a new part', async () => {
    const loads: string[] = [];
    // Even ids only on the old side; the new side gets id 601, which starts its own part.
    const cut = (d: Document) => every250(d) || (d._id as Int32).value === 601;
    const oldDocs = range(500).map((i) => user(i * 2));
    const newDocs = [...oldDocs.slice(0, 301), user(601), ...oldDocs.slice(301)];
    const from = makeSide('users', oldDocs, { startsPart: cut, loads, label: 'from' });
    const to = makeSide('users', newDocs, { startsPart: cut, loads, label: 'to' });
    const delta = await diffCollection(from, to);
    expect(delta.counts).toEqual({ added: 1, removed: 0, changed: 0 });
    expect(delta.documents).toEqual([{ kind: 'added', id: new Int32(601), doc: user(601) }]);
    expect(loads).toEqual(['from:p-500', 'to:p-500', 'to:p-601']);
  });

  it('finds added, removed and changed documents across different part boundaries', async () => {
    const oldDocs = range(300).map((i) => user(i));
    const newDocs = range(300)
      .filter((i) => i % 50 !== 7)
      .map((i) => (i % 60 === 3 ? user(i, { flag: true }) : user(i)));
    newDocs.push(user(1000), user(1001));
    const delta = await diffCollection(
      makeSide('users', oldDocs, { startsPart: (d) => (d._id as Int32).value % 40 === 0 }),
      makeSide('users', newDocs, { startsPart: (d) => (d._id as Int32).value % 33 === 0 }),
      { limit: 1000 },
    );
    expect(delta.counts).toEqual({ added: 2, removed: 6, changed: 5 });
    const ids = delta.documents.map((d) => `${d.kind[0]}${(d.id as Int32).value}`);
    expect(ids).toEqual(['c3', 'r7', 'r57', 'c63', 'r107', 'c123', 'r157', 'c183', 'r207', 'c243', 'r257', 'a1000', 'a1001']);
  });
});

describe('diffCollection: limit', () => {
  it('keeps `limit` changes and counts all of them exactly', async () => {
    const oldDocs = range(1000).map((i) => user(i));
    const newDocs = oldDocs.map((d, i) => (i % 2 === 0 ? user(i, { name: 'x' }) : d));
    const delta = await diffCollection(
      makeSide('users', oldDocs, { startsPart: every250 }),
      makeSide('users', newDocs, { startsPart: every250 }),
      { limit: 10 },
    );
    expect(delta.counts).toEqual({ added: 0, removed: 0, changed: 500 });
    expect(delta.documents).toHaveLength(10);
    expect(delta.truncated).toBe(490);
  });

  it('counts the documents of an added collection without loading parts past the limit', async () => {
    const loads: string[] = [];
    const delta = await diffCollection(null, makeSide('users', range(1000).map((i) => user(i)), { startsPart: every250, loads }), {
      limit: 3,
    });
    expect(delta.status).toBe('added');
    expect(delta.counts).toEqual({ added: 1000, removed: 0, changed: 0 });
    expect(delta.documents.map((d) => d.kind)).toEqual(['added', 'added', 'added']);
    expect(delta.truncated).toBe(997);
    expect(loads).toEqual(['users:p-first']);
  });
});

describe('diffCollection: collections, indexes and options', () => {
  it('reports a removed collection', async () => {
    const delta = await diffCollection(makeSide('old', [user(1), user(2)]), null);
    expect(delta.status).toBe('removed');
    expect(delta.type).toEqual({ old: 'collection', new: null });
    expect(delta.counts).toEqual({ added: 0, removed: 2, changed: 0 });
    expect(delta.indexes.removed).toEqual([{ v: 2, key: { _id: 1 }, name: '_id_' }]);
  });

  it('matches indexes by name: a new unique index, a removed and a changed one', async () => {
    const idIndex = { v: 2, key: { _id: 1 }, name: '_id_' };
    const from = makeSide('users', [user(1)], {
      meta: { indexes: [idIndex, { v: 2, key: { age: 1 }, name: 'age_1' }, { v: 2, key: { city: 1 }, name: 'city_1' }] },
    });
    const to = makeSide('users', [user(1)], {
      meta: {
        indexes: [
          idIndex,
          { v: 2, key: { city: 1 }, name: 'city_1', sparse: true },
          { v: 2, key: { email: 1 }, name: 'email_1', unique: true },
        ],
      },
    });
    const delta = await diffCollection(from, to);
    expect(delta.status).toBe('changed');
    expect(delta.indexes).toEqual({
      added: [{ v: 2, key: { email: 1 }, name: 'email_1', unique: true }],
      removed: [{ v: 2, key: { age: 1 }, name: 'age_1' }],
      changed: [
        {
          name: 'city_1',
          old: { v: 2, key: { city: 1 }, name: 'city_1' },
          new: { v: 2, key: { city: 1 }, name: 'city_1', sparse: true },
          fields: [{ path: 'sparse', kind: 'added', new: true }],
        },
      ],
    });
  });

  it('reports a validator change', async () => {
    const validator = (required: string[]) => ({ $jsonSchema: { bsonType: 'object', required } });
    const delta = await diffCollection(
      makeSide('users', [], { meta: { options: { validator: validator(['name']) } } }),
      makeSide('users', [], { meta: { options: { validator: validator(['name', 'email']), validationLevel: 'strict' } } }),
    );
    expect(delta.status).toBe('changed');
    expect(delta.options).toEqual([
      { path: 'validator.$jsonSchema.required[1]', kind: 'added', new: 'email' },
      { path: 'validationLevel', kind: 'added', new: 'strict' },
    ]);
  });

  it('reports a view pipeline change and a type change', async () => {
    const view = (min: number) => ({
      type: 'view' as const,
      options: { viewOn: 'users', pipeline: [{ $match: { age: { $gte: min } } }, { $project: { name: 1 } }] },
      indexes: [],
    });
    const delta = await diffCollection(makeSide('adults', [], { meta: view(18) }), makeSide('adults', [], { meta: view(21) }));
    expect(delta.options).toEqual([{ path: 'pipeline[0].$match.age.$gte', kind: 'changed', old: 18, new: 21 }]);
    const retyped = await diffCollection(makeSide('adults', [user(1)]), makeSide('adults', [], { meta: view(18) }));
    expect(retyped.type).toEqual({ old: 'collection', new: 'view' });
    expect(retyped.counts.removed).toBe(1);
  });

  it('rejects a side whose documents are out of _id order', async () => {
    const bad = makeSide('users', [user(2), user(1)]);
    await expect(diffCollection(makeSide('users', [user(1)]), bad)).rejects.toMatchObject({ code: 'ECORRUPT' });
  });
});

describe('diffSnapshots', () => {
  it('matches collections by name and totals the counts', async () => {
    const d = await diffSnapshots(
      [makeSide('a', [user(1)]), makeSide('b', [user(1)]), makeSide('gone', [user(1), user(2)])],
      [makeSide('new', [user(1)]), makeSide('b', [user(1)]), makeSide('a', [user(1, { x: 1 })])],
      { fromLabel: 'v1', toLabel: 'v2' },
    );
    expect(d.from).toBe('v1');
    expect(d.collections.map((c) => `${c.name}:${c.status}`)).toEqual(['a:changed', 'b:unchanged', 'gone:removed', 'new:added']);
    expect(d.totals).toEqual({
      collections: { added: 1, removed: 1, changed: 1, unchanged: 1 },
      documents: { added: 1, removed: 2, changed: 1 },
    });
  });
});

describe('diffCollection: documents the reader returns as a Map', () => {
  // A document whose integer-like key comes after another key cannot keep its order in a plain
  // object, so the reader returns it as a Map; its _id must still be reported.
  const partOf = (docs: Map<string, unknown>[], entries: boolean): PartRef => {
    const text = partFileText(docs.map((d) => writeDocument(BSON.serialize(d)).text));
    return {
      name: 'p-first',
      blobId: createHash('sha1').update(text).digest('hex'),
      count: docs.length,
      load: async () => readPartFile(text),
      ...(entries ? { loadEntries: async () => partEntries(text, 'test')! } : {}),
    };
  };
  const side = (docs: Map<string, unknown>[], entries: boolean): CollectionSide => ({
    name: 'odd',
    meta: { type: 'collection', options: {}, indexes: [] },
    parts: docs.length ? [partOf(docs, entries)] : [],
  });
  const doc = (id: number, b: number) => new Map<string, unknown>([['_id', new Int32(id)], ['b', new Int32(b)], ['2', 'two']]);

  for (const entries of [false, true]) {
    it(`reports the _id of added, removed and changed documents (${entries ? 'entries from text' : 'decoded parts'})`, async () => {
      expect(readPartFile(partFileText([writeDocument(BSON.serialize(doc(1, 1))).text]))[0]).toBeInstanceOf(Map);
      const delta = await diffCollection(side([doc(1, 1), doc(2, 1)], entries), side([doc(2, 2), doc(3, 1)], entries));
      expect(delta.counts).toEqual({ added: 1, removed: 1, changed: 1 });
      expect(delta.documents.map((d) => [d.kind, d.id])).toEqual([
        ['removed', new Int32(1)],
        ['changed', new Int32(2)],
        ['added', new Int32(3)],
      ]);
      // Their fields are compared too (a Map is a document, not a value without fields).
      expect(delta.documents[1]).toMatchObject({ fields: [{ path: 'b', kind: 'changed', old: new Int32(1), new: new Int32(2) }] });
    });
  }
});

describe('diffCollection: parts compared by their bytes', () => {
  const text = (d: Document) => writeDocument(BSON.serialize(d)).text;
  interface Reads {
    calls: string[];
    outstanding: number;
    most: number;
  }
  /** Parts cut where `_id % 50 === 0`, named by their first `_id` as the real cutter names them. */
  const sideOf = (label: string, docs: Document[], mode: 'load' | 'entries' | 'bytes', reads: Reads, size?: (name: string) => number | undefined, fail?: string): CollectionSide => {
    const groups: { name: string; docs: Document[] }[] = [];
    for (const d of docs) {
      const id = (d._id as Int32).value;
      if (groups.length === 0 || id % 50 === 0) groups.push({ name: groups.length === 0 ? 'p-first' : `p-${id}`, docs: [] });
      groups.at(-1)!.docs.push(d);
    }
    const parts = groups.map((g): PartRef => {
      const partText = partFileText(g.docs.map(text));
      return {
        name: g.name,
        blobId: createHash('sha1').update(partText).digest('hex'),
        count: g.docs.length,
        load: async () => readPartFile(partText),
        ...(mode !== 'load' ? { loadEntries: async () => partEntries(partText, `${label}/${g.name}`)! } : {}),
        ...(mode === 'bytes'
          ? {
              size: size?.(g.name),
              loadBytes: async () => {
                reads.calls.push(`${label}:${g.name}`);
                reads.most = Math.max(reads.most, ++reads.outstanding);
                await new Promise((r) => setTimeout(r, 1));
                reads.outstanding--;
                if (g.name === fail) throw new Error(`cannot read ${label}:${g.name}`);
                return { bytes: Buffer.from(partText, 'utf8'), source: `${label}/${g.name}` };
              },
            }
          : {}),
      };
    });
    return { name: 'c', meta: { type: 'collection', options: {}, indexes: [] }, parts };
  };
  const rng = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const edited = (seed: number) => {
    const r = rng(seed);
    const before = Array.from({ length: 600 }, (_, i) => ({ _id: new Int32(i * 2), v: `v${i}`, n: new Int32(i % 9) }));
    const after: Document[] = [];
    for (const d of before) {
      const x = r();
      if (x < 0.01) continue; // removed
      after.push(x < 0.03 ? { ...d, v: `changed ${seed}` } : d);
      if (x > 0.985) after.push({ _id: new Int32((d._id as Int32).value + 1), v: 'added' });
    }
    return { before, after };
  };
  const fresh = (): Reads => ({ calls: [], outstanding: 0, most: 0 });

  it('finds the same changes whether parts are read whole, as entries, or compared byte for byte', async () => {
    for (let seed = 1; seed <= 25; seed++) {
      const { before, after } = edited(seed);
      const deltas = [];
      for (const mode of ['load', 'entries', 'bytes'] as const) {
        const reads = fresh();
        deltas.push(await diffCollection(sideOf('from', before, mode, reads, () => 3000), sideOf('to', after, mode, reads, () => 3000), { limit: 10_000 }));
        if (mode === 'bytes') {
          // Every part is read at most once, and only where the two sides' blobs differ.
          expect(new Set(reads.calls).size, `seed ${seed}`).toBe(reads.calls.length);
          expect(reads.calls.length, `seed ${seed}`).toBeGreaterThan(0);
        }
      }
      expect(deltas[0]!.counts.changed + deltas[0]!.counts.added + deltas[0]!.counts.removed, `seed ${seed}`).toBeGreaterThan(0);
      expect(deltas[1], `seed ${seed}`).toEqual(deltas[0]);
      expect(deltas[2], `seed ${seed}`).toEqual(deltas[0]);
    }
  });

  it('reads the next differing pairs ahead within a budget of parts and bytes, and none whose size is unknown', async () => {
    const { before, after } = edited(7);
    const most = async (size?: (name: string) => number | undefined) => {
      const reads = fresh();
      await diffCollection(sideOf('from', before, 'bytes', reads, size), sideOf('to', after, 'bytes', reads, size));
      return reads.most;
    };
    expect(await most(() => undefined)).toBe(2);
    expect(await most(() => 3 * 1024 * 1024)).toBeLessThanOrEqual(4);
    expect(await most(() => 1000)).toBeGreaterThan(4);
    expect(await most(() => 1000)).toBeLessThanOrEqual(2 * 9);
  });

  it('fails with the read error of a part read ahead, when the merge comes to it', async () => {
    const { before, after } = edited(7);
    const reads = fresh();
    const from = sideOf('from', before, 'bytes', reads, () => 1000);
    const changed = from.parts.filter((p, i) => p.blobId !== sideOf('to', after, 'bytes', fresh(), () => 1000).parts[i]?.blobId);
    const victim = changed.at(-1)!.name;
    const to = sideOf('to', after, 'bytes', reads, () => 1000, victim);
    await expect(diffCollection(from, to)).rejects.toThrow(`cannot read to:${victim}`);
  });
});
