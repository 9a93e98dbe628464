import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseTree, TreeIndex } from '../../src/store/objects.js';
import { CorruptSnapshotError } from '../../src/errors/index.js';

const oidOf = (s: string) => createHash('sha1').update(s).digest();

/** A raw tree object from (mode, name, oid-seed) entries, in the order given. */
function rawTree(entries: [string, string, string][]): Buffer {
  return Buffer.concat(entries.map(([mode, name, seed]) => Buffer.concat([Buffer.from(`${mode} ${name}\0`, 'utf8'), oidOf(seed)])));
}

describe('TreeIndex', () => {
  const names = Array.from({ length: 500 }, (_, i) => `${createHash('sha1').update(String(i)).digest('hex').slice(0, 12)}.json`).concat(['first.json', 'ü-2.json']);
  const sorted = [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

  it('finds every file of a sorted tree and agrees with parseTree on its blob id; misses give -1', () => {
    const raw = rawTree(sorted.map((n) => ['100644', n, n]));
    const index = new TreeIndex(raw, 'tree');
    const parsed = parseTree(raw, 'tree');
    expect(index.size).toBe(sorted.length);
    for (const e of parsed) {
      const i = index.find(e.name);
      expect(i).toBeGreaterThanOrEqual(0);
      expect([index.name(i), index.oid(i)]).toEqual([e.name, e.oid]);
    }
    for (const miss of ['', 'zzzz.json', '000.json', 'first.jso', 'first.json ']) expect(index.find(miss)).toBe(-1);
  });

  it('leaves subtrees and submodules out, and finds files in a tree not in git order too', () => {
    const raw = rawTree([
      ['100644', 'b.json', 'b'],
      ['40000', 'sub', 'tree'],
      ['100755', 'a.json', 'a'],
      ['160000', 'module', 'c'],
      ['120000', 'link', 'l'],
    ]);
    const index = new TreeIndex(raw, 'tree');
    expect(index.size).toBe(3);
    expect(['a.json', 'b.json', 'link', 'sub', 'module'].map((n) => index.find(n) >= 0)).toEqual([true, true, true, false, false]);
    expect(index.oid(index.find('a.json'))).toBe(oidOf('a').toString('hex'));
  });

  it('tells entries of two trees with the same blob id apart from those with another', () => {
    const one = new TreeIndex(rawTree([['100644', 'a.json', 'a'], ['100644', 'b.json', 'b']]), 'one');
    const two = new TreeIndex(rawTree([['100644', 'a.json', 'a'], ['100644', 'b.json', 'changed']]), 'two');
    expect(one.sameOid(one.find('a.json'), two, two.find('a.json'))).toBe(true);
    expect(one.sameOid(one.find('b.json'), two, two.find('b.json'))).toBe(false);
  });

  it('refuses a truncated tree as a damaged repository', () => {
    const raw = rawTree([['100644', 'a.json', 'a']]);
    expect(() => new TreeIndex(raw.subarray(0, raw.length - 3), 'abc')).toThrow(CorruptSnapshotError);
    expect(new TreeIndex(Buffer.alloc(0), '').size).toBe(0);
  });
});
