import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  compareTreeEntryNames,
  formatCommit,
  formatIdentity,
  formatTree,
  hashObject,
  parseCommit,
  parseIdentity,
  parseTree,
} from '../../src/store/objects.js';
import { checkRefFormat } from '../../src/store/refs.js';

const sha1 = (s: string | Buffer) => createHash('sha1').update(s).digest('hex');

describe('git object encoding', () => {
  it('hashes a blob as git hash-object does', () => {
    expect(hashObject('blob', Buffer.from('hello\n'))).toBe('ce013625030ba8dba906f756967f9e9ca394464a');
    expect(hashObject('blob', Buffer.alloc(0))).toBe('e69de29bb2d1d6434b8b29ae775ad8c2e48c5391');
    expect(hashObject('blob', Buffer.from('{"a":1}\n'))).toBe(sha1('blob 8\0{"a":1}\n'));
  });

  it('hashes the empty tree to the well-known id', () => {
    expect(hashObject('tree', formatTree([]))).toBe('4b825dc642cb6eb9a060e54bf8d69288fbee4904');
  });

  it('orders tree entries the way git does (subtrees compare as name + "/")', () => {
    const oid = 'ce013625030ba8dba906f756967f9e9ca394464a';
    const tree = formatTree([
      { mode: '100644', name: 'a0', oid },
      { mode: '40000', name: 'a', oid },
      { mode: '100644', name: 'a.b', oid },
      { mode: '100644', name: 'a-', oid },
      { mode: '100644', name: 'B', oid },
      { mode: '100644', name: 'é', oid },
    ]);
    expect(parseTree(tree, 'x').map((e) => e.name)).toEqual(['B', 'a-', 'a.b', 'a', 'a0', 'é']);
    const n = (s: string, isTree: boolean) => ({ name: Buffer.from(s), isTree });
    expect(compareTreeEntryNames(n('a', true), n('a.b', false))).toBeGreaterThan(0);
    expect(compareTreeEntryNames(n('a', false), n('a.b', false))).toBeLessThan(0);
    expect(compareTreeEntryNames(n('a', true), n('a0', false))).toBeLessThan(0);
  });

  it('writes the same bytes as git\'s byte-wise order for any mix of files and subtrees', () => {
    // The reference: every name compared as UTF-8 bytes (compareTreeEntryNames), entry by entry.
    const reference = (entries: { mode: string; name: string; oid: string }[]) =>
      Buffer.concat(
        [...entries]
          .sort((a, b) => compareTreeEntryNames({ name: Buffer.from(a.name), isTree: a.mode === '40000' }, { name: Buffer.from(b.name), isTree: b.mode === '40000' }))
          .flatMap((e) => [Buffer.from(`${e.mode} ${e.name}\0`), Buffer.from(e.oid, 'hex')]),
      );
    const alphabet = ['a', 'b', '-', '.', '/', '0', 'Z', '~', '_', 'é', '😀'];
    let seed = 7;
    const next = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let round = 0; round < 200; round++) {
      const ascii = round % 2 === 0;
      const names = new Set<string>();
      while (names.size < 1 + next(40)) {
        let name = '';
        for (let k = 0, len = 1 + next(4); k < len; k++) name += alphabet[next(ascii ? 9 : alphabet.length)]!.replace('/', '-');
        names.add(name);
      }
      const entries = [...names].map((name, i) => ({ mode: next(3) === 0 ? '40000' : '100644', name, oid: createHash('sha1').update(`${round} ${i}`).digest('hex') }));
      expect(formatTree(entries)).toEqual(reference(entries));
    }
    expect(() => formatTree([{ mode: '100644', name: 'x', oid: 'abc' }])).toThrow(/not a full object id/);
  });

  it('sorts by UTF-8 bytes, not UTF-16 code units', () => {
    const oid = 'ce013625030ba8dba906f756967f9e9ca394464a';
    // U+FF61 is one UTF-16 unit above the surrogate U+1F600 uses, but its UTF-8 bytes sort lower.
    const names = parseTree(formatTree([{ mode: '100644', name: '😀', oid }, { mode: '100644', name: '｡', oid }]), 'x').map((e) => e.name);
    expect(names).toEqual(['｡', '😀']);
  });

  it('formats identities with git timezone signs and parses them back', () => {
    const base = { name: 'A', email: 'a@x', timestamp: 1700000000 };
    expect(formatIdentity({ ...base, timezoneOffset: -120 })).toBe('A <a@x> 1700000000 +0200');
    expect(formatIdentity({ ...base, timezoneOffset: 300 })).toBe('A <a@x> 1700000000 -0500');
    expect(formatIdentity({ ...base, timezoneOffset: -330 })).toBe('A <a@x> 1700000000 +0530');
    expect(formatIdentity({ ...base, timezoneOffset: 0 })).toBe('A <a@x> 1700000000 +0000');
    for (const tz of [-120, 300, -330, 0]) {
      expect(parseIdentity(formatIdentity({ ...base, timezoneOffset: tz }), 'x')).toEqual({ ...base, timezoneOffset: tz });
    }
  });

  it('formats a commit byte-for-byte like git and parses it back', () => {
    const author = { name: 'dbsnap test', email: 'test@example.com', timestamp: 1700000000, timezoneOffset: -60 };
    const bytes = formatCommit({ tree: '4b825dc642cb6eb9a060e54bf8d69288fbee4904', parents: [], author, message: 'm' });
    expect(bytes.toString()).toBe(
      'tree 4b825dc642cb6eb9a060e54bf8d69288fbee4904\n' +
        'author dbsnap test <test@example.com> 1700000000 +0100\n' +
        'committer dbsnap test <test@example.com> 1700000000 +0100\n\nm\n',
    );
    const parsed = parseCommit(bytes, 'x');
    expect(parsed).toMatchObject({ tree: '4b825dc642cb6eb9a060e54bf8d69288fbee4904', parents: [], author, message: 'm' });
  });

  it('rejects identities that would corrupt the commit header', () => {
    const tree = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
    const author = { name: 'evil <x>', email: 'e', timestamp: 1, timezoneOffset: 0 };
    expect(() => formatCommit({ tree, parents: [], author, message: 'm' })).toThrow(expect.objectContaining({ code: 'EINVALIDARG' }));
    expect(() => formatCommit({ tree: 'abc', parents: [], author: { ...author, name: 'ok' }, message: 'm' })).toThrow(
      expect.objectContaining({ code: 'EINVALIDARG' }),
    );
  });

  it('checks ref names like git check-ref-format', () => {
    for (const ok of ['refs/heads/main', 'refs/tags/v1.0', 'refs/dbsnap/safety/2024-01-01T00-00-00Z', 'refs/tags/release/2024']) {
      expect(checkRefFormat(ok)).toBeNull();
    }
    for (const bad of ['', '@', 'refs/tags/a..b', 'refs/tags/x.lock', 'refs/tags/.hidden', 'refs/tags/a b', 'refs/tags/a~1',
      'refs/tags/a^', 'refs/tags/a:b', 'refs/tags/a?', 'refs/tags/a*', 'refs/tags/a[', 'refs/tags/a\\b', 'refs/tags/a/',
      'refs//tags', 'refs/tags/a.', 'refs/tags/a@{1}', 'refs/tags/\u0001']) {
      expect(checkRefFormat(bad), bad).not.toBeNull();
    }
  });
});
