import { Int32, type Document } from 'bson';
import { describe, expect, it } from 'vitest';
import { diffCollection, diffSnapshots, plainPainter, renderJson, renderMarkdown, renderStat, renderText, type Painter } from '../../src/diff/index.js';
import { representativeDiff } from './fixture.js';
import { makeSide } from './sides.js';

const EXPECTED_JSON = `{
  "format": "dbsnap-diff",
  "version": 1,
  "from": "v1",
  "to": "HEAD",
  "stat": false,
  "totals": {
    "collections": {
      "added": 0,
      "removed": 1,
      "changed": 1,
      "unchanged": 0
    },
    "documents": {
      "added": 1,
      "removed": 2,
      "changed": 2
    }
  },
  "collections": [
    {
      "name": "logs",
      "status": "removed",
      "type": {
        "old": "collection",
        "new": null
      },
      "counts": {
        "added": 0,
        "removed": 1,
        "changed": 0
      },
      "truncated": 0,
      "documents": [
        {
          "kind": "removed",
          "id": {
            "$numberInt": "1"
          },
          "doc": {
            "_id": {
              "$numberInt": "1"
            },
            "msg": "x"
          }
        }
      ],
      "indexes": {
        "added": [],
        "removed": [
          {
            "v": {
              "$numberInt": "2"
            },
            "key": {
              "_id": {
                "$numberInt": "1"
              }
            },
            "name": "_id_"
          }
        ],
        "changed": []
      },
      "options": []
    },
    {
      "name": "users",
      "status": "changed",
      "type": {
        "old": "collection",
        "new": "collection"
      },
      "counts": {
        "added": 1,
        "removed": 1,
        "changed": 2
      },
      "truncated": 0,
      "documents": [
        {
          "kind": "changed",
          "id": {
            "$oid": "000000000000000000000001"
          },
          "fields": [
            {
              "path": "address.city",
              "kind": "changed",
              "old": "Bern",
              "new": "Zürich"
            },
            {
              "path": "price",
              "kind": "typeChanged",
              "oldType": "Decimal128",
              "newType": "String",
              "old": {
                "$numberDecimal": "19.99"
              },
              "new": "19.99"
            }
          ]
        },
        {
          "kind": "changed",
          "id": {
            "$oid": "000000000000000000000002"
          },
          "fields": [
            {
              "path": "qty",
              "kind": "typeChanged",
              "oldType": "Int32",
              "newType": "Double",
              "old": {
                "$numberInt": "5"
              },
              "new": {
                "$numberDouble": "5.0"
              }
            },
            {
              "path": "",
              "kind": "reordered",
              "old": [
                "_id",
                "name",
                "qty"
              ],
              "new": [
                "_id",
                "qty",
                "name"
              ]
            }
          ]
        },
        {
          "kind": "removed",
          "id": {
            "$oid": "000000000000000000000003"
          },
          "doc": {
            "_id": {
              "$oid": "000000000000000000000003"
            },
            "name": "Cy"
          }
        },
        {
          "kind": "added",
          "id": {
            "$oid": "000000000000000000000004"
          },
          "doc": {
            "_id": {
              "$oid": "000000000000000000000004"
            },
            "name": "Di|\`x\`"
          }
        }
      ],
      "indexes": {
        "added": [
          {
            "v": {
              "$numberInt": "2"
            },
            "key": {
              "email": {
                "$numberInt": "1"
              }
            },
            "name": "email_1",
            "unique": true
          }
        ],
        "removed": [],
        "changed": []
      },
      "options": []
    }
  ]
}
`;

describe('renderJson', () => {
  it('renders the documented schema exactly', async () => {
    expect(renderJson(await representativeDiff())).toBe(EXPECTED_JSON);
  });

  it('leaves out document lists with stat', async () => {
    const parsed = JSON.parse(renderJson(await representativeDiff(), { stat: true }));
    expect(parsed.stat).toBe(true);
    expect(parsed.collections[1]).not.toHaveProperty('documents');
    expect(parsed.collections[1].counts).toEqual({ added: 1, removed: 1, changed: 2 });
  });
});

const bigUserDocs = (n: number, tag: string) =>
  Array.from({ length: n }, (_, i): Document => ({ _id: new Int32(i), name: `${tag} ${'long text '.repeat(6)}${i}` }));

describe('renderText', () => {
  it('shows headers, document and field lines, index changes', async () => {
    const text = renderText(await representativeDiff());
    expect(text).toBe(
      [
        'logs: 0 added, 1 removed, 0 changed (dropped, -1 index)',
        '- index _id_ {"_id":1}',
        '- 1 {"msg":"x"}',
        '',
        'users: 1 added, 1 removed, 2 changed (+1 index)',
        '+ index email_1 {"email":1} {"unique":true}',
        '~ ObjectId 000000000000000000000001',
        '  address.city: "Bern" -> "Zürich"',
        '  price: Decimal128 19.99 -> String "19.99"',
        '~ ObjectId 000000000000000000000002',
        '  qty: Int32 5 -> Double 5.0',
        '  (field order): _id, name, qty -> _id, qty, name',
        '- ObjectId 000000000000000000000003 {"name":"Cy"}',
        '+ ObjectId 000000000000000000000004 {"name":"Di|`x`"}',
        '',
      ].join('\n'),
    );
  });

  it('colours only through the painter', async () => {
    const tag = (t: string) => (s: string) => `<${t}>${s}</${t}>`;
    const painter: Painter = { added: tag('a'), removed: tag('r'), changed: tag('c'), heading: tag('h'), dim: tag('d') };
    const lines = renderText(await representativeDiff(), { painter }).split('\n');
    expect(lines).toContain('<h>users: 1 added, 1 removed, 2 changed (+1 index)</h>');
    expect(lines).toContain('<a>+ index email_1 {"email":1} {"unique":true}</a>');
    expect(lines).toContain('<c>  address.city: "Bern" -> "Zürich"</c>');
    expect(lines).toContain('<r>- ObjectId 000000000000000000000003 {"name":"Cy"}</r>');
    expect(renderText(await representativeDiff(), { painter: plainPainter })).not.toContain('<');
  });

  it('shows added/removed fields, options and "… and N more" past the limit', async () => {
    const from = bigUserDocs(500, 'a');
    const to = from.map((d, i) => (i === 0 ? { _id: d._id, nick: 'x' } : { ...d, name: `b${i}` }));
    const delta = await diffCollection(
      makeSide('users', from, { meta: { options: { validator: { age: { $gte: 18 } } } } }),
      makeSide('users', to, { meta: { options: { validator: { age: { $gte: 21 } } } } }),
      { limit: 10 },
    );
    expect(delta.counts.changed).toBe(500);
    expect(delta.documents).toHaveLength(10);
    const text = renderText({ from: 'a', to: 'b', collections: [delta], totals: { collections: { added: 0, removed: 0, changed: 1, unchanged: 0 }, documents: delta.counts } });
    const lines = text.split('\n');
    expect(lines[0]).toBe('users: 0 added, 0 removed, 500 changed (1 option change)');
    expect(lines[1]).toBe('option validator.age.$gte: 18 -> 21');
    expect(lines[2]).toBe('~ 0');
    expect(lines[3]).toBe('  - name: String "a long text long text long text long text long text long text 0"');
    expect(lines[4]).toBe('  + nick: String "x"');
    expect(lines.at(-2)).toBe('… and 490 more');
  });

  it('says so when nothing changed', async () => {
    const side = makeSide('users', [{ _id: 1 }]);
    const d = await diffSnapshots([side], [side], { fromLabel: 'v1', toLabel: 'v2' });
    expect(renderText(d)).toBe('no differences between v1 and v2\n');
  });
});

describe('renderStat', () => {
  it('prints counts per collection and a total', async () => {
    expect(renderStat(await representativeDiff())).toBe(
      [
        'logs  | 0 added, 1 removed, 0 changed; dropped, -1 index',
        'users | 1 added, 1 removed, 2 changed; +1 index',
        '2 collections changed (0 new, 1 dropped), 1 added, 2 removed, 2 changed documents',
        '',
      ].join('\n'),
    );
    expect(renderText(await representativeDiff(), { stat: true })).toBe(renderStat(await representativeDiff()));
  });
});

describe('renderMarkdown', () => {
  it('renders heading, summary table and a details block per changed collection', async () => {
    const md = renderMarkdown(await representativeDiff());
    const lines = md.split('\n');
    expect(lines[0]).toBe('### dbsnap diff v1..HEAD');
    expect(lines).toContain('| collection | added | removed | changed | indexes/options |');
    expect(lines).toContain('| `logs` | 0 | 1 | 0 | dropped, -1 index |');
    expect(lines).toContain('| `users` | 1 | 1 | 2 | +1 index |');
    expect(lines).toContain('| **total** | 1 | 2 | 2 | |');
    expect(lines).toContain('<details><summary>users: 1 added, 1 removed, 2 changed (+1 index)</summary>');
    expect(lines).toContain('- index added: `email_1 {"email":1} {"unique":true}`');
    expect(lines).toContain('  - `address.city`: `"Bern"` → `"Zürich"`');
    expect(lines).toContain('  - `price`: `Decimal128 19.99` → `String "19.99"` (type changed)');
    // Backticks inside a value get a longer fence.
    expect(lines).toContain('- **+** `ObjectId 000000000000000000000004` added: ``{"name":"Di|`x`"}``');
    expect(md.match(/<details>/g)).toHaveLength(2);
    expect(md.match(/<\/details>/g)).toHaveLength(2);
    expect(renderMarkdown(await representativeDiff(), { stat: true })).not.toContain('<details>');
  });

  it('escapes pipes in table cells and HTML in summaries', async () => {
    const d = await diffSnapshots([], [makeSide('a|b<c>', [{ _id: 1 }])], { fromLabel: 'x', toLabel: 'y' });
    const md = renderMarkdown(d);
    expect(md).toContain('| `a\\|b<c>` | 1 | 0 | 0 | new collection, +1 index |');
    expect(md).toContain('<summary>a|b&lt;c&gt;: 1 added, 0 removed, 0 changed (new collection, +1 index)</summary>');
  });

  it('never exceeds maxChars and says what it left out', async () => {
    const from: ReturnType<typeof makeSide>[] = [];
    const to: ReturnType<typeof makeSide>[] = [];
    for (let c = 0; c < 60; c++) {
      const docs = bigUserDocs(300, 'x');
      from.push(makeSide(`coll${String(c).padStart(2, '0')}`, docs));
      to.push(makeSide(`coll${String(c).padStart(2, '0')}`, docs.map((d, i) => ({ ...d, name: `changed ${i}` }))));
    }
    const d = await diffSnapshots(from, to, { fromLabel: 'a', toLabel: 'b', limit: 200 });
    const full = renderMarkdown(d, { maxChars: 10_000_000 });
    expect(full.length).toBeGreaterThan(65_000);

    const md = renderMarkdown(d);
    expect(md.length).toBeLessThanOrEqual(65_000);
    expect(md).toContain('| `coll59` | 0 | 0 | 300 |  |');
    expect(md).toMatch(/_… \d+ more changes omitted \(output size limit\)\._/);
    expect(md).toMatch(/_\d+ more collections omitted \(output size limit\)\._\n$/);
    expect(md.match(/<details>/g)?.length).toBe(md.match(/<\/details>/g)?.length);

    const small = renderMarkdown(d, { maxChars: 3000 });
    expect(small.length).toBeLessThanOrEqual(3000);
    expect(small).toContain('more collections omitted');
    for (const n of [0, 50, 500]) expect(renderMarkdown(d, { maxChars: n }).length).toBeLessThanOrEqual(n);
  });
});

describe('encrypted values', () => {
  it('are reported without showing them', async () => {
    const { Binary } = await import('bson');
    const enc = (s: string) => new Binary(Buffer.from(s), 6);
    const delta = await diffCollection(
      makeSide('users', [{ _id: 1, ssn: enc('secret-one') }]),
      makeSide('users', [{ _id: 1, ssn: enc('secret-two') }]),
      { encryptedMarker: (v) => v instanceof Binary && v.sub_type === 6 },
    );
    const d = { from: 'a', to: 'b', collections: [delta], totals: { collections: { added: 0, removed: 0, changed: 1, unchanged: 0 }, documents: delta.counts } };
    expect(renderText(d)).toBe('users: 0 added, 0 removed, 1 changed\n~ 1\n  ssn: encrypted value changed\n');
    expect(renderMarkdown(d)).toContain('  - `ssn`: encrypted value changed\n');
    const json = renderJson(d);
    expect(json).toContain('"path": "ssn",\n              "kind": "changed",\n              "encrypted": true');
    expect(json).not.toContain(Buffer.from('secret-two').toString('base64'));
  });
});
