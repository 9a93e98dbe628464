/**
 * encodeCollection with `known` parts (what the last commit made): a part whose documents arrive
 * with the same BSON bytes is taken as stored. Whatever the edits, the result must be exactly what
 * encoding every document gives, and a stored file that is missing or not what was recorded must
 * never be used.
 */
import { BSON, Int32, type Document } from 'bson';
import { describe, expect, it } from 'vitest';
import { encodeCollection, type EncodedPart, type EncodeOptions, type KnownPart, type KnownParts } from '../../src/canonical/encode-collection.js';

const rng = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);

interface Encoded {
  parts: (Omit<EncodedPart, 'text' | 'reused' | 'data'> & { data: string })[];
  reused: string[];
  documents: number;
  sha256: string;
  bsonMd5?: string;
}

/** No known parts: every part is encoded (and its print taken, as a commit takes them). */
const NONE: KnownParts = { find: () => undefined };

async function encode(raws: Uint8Array[], opts: Omit<EncodeOptions, 'known'>, known = NONE, batch = 0): Promise<Encoded> {
  const parts: Encoded['parts'] = [];
  const reused: string[] = [];
  // Documents one at a time, or in batches as a server reply brings them.
  const docs =
    batch > 0
      ? (async function* () {
          for (let i = 0; i < raws.length; i += batch) yield raws.slice(i, i + batch);
        })()
      : raws;
  const r = await encodeCollection(docs, { ...opts, known }, async (p) => {
    await new Promise((resolve) => setImmediate(resolve));
    const { text: _t, reused: was, data, ...rest } = p;
    if (was) reused.push(p.name);
    parts.push({ ...rest, data: data.toString('latin1') });
  });
  return { parts, reused, documents: r.documents, sha256: r.sha256, ...(r.bsonMd5 ? { bsonMd5: r.bsonMd5 } : {}) };
}

/** The parts of an encoding as known parts, their files served by `load` (default: as encoded). */
function knownFrom(e: Encoded, load?: (p: Encoded['parts'][number]) => Promise<Uint8Array>): KnownParts & { loads: number } {
  const list: KnownPart[] = e.parts.map((p) => ({
    name: p.name,
    documents: p.documents,
    units: p.units,
    raw: p.raw!,
    bytes: p.bytes,
    sha256: p.sha256,
    id: `blob-${p.sha256}`,
    load: () => {
      out.loads++;
      return load ? load(p) : Promise.resolve(Buffer.from(p.data, 'latin1'));
    },
  }));
  const byName = new Map(list.map((k) => [k.name, k]));
  const out = { loads: 0, find: (name: string) => byName.get(name) };
  return out;
}

const doc = (id: number, r: () => number): Document => ({ _id: new Int32(id), v: 'x'.repeat(Math.floor(r() * 300)), n: id, s: 'é😀' });

function edit(before: Document[], r: () => number, seed: number): Document[] {
  const after = before.map((d) => ({ ...d }));
  for (let edits = 1 + Math.floor(r() * 4); edits > 0; edits--) {
    const at = Math.floor(r() * (after.length + 1));
    const kind = r();
    if (kind < 0.3 && at < after.length) after[at] = { ...after[at]!, v: `changed ${seed}`.repeat(1 + Math.floor(r() * 40)) };
    else if (kind < 0.5 && at < after.length) after.splice(at, 1);
    else if (kind < 0.6 && at < after.length) {
      // The same value with its fields in another order: other BSON bytes, other text.
      const { _id, v, n, s } = after[at]!;
      after[at] = { _id, n, v, s };
    } else {
      const lo = at === 0 ? -1000 : (after[at - 1]!._id as Int32).value;
      const hi = at < after.length ? (after[at]!._id as Int32).value : lo + 1000;
      if (hi - lo < 2) continue;
      after.splice(at, 0, doc(lo + 1 + Math.floor(r() * (hi - lo - 1)), r));
    }
  }
  return after;
}

describe('encodeCollection with known parts', () => {
  const opts = { partBits: 3, maxPartBytes: 2500, sortKeys: false };

  it('gives exactly what encoding every document gives, after any edits, taking unchanged parts as stored', async () => {
    let reusedParts = 0;
    let allParts = 0;
    for (let seed = 1; seed <= 150; seed++) {
      const r = rng(seed);
      const before = Array.from({ length: Math.floor(r() * 300) }, (_, i) => doc(i * 50, r));
      const after = seed % 10 === 0 ? before : edit(before, r, seed);
      const first = await encode(before.map((d) => BSON.serialize(d)), opts);
      const raws = after.map((d) => BSON.serialize(d));
      const expected = await encode(raws, opts);
      const known = knownFrom(first);
      const got = await encode(raws, opts, known, seed % 3 === 0 ? 0 : 1 + (seed % 17));
      expect({ ...got, reused: [] }, `seed ${seed}`).toEqual({ ...expected, reused: [] });
      expect(expected.reused).toEqual([]);
      // Every part taken as stored is one the first encoding made, with the same bytes.
      for (const name of got.reused) expect(first.parts.find((p) => p.name === name)!.data, `seed ${seed} ${name}`).toBe(got.parts.find((p) => p.name === name)!.data);
      if (after === before) expect(got.reused, `seed ${seed}`).toEqual(first.parts.map((p) => p.name));
      reusedParts += got.reused.length;
      allParts += got.parts.length;
    }
    // A few edits leave most parts as they were.
    expect(reusedParts / allParts).toBeGreaterThan(0.6);
  });

  it('encodes a part whose stored file is missing, damaged or not the one recorded', async () => {
    const r = rng(7);
    const before = Array.from({ length: 400 }, (_, i) => doc(i * 50, r));
    const raws = before.map((d) => BSON.serialize(d));
    const first = await encode(raws, opts);
    expect(first.parts.length).toBeGreaterThan(20);
    const bad = new Set(first.parts.filter((_, i) => i % 3 === 0).map((p) => p.name));
    const damages: ((p: Encoded['parts'][number]) => Promise<Uint8Array>)[] = [
      () => Promise.reject(new Error('no such object')),
      (p) => {
        const b = Buffer.from(p.data, 'latin1');
        b[b.length >> 1] ^= 1;
        return Promise.resolve(b);
      },
      (p) => Promise.resolve(Buffer.from(p.data.slice(0, -3) + 'x\n', 'latin1')),
    ];
    for (const [k, damage] of damages.entries()) {
      const known = knownFrom(first, (p) => (bad.has(p.name) ? damage(p) : Promise.resolve(Buffer.from(p.data, 'latin1'))));
      const got = await encode(raws, opts, known, 64);
      expect({ ...got, reused: [] }, `damage ${k}`).toEqual({ ...first, reused: [] });
      expect(got.reused.length, `damage ${k}`).toBe(first.parts.length - bad.size);
      expect(got.reused.some((n) => bad.has(n)), `damage ${k}`).toBe(false);
    }
    // A record that lies about what the documents were (another part's print) is never matched.
    const swapped = knownFrom({ ...first, parts: first.parts.map((p, i) => ({ ...p, raw: first.parts[(i + 1) % first.parts.length]!.raw })) });
    const got = await encode(raws, opts, swapped);
    expect({ ...got, reused: [] }).toEqual({ ...first, reused: [] });
    expect(got.reused).toEqual([]);
  });

  it('is not used with a transform (the documents written are not the ones read)', async () => {
    const raws = Array.from({ length: 100 }, (_, i) => BSON.serialize({ _id: new Int32(i), v: 'a' }));
    const first = await encode(raws, opts);
    const known = knownFrom(first);
    const transform = (d: Uint8Array) => ({ ...BSON.deserialize(d), v: 'b' });
    const got = await encode(raws, { ...opts, transform }, known);
    expect(got.reused).toEqual([]);
    expect(known.loads).toBe(0);
    expect(got.parts.every((p) => p.raw === undefined)).toBe(true);
    expect(got.parts[0]!.data).toContain('"v": "b"');
  });
});
