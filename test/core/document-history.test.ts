import { execFileSync } from 'node:child_process';
import { Decimal128, Double, Int32, Long, ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { FIXED, useTempRepository } from '../support/temp-repo.js';
import { blame, commit, documentHistory, tag } from '../../src/index.js';
import { idCandidates } from '../../src/core/document-history.js';
import { useTestDatabase } from '../support/test-db.js';

const BIN = new URL('../../bin/dbsnap.js', import.meta.url).pathname;

let repo = '';
useTempRepository('dochistory', (r) => ({ repo } = r));

const at = (minute: number) => ({ ...FIXED, now: new Date(Date.UTC(2025, 0, 2, 3, minute)) });

describe('idCandidates', () => {
  it('reads the _id forms users type', () => {
    expect(idCandidates('5f146e002c9cc04162000010')).toEqual([new ObjectId('5f146e002c9cc04162000010'), '5f146e002c9cc04162000010']);
    expect(idCandidates('42')).toEqual([new Int32(42), '42']);
    expect(idCandidates('9007199254740993')).toEqual([Long.fromString('9007199254740993'), '9007199254740993']);
    expect(idCandidates('1.5')).toEqual([new Double(1.5), Decimal128.fromString('1.5'), '1.5']);
    expect(idCandidates('alice')).toEqual(['alice']);
    expect(idCandidates('"42"')).toEqual(['42']);
    expect(idCandidates('{"$numberLong": "7"}')).toEqual([Long.fromNumber(7)]);
    expect(idCandidates('{"region": "eu", "n": 7}')).toEqual([{ region: 'eu', n: new Int32(7) }]);
    expect(() => idCandidates('{"$oid": "nope"}')).toThrow(expect.objectContaining({ code: 'EINVALIDARG' }));
  });
});

describe('documentHistory and blame', () => {
  it('finds the commits that created, changed, deleted and re-created one document, reading only the parts that hold it', async () => {
    const t = await useTestDatabase('dochistory');
    try {
      const c = t.db.collection('items');
      await c.insertMany(Array.from({ length: 2000 }, (_, i) => ({ _id: i * 2, name: `item ${i}`, price: 10, meta: { color: 'red', size: 1 } })));
      await t.db.collection('other').insertOne({ _id: 'x', v: 1 });
      const c1 = (await commit({ repo, uri: t.dbUri, message: 'created', ...at(1) })).commit!;
      await tag({ repo, name: 'v1', ...FIXED });
      await t.db.collection('other').updateOne({ _id: 'x' }, { $set: { v: 2 } });
      await commit({ repo, uri: t.dbUri, message: 'other collection only', ...at(2) });
      await c.updateOne({ _id: 10 }, { $set: { name: 'far away' } });
      await commit({ repo, uri: t.dbUri, message: 'another item', ...at(3) });
      await c.updateOne({ _id: 1000 }, { $set: { price: 12, 'meta.color': 'blue' } });
      const c4 = (await commit({ repo, uri: t.dbUri, message: 'price up', ...at(4) })).commit!;
      // Neighbours inserted around it: its part may be cut differently, the document is the same.
      await c.insertMany(Array.from({ length: 40 }, (_, i) => ({ _id: 981 + i * 2, name: 'odd' })));
      await commit({ repo, uri: t.dbUri, message: 'neighbours', ...at(5) });
      await c.deleteOne({ _id: 1000 });
      const c6 = (await commit({ repo, uri: t.dbUri, message: 'gone', ...at(6) })).commit!;
      await c.insertOne({ _id: 1000, name: 'back', price: new Double(12) });
      const c7 = (await commit({ repo, uri: t.dbUri, message: 'back again', ...at(7) })).commit!;

      const h = await documentHistory({ repo, collection: 'items', id: '1000' });
      expect(h.found).toBe(true);
      expect(h.id).toEqual(new Int32(1000));
      expect(h.versions.map((v) => [v.commit, v.kind, v.subject])).toEqual([
        [c7, 'created', 'back again'],
        [c6, 'deleted', 'gone'],
        [c4, 'changed', 'price up'],
        [c1, 'created', 'created'],
      ]);
      expect(h.versions[2]!.fields!.map((f) => [f.path, f.kind, f.old, f.new])).toEqual([
        ['price', 'changed', new Int32(10), new Int32(12)],
        ['meta.color', 'changed', 'red', 'blue'],
      ]);
      expect(h.versions[3]!.doc).toEqual({ _id: new Int32(1000), name: 'item 500', price: new Int32(10), meta: { color: 'red', size: new Int32(1) } });
      // 9 commits (init included); the ones that did not touch "items" are skipped by tree id, the
      // "another item" one by the part's blob id. Parts read: a binary search at HEAD (~63 parts),
      // then about one part per commit that changed it.
      expect(h.stats.commits).toBe(8);
      expect(h.stats.partsRead).toBeLessThanOrEqual(8 + 2 * 4);

      // History from a tag, and -n.
      expect((await documentHistory({ repo, collection: 'items', id: 1000, ref: 'v1' })).versions.map((v) => v.kind)).toEqual(['created']);
      expect((await documentHistory({ repo, collection: 'items', id: '1000', n: 2 })).versions.map((v) => v.commit)).toEqual([c7, c6]);
      // Never there: not found, nothing invented.
      const none = await documentHistory({ repo, collection: 'items', id: '5001' });
      expect(none).toMatchObject({ found: false, versions: [] });
      expect((await documentHistory({ repo, collection: 'nope', id: 'x' })).found).toBe(false);

      // blame at c4 (ref): price and meta.color last changed in c4, the rest at creation.
      const b = await blame({ repo, collection: 'items', id: '1000', ref: c4, deep: true });
      expect(b.lines.map((l) => [l.path, l.commit])).toEqual([
        ['_id', c1],
        ['name', c1],
        ['price', c4],
        ['meta.color', c4],
        ['meta.size', c1],
      ]);
      const top = await blame({ repo, collection: 'items', id: '1000', ref: c4 });
      expect(top.lines.map((l) => [l.path, l.commit])).toEqual([['_id', c1], ['name', c1], ['price', c4], ['meta', c4]]);
      // At HEAD the document was re-created: every field dates from then.
      expect(new Set((await blame({ repo, collection: 'items', id: '1000' })).lines.map((l) => l.commit))).toEqual(new Set([c7]));
      expect((await blame({ repo, collection: 'items', id: '1000', ref: c6 })).found).toBe(false);

      // Through the binary: text with -p, markdown, JSON, exit 1 when never found.
      const run = (...args: string[]) => {
        try {
          return { code: 0, out: execFileSync(process.execPath, [BIN, '--repo', repo, ...args], { encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } }) };
        } catch (err) {
          const e = err as { status: number; stdout: string };
          return { code: e.status, out: e.stdout };
        }
      };
      const text = run('log', '--doc', 'items', '1000', '-p');
      expect(text.code).toBe(0);
      expect(text.out).toBe(
        [
          'items 1000: 4 versions',
          `${c7.slice(0, 7)} created  2025-01-02T03:07:00.000Z  back again`,
          '  + {"name":"back","price":12}',
          `${c6.slice(0, 7)} deleted  2025-01-02T03:06:00.000Z  gone`,
          `${c4.slice(0, 7)} changed  2025-01-02T03:04:00.000Z  price up`,
          '  price: 10 -> 12',
          '  meta.color: "red" -> "blue"',
          `${c1.slice(0, 7)} created  2025-01-02T03:01:00.000Z  created`,
          '  + {"name":"item 500","price":10,"meta":{"color":"red","size":1}}',
          '',
        ].join('\n'),
      );
      const md = run('log', '--doc', 'items', '1000', '-p', '--format', 'markdown').out;
      expect(md).toContain('### `items` `1000`\n\n');
      expect(md).toContain(`- \`${c4.slice(0, 7)}\` **changed** 2025-01-02T03:04:00.000Z: price up\n  - \`price\`: \`10\` → \`12\`\n`);
      const json = JSON.parse(run('log', '--doc', 'items', '1000', '--json').out);
      expect(json).toMatchObject({ format: 'dbsnap-doc-history', version: 1, collection: 'items', id: { $numberInt: '1000' }, found: true });
      expect(json.versions.map((v: { kind: string }) => v.kind)).toEqual(['created', 'deleted', 'changed', 'created']);
      expect(json.versions[2].fields[0]).toEqual({ path: 'price', kind: 'changed', old: { $numberInt: '10' }, new: { $numberInt: '12' } });
      expect(run('log', '--doc', 'items', '5001')).toEqual({ code: 1, out: 'items 5001: no version in this history\n' });
      expect(run('log', '--doc', 'items', '1000', '--format', '%h').code).toBe(2);
      const bl = run('blame', 'items', '1000', c4.slice(0, 7), '--deep');
      expect(bl.code).toBe(0);
      expect(bl.out.split('\n')[2]).toMatch(new RegExp(`^price {7}${c4.slice(0, 7)} 2025-01-02  12 +price up$`));
      expect(JSON.parse(run('blame', 'items', '1000', '--json').out).fields[0]).toMatchObject({ path: '_id', value: { $numberInt: '1000' }, commit: c7 });
      expect(run('blame', 'items', '1000', c6).code).toBe(1);
    } finally {
      await t.drop();
    }
  }, 240_000);
});
