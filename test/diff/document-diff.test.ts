import { Binary, Decimal128, Double, Int32, Long, ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { bsonEquals, diffDocumentFields, type FieldChange } from '../../src/diff/index.js';

function diff(a: Record<string, unknown>, b: Record<string, unknown>, marker?: (v: unknown) => boolean): FieldChange[] {
  const out: FieldChange[] = [];
  diffDocumentFields(a, b, '', out, { encryptedMarker: marker });
  return out;
}

describe('bsonEquals', () => {
  it('counts type, value and field order', () => {
    expect(bsonEquals(new Int32(5), new Int32(5))).toBe(true);
    expect(bsonEquals(new Int32(5), new Double(5))).toBe(false);
    expect(bsonEquals(new Double(0), new Double(-0))).toBe(false);
    expect(bsonEquals(new Double(NaN), new Double(NaN))).toBe(true);
    expect(bsonEquals(Long.fromNumber(5), Long.fromNumber(5))).toBe(true);
    expect(bsonEquals(Decimal128.fromString('1.0'), Decimal128.fromString('1.00'))).toBe(false);
    expect(bsonEquals({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(false);
    expect(bsonEquals({ a: undefined }, {})).toBe(false);
    expect(bsonEquals({ a: null }, { a: undefined })).toBe(false);
    const oid = new ObjectId('68a7000000000000000000aa');
    expect(bsonEquals({ x: [oid, new Date(5)] }, { x: [new ObjectId(oid.id), new Date(5)] })).toBe(true);
    expect(bsonEquals(new Binary(Buffer.from('ab'), 0), new Binary(Buffer.from('ab'), 5))).toBe(false);
  });
});

describe('diffDocumentFields', () => {
  it('reports added, removed and changed fields with nested paths', () => {
    const a = { _id: 1, name: 'Ann', address: { city: 'Bern', zip: '3000' }, old: true };
    const b = { _id: 1, name: 'Ann', address: { city: 'Zürich', zip: '3000', street: 'Main' }, nick: 'A' };
    expect(diff(a, b)).toEqual([
      { path: 'old', kind: 'removed', old: true },
      { path: 'address.city', kind: 'changed', old: 'Bern', new: 'Zürich' },
      { path: 'address.street', kind: 'added', new: 'Main' },
      { path: 'nick', kind: 'added', new: 'A' },
    ]);
  });

  it('calls out type changes, Int32 -> Double included', () => {
    const price = Decimal128.fromString('19.99');
    expect(diff({ price, qty: new Int32(5) }, { price: '19.99', qty: new Double(5) })).toEqual([
      { path: 'price', kind: 'typeChanged', old: price, new: '19.99', oldType: 'Decimal128', newType: 'String' },
      { path: 'qty', kind: 'typeChanged', old: new Int32(5), new: new Double(5), oldType: 'Int32', newType: 'Double' },
    ]);
  });

  it('reports a field order change of an otherwise equal document', () => {
    expect(diff({ a: 1, b: 2, c: { x: 1, y: 2 } }, { b: 2, a: 1, c: { y: 2, x: 1 } })).toEqual([
      { path: 'c', kind: 'reordered', old: ['x', 'y'], new: ['y', 'x'] },
      { path: '', kind: 'reordered', old: ['a', 'b', 'c'], new: ['b', 'a', 'c'] },
    ]);
  });

  it('diffs equal-length arrays per index', () => {
    const items = (q: number) => [{ sku: 'a', qty: new Int32(1) }, { sku: 'b', qty: new Int32(1) }, { sku: 'c', qty: new Int32(q) }];
    expect(diff({ items: items(1) }, { items: items(3) })).toEqual([
      { path: 'items[2].qty', kind: 'changed', old: new Int32(1), new: new Int32(3) },
    ]);
  });

  it('diffs arrays of different lengths by LCS, pairing replaced elements', () => {
    expect(diff({ tags: ['a', 'b', 'c', 'd'] }, { tags: ['a', 'x', 'c', 'd', 'e'] })).toEqual([
      { path: 'tags[1]', kind: 'changed', old: 'b', new: 'x' },
      { path: 'tags[4]', kind: 'added', new: 'e' },
    ]);
    expect(diff({ tags: ['a', 'b', 'c'] }, { tags: ['b', 'c'] })).toEqual([
      { path: 'tags[0]', kind: 'removed', old: 'a' },
    ]);
    const items = [{ sku: 'a', qty: 1 }, { sku: 'b', qty: 1 }];
    expect(diff({ items }, { items: [{ sku: 'z', qty: 9 }, { sku: 'a', qty: 1 }, { sku: 'b', qty: 2 }] })).toEqual([
      { path: 'items[0]', kind: 'added', new: { sku: 'z', qty: 9 } },
      { path: 'items[2].qty', kind: 'changed', old: 1, new: 2 },
    ]);
  });

  it('replaces long arrays of different lengths whole', () => {
    const a = Array.from({ length: 201 }, (_, i) => i);
    const b = [...a, 201];
    expect(diff({ a }, { a: b })).toEqual([{ path: 'a', kind: 'changed', old: a, new: b }]);
  });

  it('hides encrypted values', () => {
    const enc = (s: string) => new Binary(Buffer.from(s), 6);
    const marker = (v: unknown) => v instanceof Binary && v.sub_type === 6;
    expect(diff({ ssn: enc('one'), card: enc('x') }, { ssn: enc('two'), pin: enc('y') }, marker)).toEqual([
      { path: 'card', kind: 'removed', encrypted: true },
      { path: 'ssn', kind: 'changed', encrypted: true },
      { path: 'pin', kind: 'added', encrypted: true },
    ]);
  });

  it('quotes keys that a dotted path would make ambiguous', () => {
    expect(diff({ m: { 'a.b': 1 } }, { m: { 'a.b': 2 } })).toEqual([{ path: 'm["a.b"]', kind: 'changed', old: 1, new: 2 }]);
  });
});
