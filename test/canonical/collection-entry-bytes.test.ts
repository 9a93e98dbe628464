import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { collectionEntryBytes, collectionHeadOf, metadataText, scanPartList, type CollectionEntry } from '../../src/canonical/format.js';
import { PartSummaries } from '../../src/canonical/encode-collection.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

function entry(parts: number, extra: Partial<CollectionEntry> = {}): CollectionEntry {
  return {
    name: 'orders',
    type: 'collection',
    options: { validator: { $jsonSchema: { required: ['a', 'ü "quoted"\n'] } } },
    indexes: [{ v: { $numberInt: '2' }, key: { _id: { $numberInt: '1' } }, name: '_id_' }],
    documents: parts * 32,
    sha256: sha('all'),
    bsonMd5: 'd41d8cd98f00b204e9800998ecf8427e',
    parts: Array.from({ length: parts }, (_, i) => ({
      file: i === 0 ? 'parts/first.json' : `parts/${sha(String(i)).slice(0, 12)}.json`,
      documents: 1 + (i % 40),
      bytes: 1000 + i * 7,
      sha256: sha(`part ${i}`),
    })),
    ...extra,
  };
}

describe('collectionEntryBytes', () => {
  it('is metadataText byte for byte, for any number of parts', () => {
    for (const n of [0, 1, 2, 3, 1000, 20_000]) {
      const e = entry(n);
      expect(collectionEntryBytes(e).equals(Buffer.from(metadataText(e), 'utf8'))).toBe(true);
    }
  });

  it('is metadataText byte for byte for an encrypted collection (no bsonMd5), a view, and non-ASCII names', () => {
    const { bsonMd5: _omit, ...noMd5 } = entry(5);
    for (const e of [noMd5 as CollectionEntry, entry(0, { type: 'view', options: { viewOn: 'orders', pipeline: [] } }), entry(3, { name: 'ünïcödé 😀 "x"' })]) {
      expect(collectionEntryBytes(e).toString('utf8')).toBe(metadataText(e));
    }
  });

  it('writes an entry whose parts are not its last key the plain way, still byte for byte', () => {
    const { parts, ...rest } = entry(4);
    const partsFirst = { parts, ...rest } as CollectionEntry;
    const { name, ...others } = partsFirst;
    const nameLast = { ...others, name } as CollectionEntry;
    for (const x of [partsFirst, nameLast]) expect(collectionEntryBytes(x).toString('utf8')).toBe(metadataText(x));
  });

  it('writes a compact part list (PartSummaries) as the same bytes as its array, through growth', () => {
    const e = entry(1500);
    const list = new PartSummaries();
    for (const p of e.parts) list.add({ name: p.file.slice('parts/'.length), documents: p.documents, bytes: p.bytes, sha256: p.sha256 });
    expect(list.length).toBe(1500);
    expect(list.name(1499)).toBe(e.parts[1499]!.file.slice('parts/'.length));
    expect(Array.from(list.asEntries())).toEqual(e.parts);
    expect(collectionEntryBytes({ ...e, parts: list.asEntries() }).equals(Buffer.from(metadataText(e), 'utf8'))).toBe(true);
  });
});

describe('collectionHeadOf (collection.json without its part list)', () => {
  const headOf = (e: CollectionEntry) => {
    const { parts: _parts, ...rest } = e;
    return rest;
  };

  it('is the entry without parts, for what dbsnap writes, whatever the options and indexes hold', () => {
    const tricky = {
      // A string holding the marker (its newline is escaped in JSON) and a nested "parts" key.
      validator: { $jsonSchema: { description: '\n  "parts": [', properties: { parts: { bsonType: 'array' } } } },
      comment: '  "parts": [] }',
    };
    for (const e of [entry(0), entry(1), entry(500), entry(3, { options: tricky }), entry(2, { name: 'ünïcödé 😀 "x"' }), entry(0, { type: 'view', options: { viewOn: 'orders', pipeline: [] } })]) {
      expect(collectionHeadOf(collectionEntryBytes(e))).toEqual(headOf(e));
    }
    const { bsonMd5: _omit, ...noMd5 } = entry(5);
    expect(collectionHeadOf(collectionEntryBytes(noMd5 as CollectionEntry))).toEqual(headOf(noMd5 as CollectionEntry));
  });

  it('is null for a file laid out otherwise, so the caller parses it whole', () => {
    const e = entry(3);
    const { parts, documents, ...rest } = e;
    const documentsAfterParts = { ...rest, parts, documents };
    for (const text of [
      JSON.stringify(e), // not indented: no marker
      metadataText(documentsAfterParts), // the head lacks documents
      metadataText({ ...e, options: 'not an object' }),
      '{\n  "name": \n  "parts": [\n  ]\n}\n', // a head that is not JSON
      'null',
    ]) {
      expect(collectionHeadOf(Buffer.from(text, 'utf8'))).toBeNull();
    }
  });
});

describe('scanPartList', () => {
  const scanned = (bytes: Buffer) => {
    const out: { file: string; documents: number; bytes: number }[] = [];
    const ok = scanPartList(bytes, (file, documents, size) => out.push({ file, documents, bytes: size }));
    return ok ? out : null;
  };

  it('reads every part file and count of what dbsnap writes, in order, for any number of parts', () => {
    for (const n of [0, 1, 2, 1000]) {
      const e = entry(n);
      expect(scanned(collectionEntryBytes(e))).toEqual(e.parts.map((p) => ({ file: p.file, documents: p.documents, bytes: p.bytes })));
    }
    // A non-ASCII collection name and options holding the marker text change nothing.
    const odd = entry(3, { name: 'ünïcödé 😀 "x"', options: { comment: '\n  "parts": [' } as CollectionEntry['options'] });
    expect(scanned(collectionEntryBytes(odd))).toEqual(odd.parts.map((p) => ({ file: p.file, documents: p.documents, bytes: p.bytes })));
  });

  it('refuses any other layout rather than guess (the caller parses the file whole)', () => {
    const good = collectionEntryBytes(entry(3)).toString('utf8');
    const variants = [
      good.replace('"documents": 1,', '"documents": 01,'),
      good.replace('"documents": 1,', '"documents": -1,'),
      good.replace('"bytes": 1000,', '"bytes": 1000.5,'),
      good.replace('"bytes": 1000,', '"bytes": 01000,'),
      good.replace('"bytes": 1000,', '"bytes": ,'),
      good.replace(/"sha256": "([0-9a-f]{64})"\n    }/, '"sha256": "$1", "extra": 1\n    }'),
      good.replace('"file": "parts/first.json"', '"file": "parts\\/first.json"'),
      good.replace(/("bytes": 1000,\n      "sha256": ")[0-9a-f]{3}/, '$1XYZ'),
      good.replace('\n  ]\n}\n', '\n  ]\n}\n\n'),
      good.slice(0, -10),
      JSON.stringify(entry(3)),
      metadataText({ ...entry(3), parts: entry(3).parts.map(({ file, documents, bytes, sha256 }) => ({ documents, file, bytes, sha256 })) }),
    ];
    for (const [k, v] of variants.entries()) {
      expect(v, `variant ${k}`).not.toBe(good);
      expect(scanned(Buffer.from(v, 'utf8')), `variant ${k}`).toBeNull();
    }
  });
});
