/**
 * The writer's byte output (what commit stores and hashes) against its string output, and the
 * part cutting that now counts UTF-16 units from the bytes: both must give exactly what the
 * string writer gave, or existing snapshots would get new bytes and new part boundaries.
 */
import { BSON, Code, BSONRegExp, BSONSymbol, ObjectId, type Document } from 'bson';
import { describe, expect, it } from 'vitest';
import { writeDocumentBytes } from '../../src/canonical/bson-text-walker.js';
import { encodeCollection, type EncodedPart } from '../../src/canonical/encode-collection.js';
import { partFileText, writeDocument } from '../../src/canonical/index.js';
import { FormatError } from '../../src/errors/index.js';
import { sampleDocuments } from './sample-documents.js';

const WORDS = ['plain', 'café', '中文字', '😀 emoji', 'quote " and \\ backslash', 'tab\there', 'mixé "q" 😀', '\u2028 line sep', 'ÿ', '\u007f del'];

function unicodeDocuments(n: number): Document[] {
  return Array.from({ length: n }, (_, i) => ({
    _id: i % 3 === 0 ? `id-${WORDS[i % WORDS.length]}-${i}` : new ObjectId(Buffer.from(String(i).padStart(12, '0'))),
    [`clé-${WORDS[i % WORDS.length]}`]: WORDS[(i * 7) % WORDS.length]!.repeat(1 + (i % 5)),
    nested: { 'ключ': [WORDS[i % WORDS.length], { '😀': i }], code: new Code(`f("${WORDS[i % 4]}")`) },
    regex: new BSONRegExp(WORDS[i % 3]!, 'i'),
    symbol: new BSONSymbol(WORDS[(i + 1) % WORDS.length]!),
    n: i,
  }));
}

describe('writeDocumentBytes', () => {
  it('gives the UTF-8 of writeDocument text, its length in UTF-16 units and the same _id text', () => {
    const docs = [...sampleDocuments(200), ...unicodeDocuments(200)];
    for (const sortKeys of [false, true]) {
      for (const doc of docs) {
        const raw = BSON.serialize(doc);
        const { text, idText } = writeDocument(raw, { sortKeys });
        const bytes = writeDocumentBytes(raw, { sortKeys });
        expect(bytes.bytes.equals(Buffer.from(text, 'utf8'))).toBe(true);
        expect(bytes.units).toBe(text.length);
        expect(bytes.idText).toBe(idText);
      }
    }
  });

  it('refuses a string that is not valid UTF-8 (bad byte, overlong, surrogate, beyond U+10FFFF), naming the field', () => {
    const good = BSON.serialize({ _id: 1, s: 'éééé' });
    const at = good.indexOf(0xc3);
    for (const bad of [[0xc3, 0x28], [0xc0, 0xaf], [0xed, 0xa0], [0xf4, 0x90]]) {
      const raw = Buffer.from(good);
      raw[at] = bad[0]!;
      raw[at + 1] = bad[1]!;
      if (bad[0] === 0xed || bad[0] === 0xf4) raw[at + 2] = 0x80;
      expect(() => writeDocumentBytes(raw)).toThrow(FormatError);
      expect(() => writeDocumentBytes(raw)).toThrow(/\{"_id": 1\} at field s: string is not valid UTF-8/);
    }
  });
});

describe('part cutting by size, from the bytes', () => {
  it('cuts non-ASCII documents exactly where the text lengths say, and joins them as partFileText does', async () => {
    const raws = unicodeDocuments(400).map((d) => BSON.serialize(d));
    const maxPartBytes = 3000;
    const parts: EncodedPart[] = [];
    // partBits 30: content-defined cuts essentially never happen, so every cut is by size.
    await encodeCollection(raws, { partBits: 30, maxPartBytes, sortKeys: false }, (p) => {
      parts.push(p);
    });
    // The rule on the string writer's texts: a part is cut before the document that would take it past maxPartBytes.
    const expected: string[][] = [];
    let size = 0;
    for (const raw of raws) {
      const { text } = writeDocument(raw);
      if (expected.length === 0 || size + text.length > maxPartBytes) {
        expected.push([]);
        size = 0;
      }
      expected.at(-1)!.push(text);
      size += text.length + 2;
    }
    expect(parts.length).toBeGreaterThan(10);
    expect(parts.map((p) => p.documents)).toEqual(expected.map((t) => t.length));
    for (const [i, p] of parts.entries()) {
      expect(p.data.equals(Buffer.from(partFileText(expected[i]!), 'utf8'))).toBe(true);
      expect(p.text).toBe(partFileText(expected[i]!));
    }
  });
});
