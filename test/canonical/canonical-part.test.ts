import { Binary, BSON, BSONRegExp, Code, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp, type Document } from 'bson';
import { describe, expect, it } from 'vitest';
import { readCanonicalPart } from '../../src/canonical/canonical-part.js';
import { documentId } from '../../src/canonical/document-id.js';
import { compareBsonValues } from '../../src/canonical/bson-order.js';
import { partFileText, readPartFile, serializeDocument, writeDocument } from '../../src/canonical/index.js';
import { sampleDocuments } from './sample-documents.js';

/** The part text dbsnap writes for these documents (stored order). */
const partOf = (docs: Document[]) => partFileText(docs.map((d) => writeDocument(BSON.serialize(d)).text));

/** What verify's full check says of `text`: the reader's _ids when it parses and the writer gives it back exactly, else null. */
function fullCheck(text: string): unknown[] | null {
  let docs: Document[];
  try {
    docs = readPartFile(text, 't.json');
  } catch {
    return null;
  }
  try {
    return partFileText(docs.map((d) => writeDocument(serializeDocument(d)).text)) === text ? docs.map(documentId) : null;
  } catch {
    return null;
  }
}

const fast = (text: string) => readCanonicalPart(Buffer.from(text, 'utf8'), { ids: true });
const canonicalPartIds = (text: string): unknown[] | null => fast(text)?.ids ?? null;

/** The full way's BSON for a part: each document readPartFile reads, serialised. */
const fullBson = (text: string) => Buffer.concat(readPartFile(text, 't.json').map((d) => serializeDocument(d)));

const ejson = (ids: unknown[] | null) => (ids === null ? null : BSON.EJSON.stringify(ids as Document[], { relaxed: false }));

// Every type the check reads itself, in positions the writer treats differently (nested, in arrays, in an _id).
const handled: [string, unknown][] = [
  ['int32', new Int32(-2147483648)],
  ['int32 max', new Int32(2147483647)],
  ['double', new Double(0.1)],
  ['double tiny', new Double(5e-324)],
  ['double -1.5e-10', new Double(-1.5e-10)],
  ['double integral', new Double(10)],
  ['double 1e21', new Double(1e21)],
  ['double -0.0', new Double(-0)],
  ['double NaN', new Double(NaN)],
  ['double -Infinity', new Double(-Infinity)],
  ['int64', Long.fromString('-9223372036854775808')],
  ['int64 small', Long.fromNumber(90082)],
  ['int64 2^53+1', Long.fromString('9007199254740993')],
  ...['19.99', '0.05', '-0', '0', '0.000001', '0.0000001', '1.50', '1E+6144', '1234567890123456789012345678901234', '-123.456E-20'].map(
    (s): [string, unknown] => [`decimal ${s}`, Decimal128.fromString(s)],
  ),
  ['date', new Date('2024-02-29T23:59:59.999Z')],
  ['date epoch', new Date(0)],
  ['date before 1970', new Date('1969-07-20T20:17:40.000Z')],
  ['date year 9999', new Date('9999-12-31T23:59:59.999Z')],
  ['date year 20000', new Date('+020000-06-15T12:00:00.001Z')],
  ['objectid', new ObjectId('68a72cf14b78eb31b9af9e45')],
  ['binary', new Binary(Buffer.from('00ff10e29c93', 'hex'), 0x80)],
  ['binary empty', new Binary(Buffer.alloc(0), 0)],
  ['binary subtype 2', new Binary(Buffer.from('0011', 'hex'), 2)],
  ['timestamp', new Timestamp({ t: 4294967295, i: 0 })],
  ['minkey', new MinKey()],
  ['maxkey', new MaxKey()],
  ['strings', ['', 'Zürich, 東京', '😀', '\u0000\n"\\/\u007f\u2028', 'x'.repeat(300)]],
  ['null, booleans', [null, true, false]],
  ['nested', { a: [1, [2, [3, {}]], { b: { c: [] } }], d: {}, $x: 1 }],
  ['dbref-like', { $ref: 'x', $id: new Int32(5) }],
  ['integer-like keys', { b: 1, '2': 2, '1': 3 }],
];

describe('readCanonicalPart', () => {
  it('accepts the text of realistic documents and gives the reader\'s _ids', () => {
    const docs = sampleDocuments(300);
    const text = partOf(docs);
    const ids = canonicalPartIds(text);
    expect(ids).not.toBeNull();
    expect(ejson(ids)).toBe(ejson(fullCheck(text)));
    expect(ids!.every((id) => id instanceof ObjectId)).toBe(true);
    expect(canonicalPartIds('[]\n')).toEqual([]);
  });

  for (const [name, value] of handled) {
    it(`accepts ${name} as a value, in an array and in a nested document`, () => {
      const docs: Document[] = [{ _id: new Int32(1), v: value, list: [value, value], deep: { v: value } }, { _id: 'two', v: value }];
      const text = partOf(docs);
      expect(fullCheck(text)).not.toBeNull();
      expect(ejson(canonicalPartIds(text))).toBe(ejson(fullCheck(text)));
      // The BSON is the full way's, and the documents' own bytes.
      const part = fast(text)!;
      expect(part.bson.equals(fullBson(text))).toBe(true);
      expect(part.bson.equals(Buffer.concat(docs.map((d) => BSON.serialize(d))))).toBe(true);
    });
  }

  it('reads ObjectId, Int32 and string _ids as the reader does; other _id types are left to the full check', () => {
    const text = partOf([{ _id: new ObjectId('68a72cf14b78eb31b9af9e45') }, { _id: new Int32(-5) }, { _id: 'a"b' }]);
    const ids = canonicalPartIds(text)!;
    expect(ids[0]).toBeInstanceOf(ObjectId);
    expect(ids[1]).toBeInstanceOf(Int32);
    expect(ejson(ids)).toBe(ejson(fullCheck(text)));
    for (const id of [Long.fromNumber(1), new Date(0), { a: 1 }, new Double(1.5)]) {
      const t = partOf([{ _id: id }]);
      expect(fullCheck(t)).not.toBeNull();
      expect(canonicalPartIds(t)).toBeNull();
    }
    // No _id at all: the full check names the document.
    expect(canonicalPartIds(partOf([{ a: 1 }]))).toBeNull();
  });

  it('leaves rare types and escaped documents to the full check', () => {
    for (const value of [new BSONRegExp('a', 'i'), new Code('f()'), { $oid: 'not a wrapper' }]) {
      const text = partOf([{ _id: 1, v: value }]);
      expect(fullCheck(text)).not.toBeNull();
      expect(canonicalPartIds(text)).toBeNull();
    }
  });

  it('refuses every hand edit the writer would not have made', () => {
    const good = partOf([{ _id: new ObjectId('68a72cf14b78eb31b9af9e45'), n: 1, d: 0.5, s: 'x', t: new Date(0), l: Long.fromNumber(7), m: Decimal128.fromString('1.50') }]);
    expect(canonicalPartIds(good)).not.toBeNull();
    const edits: [string, string][] = [
      ['"n": 1', '"n": 1.0'],
      ['"n": 1', '"n": 01'],
      ['"n": 1', '"n":  1'],
      ['"d": 0.5', '"d": 5e-1'],
      ['"d": 0.5', '"d": 0.50'],
      ['68a72cf14b78eb31b9af9e45', '68A72CF14B78EB31B9AF9E45'],
      ['"s": "x"', '"s": "\\u0078"'],
      ['"s": "x"', '"n": "x"'],
      ['1970-01-01T00:00:00.000Z', '1970-01-01T00:00:00Z'],
      ['1970-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000+00:00'],
      ['1970-01-01T00:00:00.000Z', '1970-02-30T00:00:00.000Z'],
      ['{"$numberLong": "7"}', '{"$numberLong": "07"}'],
      ['{"$numberLong": "7"}', '{"$numberLong":"7"}'],
      ['{"$numberDecimal": "1.50"}', '{"$numberDecimal": "01.50"}'],
      ['{"$numberDecimal": "1.50"}', '{"$numberDecimal": "1.5E0"}'],
      ['\n  }', '\n }'],
      ['\n  }', ' \n  }'],
      ['\n]\n', '\n]'],
      ['\n]\n', '\n]\n\n'],
    ];
    for (const [from, to] of edits) {
      const text = good.replace(from, to);
      expect(text).not.toBe(good);
      expect(canonicalPartIds(text)).toBeNull();
    }
  });

  it('never accepts text the full check refuses (random single-character edits)', () => {
    const docs: Document[] = [...sampleDocuments(3), ...handled.map(([, v], i) => ({ _id: new Int32(i), v }))];
    const texts = docs.map((d) => partOf([d]));
    let seed = 11;
    const next = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) | 0;
      return (seed >>> 0) / 4294967296;
    };
    const alphabet = ['0', '1', '9', '-', '+', '.', 'e', 'E', '"', '\\', ' ', '\n', ',', ':', '{', '}', '[', ']', 'a', 'f', 'A', 'Z', '$', 'é'];
    let accepted = 0;
    let refused = 0;
    for (let n = 0; n < 6000; n++) {
      const text = texts[Math.floor(next() * texts.length)]!;
      const at = Math.floor(next() * text.length);
      const ch = alphabet[Math.floor(next() * alphabet.length)]!;
      const op = Math.floor(next() * 3);
      const edited = op === 0 ? text.slice(0, at) + text.slice(at + 1) : op === 1 ? text.slice(0, at) + ch + text.slice(at) : text.slice(0, at) + ch + text.slice(at + 1);
      if (edited === text) continue;
      const fast = canonicalPartIds(edited);
      if (fast === null) {
        refused++;
        continue;
      }
      accepted++;
      // Accepted: the full check must agree, with the same _ids and the same BSON.
      expect(ejson(fullCheck(edited)), edited).toBe(ejson(fast));
      expect(readCanonicalPart(Buffer.from(edited))!.bson.equals(fullBson(edited)), edited).toBe(true);
    }
    expect(accepted).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(1000);
  });

  it('gives each document\'s BSON at its offset, as serializeDocument gives the reader\'s document', () => {
    const docs = sampleDocuments(200);
    const text = partOf(docs);
    const part = fast(text)!;
    const read = readPartFile(text, 't.json');
    expect(part.starts).toHaveLength(docs.length + 1);
    expect(part.starts[docs.length]).toBe(part.bson.length);
    for (let i = 0; i < docs.length; i++) {
      const bytes = part.bson.subarray(part.starts[i], part.starts[i + 1]);
      expect(Buffer.compare(bytes, serializeDocument(read[i]!))).toBe(0);
      expect(Buffer.compare(bytes, BSON.serialize(docs[i]!))).toBe(0);
    }
    // Without BSON: the same _ids and offsets, no bytes kept.
    const idsOnly = readCanonicalPart(Buffer.from(text), { bson: false, ids: true })!;
    expect(idsOnly.bson.length).toBe(0);
    expect(idsOnly.starts).toEqual(part.starts);
    expect(ejson(idsOnly.ids)).toBe(ejson(part.ids));
    const empty = fast('[]\n')!;
    expect(empty.ids).toEqual([]);
    expect(empty.starts).toEqual([0]);
  });

  it('refuses bytes that are not UTF-8, which the full way would read as U+FFFD', () => {
    const bytes = Buffer.from(partOf([{ _id: new Int32(1), s: 'caf\u00e9' }]), 'utf8');
    expect(readCanonicalPart(bytes)).not.toBeNull();
    const at = bytes.indexOf(0xc3);
    for (const bad of [[0xff], [0xc3, 0x28], [0xed, 0xa0]]) {
      const edited = Buffer.from(bytes);
      edited.set(bad, at);
      expect(readCanonicalPart(edited)).toBeNull();
    }
  });

  it('leaves dates a JS Date cannot hold, Undefined and DBPointer to the full way (restore refuses them there)', () => {
    const far = partOf([{ _id: new Int32(1), d: new Date(0) }]).replace('"1970-01-01T00:00:00.000Z"', '{"$numberLong": "9000000000000000"}');
    const farText = far.replace('{"$date": "', '{"$date": ').replace('{"$numberLong": "9000000000000000"}"}', '{"$numberLong": "9000000000000000"}}');
    expect(farText).toContain('{"$date": {"$numberLong": "9000000000000000"}}');
    expect(readPartFile(farText, 't.json')).toHaveLength(1);
    expect(fast(farText)).toBeNull();
    // Before 1970, within a JS Date: read here.
    const early = partOf([{ _id: new Int32(1), d: new Date(-86400000) }]);
    expect(fast(early)!.bson.equals(fullBson(early))).toBe(true);
    const undef = '[\n  {\n    "_id": 1,\n    "u": {"$undefined": true}\n  }\n]\n';
    expect(readPartFile(undef, 't.json')).toHaveLength(1);
    expect(fast(undef)).toBeNull();
  });

  it('gives the same BSON when a document outgrows the output buffer in the middle of a value', () => {
    // Over 16 MB: the reader drops its buffer afterwards, so the second call grows it again from
    // its small start, inside nested values and strings.
    const docs: Document[] = [];
    for (let i = 0; i < 6; i++) docs.push({ _id: new Int32(i), a: { b: ['x'.repeat(3_000_000), { c: 'y'.repeat(500_000), n: new Int32(i) }] }, z: 'end' });
    const text = partOf(docs);
    const expected = Buffer.concat(docs.map((d) => BSON.serialize(d)));
    for (let round = 0; round < 2; round++) expect(fast(text)!.bson.equals(expected)).toBe(true);
  });

  it('writes every Decimal128 as its own bytes, plain and exponent forms, signs and zeros', () => {
    let seed = 5;
    const next = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) | 0;
      return Math.floor(((seed >>> 0) / 4294967296) * n);
    };
    const texts: string[] = ['0', '-0', '0.0', '-0.00', '0.000001', '0.0000001', '1E+3', '123456789012345', '1234567890123456', '0.123456789012345'];
    for (let i = 0; i < 400; i++) {
      const digits = Array.from({ length: 1 + next(18) }, () => String(next(10))).join('');
      const point = next(digits.length + 1);
      const text = (next(2) ? '-' : '') + digits.slice(0, point) + (point < digits.length ? '.' + digits.slice(point) : '');
      texts.push(text.startsWith('.') || text.startsWith('-.') ? text.replace('.', '0.') : text);
    }
    const docs: Document[] = texts.map((t, i) => ({ _id: new Int32(i), d: Decimal128.fromString(t) }));
    const text = partOf(docs);
    const part = fast(text);
    expect(part).not.toBeNull();
    expect(part!.bson.equals(Buffer.concat(docs.map((d) => BSON.serialize(d))))).toBe(true);
  });

  it('writes array indexes past one digit and Int64s of every length as their own bytes', () => {
    const longs = ['0', '7', '-7', '123456789012345', '-123456789012345', '1234567890123456', '-9223372036854775808', '9223372036854775807'];
    const docs: Document[] = [
      { _id: new Int32(1), list: Array.from({ length: 1234 }, (_, i) => new Int32(i)) },
      { _id: new Int32(2), longs: longs.map((l) => Long.fromString(l)), nested: [[...Array(12).keys()].map((i) => ({ i: new Int32(i) }))] },
    ];
    const text = partOf(docs);
    expect(fast(text)!.bson.equals(Buffer.concat(docs.map((d) => BSON.serialize(d))))).toBe(true);
    // Leading zeros and "-0" are not the writer's: refused.
    for (const bad of ['07', '-0', '00']) expect(fast(text.replace('{"$numberLong": "7"}', `{"$numberLong": "${bad}"}`))).toBeNull();
  });

  it('lists no _ids when they strictly ascend in one type (compared as MongoDB orders them), and every _id otherwise', () => {
    let seed = 17;
    const next = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) | 0;
      return Math.floor(((seed >>> 0) / 4294967296) * n);
    };
    const pools: (() => unknown)[] = [
      () => new ObjectId(Buffer.from(Array.from({ length: 12 }, () => [0, 1, 0x7f, 0x80, 0xff][next(5)]!))),
      () => new Int32([-2147483648, -1, 0, 1, 2, 2147483647][next(6)]!),
      () => ['', 'a', 'ab', 'b', 'é', 'z', '東', '😀', 'a\u0000', 'a"b'][next(10)]!,
    ];
    let ascendingSeen = 0;
    let listedSeen = 0;
    for (let round = 0; round < 600; round++) {
      const mixed = next(10) === 0;
      const pool = pools[next(3)]!;
      let ids = Array.from({ length: 1 + next(4) }, () => (mixed ? pools[next(3)]!() : pool()));
      // Half sorted without repeats (mostly strictly ascending), half as drawn.
      if (next(2)) ids = ids.sort(compareBsonValues).filter((id, i, all) => i === 0 || compareBsonValues(all[i - 1], id) !== 0);
      const text = partOf(ids.map((_id) => ({ _id })));
      const part = readCanonicalPart(Buffer.from(text))!;
      expect(part, text).not.toBeNull();
      const strictly = ids.every((id, i) => i === 0 || (compareBsonValues(ids[i - 1], id) < 0 && typeof id === typeof ids[i - 1] && (id as object)?.constructor === (ids[i - 1] as object)?.constructor));
      const escaped = ids.some((id) => typeof id === 'string' && JSON.stringify(id) !== `"${id}"`);
      expect(ejson([part.firstId, part.lastId]), text).toBe(ejson([ids[0], ids[ids.length - 1]]));
      expect(part.documents).toBe(ids.length);
      if (part.ids === null) {
        expect(strictly, text).toBe(true);
        ascendingSeen++;
      } else {
        expect(ejson(part.ids)).toBe(ejson(ids));
        expect(strictly && !escaped && !mixed, text).toBe(false);
        listedSeen++;
      }
    }
    expect(ascendingSeen).toBeGreaterThan(100);
    expect(listedSeen).toBeGreaterThan(100);
  });
});
