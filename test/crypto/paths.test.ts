import { describe, expect, it } from 'vitest';
import { fieldsForCollection, parseSensitiveFields, validateFieldPath } from '../../src/crypto/index.js';
import { outermostPaths, replaceAtPaths } from '../../src/crypto/paths.js';
import { caught } from './fixtures.js';

describe('validateFieldPath', () => {
  it('splits valid paths into segments', () => {
    expect(validateFieldPath('address.phone')).toEqual(['address', 'phone']);
    expect(validateFieldPath('items.0.note')).toEqual(['items', '0', 'note']);
    expect(validateFieldPath('_id.tenant', { allowId: true })).toEqual(['_id', 'tenant']);
  });

  it('rejects empty segments, $ prefixes, NUL and _id', () => {
    for (const path of ['', 'a..b', '.a', 'a.', '$where', 'a.$b', 'a\0b', '_id', '_id.x']) {
      expect(caught(() => validateFieldPath(path)).code, JSON.stringify(path)).toBe('EINVALIDARG');
    }
    expect(caught(() => validateFieldPath('a..b', { label: 'sensitive field "users.a..b"' })).message).toMatch(
      /^sensitive field "users\.a\.\.b": the path has an empty segment/,
    );
  });
});

describe('parseSensitiveFields', () => {
  it('validates and deduplicates the per-collection config', () => {
    const spec = parseSensitiveFields({ users: ['email', 'address.phone', 'email'], orders: ['items.note'] });
    expect(spec).toEqual({ users: ['email', 'address.phone'], orders: ['items.note'] });
    expect(fieldsForCollection(spec, 'users')).toEqual(['email', 'address.phone']);
    expect(fieldsForCollection(spec, 'products')).toEqual([]);
  });

  it('does not confuse collection names with Object.prototype members', () => {
    const spec = parseSensitiveFields(JSON.parse('{"__proto__": ["secret"], "a.b": ["x"]}'));
    expect(fieldsForCollection(spec, '__proto__')).toEqual(['secret']);
    expect(fieldsForCollection(spec, 'a.b')).toEqual(['x']);
    expect(fieldsForCollection(spec, 'constructor')).toEqual([]);
    expect(fieldsForCollection(spec, 'toString')).toEqual([]);
  });

  it('names the collection and path in errors', () => {
    expect(caught(() => parseSensitiveFields({ users: ['a..b'] })).message).toContain('"users.a..b"');
    expect(caught(() => parseSensitiveFields({ users: ['_id'] })).code).toBe('EINVALIDARG');
    expect(caught(() => parseSensitiveFields({ users: 'email' })).message).toContain('"users"');
    expect(caught(() => parseSensitiveFields({ users: [1] })).code).toBe('EINVALIDARG');
    expect(caught(() => parseSensitiveFields({ '': ['x'] })).code).toBe('EINVALIDARG');
    expect(caught(() => parseSensitiveFields(['users.email'])).code).toBe('EINVALIDARG');
    expect(caught(() => parseSensitiveFields(null)).code).toBe('EINVALIDARG');
  });
});

describe('replaceAtPaths', () => {
  it('drops paths covered by another', () => {
    expect(outermostPaths(['a.b', 'a', 'a.b', 'ab.c', 'c'])).toEqual(['a', 'ab.c', 'c']);
  });

  it('copies only along changed paths, keeps field order and a __proto__ field as data', () => {
    const doc = JSON.parse('{"z": 1, "__proto__": {"x": 1}, "a": {"b": 2, "c": [3]}, "keep": {"k": 1}}');
    const out = replaceAtPaths(doc, ['__proto__.x', 'a.b'], (v) => `<${String(v)}>`);
    expect(Object.keys(out)).toEqual(['z', '__proto__', 'a', 'keep']);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(out, '__proto__')!.value).toEqual({ x: '<1>' });
    expect(out.a).toEqual({ b: '<2>', c: [3] });
    expect(out.keep).toBe(doc.keep);
    expect(doc.a.b).toBe(2);
    expect(replaceAtPaths(doc, ['nope', 'a.c.x'], () => 'changed')).toBe(doc);
  });
});
