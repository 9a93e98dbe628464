import { BSON, Int32, type Document } from 'bson';
import { describe, expect, it } from 'vitest';
import { partFileText, writeDocument } from '../../src/canonical/document-writer.js';
import { partEntries, partEntryPair } from '../../src/canonical/part-entries.js';

describe('part entries', () => {
  it('cuts a part into its documents without decoding them, and decodes each exactly on demand', () => {
    const raws = [
      BSON.serialize({ _id: new Int32(1), a: { nested: [1, { x: '  },\n  {' }] } }),
      BSON.serialize({ _id: 'two', b: [] }),
      BSON.serialize({ _id: { k: 3, j: 'x' } }),
    ];
    const texts = raws.map((r) => writeDocument(r).text);
    const entries = partEntries(partFileText(texts), 'p.json')!;
    expect(entries.map((e) => e.id)).toEqual([new Int32(1), 'two', { k: new Int32(3), j: 'x' }]);
    entries.forEach((e, i) => {
      expect(`  {\n${e.text}\n  }`).toBe(texts[i]);
      expect(Buffer.from(BSON.serialize(e.doc())).equals(Buffer.from(raws[i]!))).toBe(true);
    });
    expect(partEntries('[]\n', 'empty.json')).toEqual([]);
    expect(partEntries('[{"_id": 1}]', 'hand-written.json')).toBeNull();
  });
});

describe('partEntryPair', () => {
  // A deterministic generator, so a failure names its seed.
  const rng = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const textOf = (doc: Document) => writeDocument(BSON.serialize(doc)).text;
  const bytesOf = (docs: Document[]) => Buffer.from(partFileText(docs.map(textOf)), 'utf8');
  const doc = (id: number, v: string) => ({ _id: new Int32(id), v, nested: { s: '  },\n  {', n: [id] } });

  it('keeps only the documents between the common first and last ones, exactly as partEntries reads them', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed);
      const n = Math.floor(r() * 12);
      const before = Array.from({ length: n }, (_, i) => doc(i * 10, `v${i}`));
      let after = before.map((d) => ({ ...d }));
      for (let edits = 1 + Math.floor(r() * 3); edits > 0; edits--) {
        const at = Math.floor(r() * (after.length + 1));
        const kind = r();
        if (kind < 0.4 && at < after.length) after[at] = { ...after[at]!, v: `changed ${seed} ü` };
        else if (kind < 0.7 && at < after.length) after.splice(at, 1);
        else {
          const id = at === 0 ? -1 - Math.floor(r() * 5) : (after[at - 1]!._id as Int32).value + 1;
          if (at < after.length && id >= (after[at]!._id as Int32).value) continue;
          after.splice(at, 0, doc(id, 'new'));
        }
      }
      if (after.length === 0) after = [doc(5, 'only')];
      if (before.length === 0) continue;
      const x = bytesOf(before);
      const y = bytesOf(after);
      const pair = partEntryPair({ bytes: x, source: 'a.json' }, { bytes: y, source: 'b.json' })!;
      expect(pair, `seed ${seed}`).not.toBeNull();
      const fullX = partEntries(x.toString('utf8'), 'a.json')!;
      const fullY = partEntries(y.toString('utf8'), 'b.json')!;
      const [px, py] = pair;
      // The kept documents are one run of each side, at the same distance from its start and from its end.
      const start = fullX.findIndex((e) => e.text === px[0]?.text);
      const skippedFront = px.length > 0 ? start : py.length > 0 ? fullY.findIndex((e) => e.text === py[0]!.text) : Math.min(fullX.length, fullY.length);
      expect(px.map((e) => e.text), `seed ${seed}`).toEqual(fullX.slice(skippedFront, skippedFront + px.length).map((e) => e.text));
      expect(py.map((e) => e.text), `seed ${seed}`).toEqual(fullY.slice(skippedFront, skippedFront + py.length).map((e) => e.text));
      const skippedBack = fullX.length - skippedFront - px.length;
      expect(fullY.length - skippedFront - py.length, `seed ${seed}`).toBe(skippedBack);
      // What is left out is equal on both sides, document for document.
      expect(fullX.slice(0, skippedFront).map((e) => e.text)).toEqual(fullY.slice(0, skippedFront).map((e) => e.text));
      expect(fullX.slice(fullX.length - skippedBack).map((e) => e.text)).toEqual(fullY.slice(fullY.length - skippedBack).map((e) => e.text));
      // Nothing equal is left at the edges of what is kept (the cut is as tight as it can be).
      if (px.length > 0 && py.length > 0) {
        expect(px[0]!.text, `seed ${seed}`).not.toBe(py[0]!.text);
        expect(px.at(-1)!.text, `seed ${seed}`).not.toBe(py.at(-1)!.text);
      }
      // Each kept entry decodes as partEntries decodes it, and names its document's place in the part.
      for (const [k, e] of px.entries()) {
        expect(e.id).toEqual(fullX[skippedFront + k]!.id);
        expect(Buffer.from(BSON.serialize(e.doc())).equals(Buffer.from(BSON.serialize(fullX[skippedFront + k]!.doc())))).toBe(true);
      }
    }
  });

  it('keeps one document per side for one changed document in the middle of a part', () => {
    const before = Array.from({ length: 40 }, (_, i) => doc(i, `v${i}`));
    const after = before.map((d, i) => (i === 17 ? { ...d, v: 'changed' } : d));
    const [px, py] = partEntryPair({ bytes: bytesOf(before), source: 'a' }, { bytes: bytesOf(after), source: 'b' })!;
    expect(px.map((e) => e.id)).toEqual([new Int32(17)]);
    expect(py.map((e) => e.id)).toEqual([new Int32(17)]);
    expect(py[0]!.doc().v).toBe('changed');
  });

  it('names the document of a part that cannot be read by its place in the whole part', () => {
    const before = Array.from({ length: 5 }, (_, i) => doc(i, `v${i}`));
    const good = bytesOf(before);
    const bad = Buffer.from(good.toString('utf8').replace('"v": "v3"', '"v": v3'), 'utf8');
    const [, py] = partEntryPair({ bytes: good, source: 'a.json' }, { bytes: bad, source: 'b.json' })!;
    expect(py).toHaveLength(1);
    expect(() => py[0]!.doc()).toThrow(/b\.json, document 3/);
  });

  it('is null for bytes not laid out as the writer lays them out (the caller reads the parts whole)', () => {
    const good = bytesOf([doc(1, 'a'), doc(2, 'b')]);
    const variants = [Buffer.from('[]\n'), Buffer.from('[{"_id": 1}]'), Buffer.from(good.toString('utf8').replace('\n  ]\n', '\n]\n').slice(0, -1)), Buffer.from(good.toString('utf8').replace('    "_id"', '   "_id"'))];
    for (const [k, v] of variants.entries()) {
      expect(partEntryPair({ bytes: good, source: 'a' }, { bytes: v, source: 'b' }), `variant ${k}`).toBeNull();
      expect(partEntryPair({ bytes: v, source: 'b' }, { bytes: good, source: 'a' }), `variant ${k}`).toBeNull();
    }
  });
});
