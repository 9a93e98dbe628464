import { describe, expect, it } from 'vitest';
import { FIRST_PART_NAME, idBoundaryHash, PartCutter, partNameForId } from '../../src/canonical/parts.js';

function cut(ids: string[], bits = 3, max = 1 << 20) {
  const cutter = new PartCutter({ partBits: bits, maxPartBytes: max });
  const parts: { name: string; ids: string[] }[] = [];
  let current: string[] = [];
  for (const id of ids) {
    const done = cutter.push(id, `doc ${id}`.length);
    if (done) {
      expect(done.documents).toBe(current.length);
      parts.push({ name: done.name, ids: current });
      current = [];
    }
    current.push(id);
  }
  const last = cutter.finish();
  if (last) {
    expect(last.documents).toBe(current.length);
    parts.push({ name: last.name, ids: current });
  }
  return parts;
}

describe('part cutting', () => {
  const ids = Array.from({ length: 2000 }, (_, i) => String(i * 2));

  it('is stable: the boundary hash is a fixed function of the _id text', () => {
    expect(idBoundaryHash('{"$oid": "68a72cf14b78eb31b9af9e45"}')).toBe(idBoundaryHash('{"$oid": "68a72cf14b78eb31b9af9e45"}'));
    expect(partNameForId('5')).toMatch(/^[0-9a-f]{12}\.json$/);
    const parts = cut(ids);
    expect(parts.reduce((n, p) => n + p.ids.length, 0)).toBe(2000);
    // 2^3 = 8 documents per part on average.
    expect(parts.length).toBeGreaterThan(2000 / 8 / 2);
    expect(parts.length).toBeLessThan((2000 / 8) * 2);
    expect(parts[0]!.name === FIRST_PART_NAME || parts[0]!.name === partNameForId(parts[0]!.ids[0]!)).toBe(true);
  });

  it('keeps every other part when a document is inserted or deleted', () => {
    const before = cut(ids);
    const inserted = cut([...ids.slice(0, 1001), '2001x', ...ids.slice(1001)].sort((a, b) => Number.parseFloat(a) - Number.parseFloat(b)));
    const deleted = cut(ids.filter((id) => id !== '1000'));
    const key = (p: { name: string; ids: string[] }) => `${p.name}:${p.ids.join(',')}`;
    const same = (a: typeof before, b: typeof before) => a.filter((p) => b.some((q) => key(q) === key(p))).length;
    expect(same(before, inserted)).toBe(before.length - 1);
    expect(same(before, deleted)).toBeGreaterThanOrEqual(before.length - 2);
    expect(inserted.map((p) => p.name).sort()).toEqual(before.map((p) => p.name).sort());
  });

  it('cuts a part early when it grows past the byte limit', () => {
    const parts = cut(ids, 16, 100);
    for (const p of parts) expect(p.ids.map((i) => `doc ${i}`.length + 2).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(100 + 20);
    expect(new Set(parts.map((p) => p.name)).size).toBe(parts.length);
  });
});

describe('BSON order of the deprecated DBPointer', () => {
  it('sorts after regular expressions and before Code, by namespace length first', async () => {
    const { compareBsonValues } = await import('../../src/canonical/bson-order.js');
    const { DbPointer } = await import('../../src/canonical/bson-special-values.js');
    const { BSONRegExp, Code, ObjectId } = await import('bson');
    const oid = new ObjectId('68a72cf14b78eb31b9af9e46');
    const short = new DbPointer('b.c', oid);
    const long = new DbPointer('a.cc', oid);
    expect(compareBsonValues(new BSONRegExp('x', ''), short)).toBe(-1);
    expect(compareBsonValues(short, new Code('x'))).toBe(-1);
    expect(compareBsonValues(short, long)).toBe(-1);
    expect(compareBsonValues(long, new DbPointer('a.cc', oid))).toBe(0);
  });
});
