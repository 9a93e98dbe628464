import {
  Binary,
  BSON,
  BSONRegExp,
  BSONSymbol,
  Code,
  DBRef,
  Decimal128,
  Double,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  type Document,
} from 'bson';
import { describe, expect, it } from 'vitest';
import {
  DbPointer,
  partFileText,
  readPartFile,
  readValue,
  serializeDocument,
  writeDocument,
  writeDocumentObject,
} from '../../src/canonical/index.js';
import { FormatError } from '../../src/errors/index.js';
import { sampleDocuments } from './sample-documents.js';

// ---- hand-built BSON, for what BSON.serialize cannot produce ----------------------------------

const i32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32LE(n);
  return b;
};
const i64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64LE(n);
  return b;
};
const cstr = (s: string) => Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])]);
const str = (s: string | Buffer) => {
  const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
  return Buffer.concat([i32(b.length + 1), b, Buffer.from([0])]);
};
const el = (type: number, key: string, payload: Buffer = Buffer.alloc(0)) =>
  Buffer.concat([Buffer.from([type]), cstr(key), payload]);
const bdoc = (...elements: Buffer[]) => {
  const body = Buffer.concat(elements);
  return Buffer.concat([i32(body.length + 5), body, Buffer.from([0])]);
};

// ---- helpers ----------------------------------------------------------------------------------

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** raw -> text -> part file -> documents -> bytes; returns the part file text and the document read. */
function roundTrip(raw: Uint8Array, opts?: { sortKeys?: boolean }): { part: string; doc: Document; text: string; idText: string } {
  const { text, idText } = writeDocument(raw, opts);
  const part = partFileText([text]);
  expect(() => JSON.parse(part)).not.toThrow();
  const docs = readPartFile(part, 'test.json');
  expect(docs).toHaveLength(1);
  return { part, doc: docs[0], text, idText };
}

/** Asserts the round trip gives the original bytes, through our serializer and (unless told) BSON.serialize. */
function expectExact(raw: Uint8Array, viaBsonSerialize = true): Document {
  const { doc } = roundTrip(raw);
  expect(hex(serializeDocument(doc))).toBe(hex(raw));
  if (viaBsonSerialize) expect(hex(BSON.serialize(doc))).toBe(hex(raw));
  // Writing what was read gives the same text again.
  expect(writeDocumentObject(doc).text).toBe(writeDocument(raw).text);
  return doc;
}

/** Text of one field `v` as written in a document. */
const fieldText = (value: unknown) => {
  const { text } = writeDocument(BSON.serialize({ v: value }));
  return text.split('\n')[1].replace(/^ {4}"v": /, '');
};

// ---- the format -------------------------------------------------------------------------------

describe('writeDocument text', () => {
  it('writes the representative document exactly', () => {
    const raw = BSON.serialize({
      _id: new ObjectId('68a72cf14b78eb31b9af9e45'),
      firstName: 'Test',
      qty: 5,
      score: 19.5,
      whole: new Double(10),
      big: Long.fromNumber(123),
      price: Decimal128.fromString('19.99'),
      createdAt: new Date('2025-08-21T14:54:14.519Z'),
      address: { city: 'Zürich', zip: null },
      tags: ['a', { k: 1 }],
      emptyDoc: {},
      emptyArr: [],
    });
    const { text, idText } = writeDocument(raw);
    const expected = [
      '  {',
      '    "_id": {"$oid": "68a72cf14b78eb31b9af9e45"},',
      '    "firstName": "Test",',
      '    "qty": 5,',
      '    "score": 19.5,',
      '    "whole": {"$numberDouble": "10.0"},',
      '    "big": {"$numberLong": "123"},',
      '    "price": {"$numberDecimal": "19.99"},',
      '    "createdAt": {"$date": "2025-08-21T14:54:14.519Z"},',
      '    "address": {',
      '      "city": "Zürich",',
      '      "zip": null',
      '    },',
      '    "tags": [',
      '      "a",',
      '      {',
      '        "k": 1',
      '      }',
      '    ],',
      '    "emptyDoc": {},',
      '    "emptyArr": []',
      '  }',
    ].join('\n');
    expect(text).toBe(expected);
    expect(idText).toBe('{"$oid": "68a72cf14b78eb31b9af9e45"}');
    expect(partFileText([text, text])).toBe(`[\n${expected},\n${expected}\n]\n`);
    expectExact(raw);
  });

  it('writes an empty part as []', () => {
    expect(partFileText([])).toBe('[]\n');
    expect(readPartFile('[]\n', 'empty.json')).toEqual([]);
  });

  it('writes numbers by the double/int rule', () => {
    expect(fieldText(new Int32(5))).toBe('5');
    expect(fieldText(new Int32(-2147483648))).toBe('-2147483648');
    expect(fieldText(new Double(19.5))).toBe('19.5');
    expect(fieldText(new Double(0.1))).toBe('0.1');
    expect(fieldText(new Double(1e-7))).toBe('1e-7');
    expect(fieldText(new Double(5e-324))).toBe('5e-324');
    expect(fieldText(new Double(10))).toBe('{"$numberDouble": "10.0"}');
    expect(fieldText(new Double(-0))).toBe('{"$numberDouble": "-0.0"}');
    expect(fieldText(new Double(0))).toBe('{"$numberDouble": "0.0"}');
    expect(fieldText(new Double(1e300))).toBe('{"$numberDouble": "1e+300"}');
    expect(fieldText(new Double(2 ** 53))).toBe('{"$numberDouble": "9007199254740992.0"}');
    expect(fieldText(new Double(NaN))).toBe('{"$numberDouble": "NaN"}');
    expect(fieldText(new Double(Infinity))).toBe('{"$numberDouble": "Infinity"}');
    expect(fieldText(new Double(-Infinity))).toBe('{"$numberDouble": "-Infinity"}');
    expect(fieldText(Long.fromString('-9223372036854775808'))).toBe('{"$numberLong": "-9223372036854775808"}');
    expect(fieldText(Decimal128.fromString('-0'))).toBe('{"$numberDecimal": "-0"}');
  });

  it('writes every other type in its one-line wrapper', () => {
    const oid = new ObjectId('0123456789abcdef01234567');
    expect(fieldText(oid)).toBe('{"$oid": "0123456789abcdef01234567"}');
    expect(fieldText(new Date(-1))).toBe('{"$date": {"$numberLong": "-1"}}');
    expect(fieldText(new Date('9999-12-31T23:59:59.999Z'))).toBe('{"$date": "9999-12-31T23:59:59.999Z"}');
    expect(fieldText(new Date('+010000-01-01T00:00:00.000Z'))).toBe('{"$date": {"$numberLong": "253402300800000"}}');
    expect(fieldText(new Binary(Buffer.from('hi'), 0x80))).toBe('{"$binary": {"base64": "aGk=", "subType": "80"}}');
    expect(fieldText(new Binary(Buffer.from('hi'), 2))).toBe('{"$binary": {"base64": "aGk=", "subType": "02"}}');
    expect(fieldText(new Timestamp({ t: 1, i: 2 }))).toBe('{"$timestamp": {"t": 1, "i": 2}}');
    expect(fieldText(new BSONRegExp('^a"\\d', 'im'))).toBe(
      '{"$regularExpression": {"pattern": "^a\\"\\\\d", "options": "im"}}',
    );
    expect(fieldText(new MinKey())).toBe('{"$minKey": 1}');
    expect(fieldText(new MaxKey())).toBe('{"$maxKey": 1}');
    expect(fieldText(new Code('x => 1'))).toBe('{"$code": "x => 1"}');
    expect(fieldText(new Code('f()', { a: new Int32(1), n: { $oid: 1, b: [1, {}] } }))).toBe(
      '{"$code": "f()", "$scope": {"a": 1, "n": {"$dbsnapDocument": {"$oid": 1, "b": [1, {}]}}}}',
    );
    expect(fieldText(new BSONSymbol('sym'))).toBe('{"$symbol": "sym"}');
    expect(fieldText('Zürich 😀 "q" \\ \n\u0001')).toBe('"Zürich 😀 \\"q\\" \\\\ \\n\\u0001"');
    const undef = writeDocument(bdoc(el(0x06, 'v'))).text;
    expect(undef).toBe('  {\n    "v": {"$undefined": true}\n  }');
    const pointer = writeDocument(bdoc(el(0x0c, 'v', Buffer.concat([str('db.coll'), oid.id])))).text;
    expect(pointer).toBe('  {\n    "v": {"$dbPointer": {"$ref": "db.coll", "$id": {"$oid": "0123456789abcdef01234567"}}}\n  }');
  });

  it('keeps _id on one line and gives its text', () => {
    const { text, idText } = writeDocument(BSON.serialize({ _id: { b: 1, a: { c: [1, 2] } }, x: { y: 1 } }));
    expect(idText).toBe('{"b": 1, "a": {"c": [1, 2]}}');
    expect(text).toBe('  {\n    "_id": {"b": 1, "a": {"c": [1, 2]}},\n    "x": {\n      "y": 1\n    }\n  }');
    expect(writeDocument(BSON.serialize({ _id: 'abc' })).idText).toBe('"abc"');
    expect(writeDocument(BSON.serialize({ _id: 5 })).idText).toBe('5');
    expect(writeDocument(BSON.serialize({ a: 5 })).idText).toBe('');
  });

  it('escapes documents whose first key would read as a type wrapper, and only those', () => {
    const raw = BSON.serialize({ _id: 1, a: { $oid: 'not an id' }, r: { $ref: 'c', $id: 2 }, later: { x: 1, $date: 2 } });
    const { text } = writeDocument(raw);
    expect(text).toBe(
      [
        '  {',
        '    "_id": 1,',
        '    "a": {',
        '      "$dbsnapDocument": {',
        '        "$oid": "not an id"',
        '      }',
        '    },',
        '    "r": {',
        '      "$ref": "c",',
        '      "$id": 2',
        '    },',
        '    "later": {',
        '      "x": 1,',
        '      "$date": 2',
        '    }',
        '  }',
      ].join('\n'),
    );
    const doc = expectExact(raw);
    expect(doc.a).toEqual({ $oid: 'not an id' });
  });
});

// ---- lossless round trips ---------------------------------------------------------------------

describe('round trip raw BSON -> text -> documents -> identical bytes', () => {
  const values: [string, unknown][] = [
    ['double integral', new Double(10)],
    ['double -0.0', new Double(-0)],
    ['double NaN', new Double(NaN)],
    ['double Infinity', new Double(Infinity)],
    ['double -Infinity', new Double(-Infinity)],
    ['double 0.1', new Double(0.1)],
    ['double 1e300', new Double(1e300)],
    ['double 5e-324', new Double(5e-324)],
    ['double max', new Double(Number.MAX_VALUE)],
    ['double 1e21', new Double(1e21)],
    ['double 123456789012345680000', new Double(123456789012345680000)],
    ['double -1.5e-10', new Double(-1.5e-10)],
    ['int32 min', new Int32(-2147483648)],
    ['int32 max', new Int32(2147483647)],
    ['int32 0', new Int32(0)],
    ['int64 min', Long.MIN_VALUE],
    ['int64 max', Long.MAX_VALUE],
    ['int64 2^53+1', Long.fromString('9007199254740993')],
    ['int64 -1', Long.fromNumber(-1)],
    ...['19.99', 'NaN', '-0', '0', 'Infinity', '-Infinity', '1E+6144', '9.999999999999999999999999999999999E+6144', '1E-6176',
      '-1.000', '0E-10', '0E+3', '1234567890123456789012345678901234', '0.0000001', '-123.456E-20', '1.0E+33'].map(
      (s): [string, unknown] => [`decimal ${s}`, Decimal128.fromString(s)],
    ),
    ['string unicode', 'Zürich, 東京, Ελλάδα'],
    ['string emoji', '😀🎉👩‍👩‍👧'],
    ['string control chars', '\u0000\u0001\u001f\n\r\t"\\/\u007f\u2028\u2029\ufeff'],
    ['string empty', ''],
    ['date epoch', new Date(0)],
    ['date before 1970', new Date('1969-07-20T20:17:40.000Z')],
    ['date -1 ms', new Date(-1)],
    ['date year 1', new Date('0001-01-01T00:00:00.000Z')],
    ['date year 9999', new Date('9999-12-31T23:59:59.999Z')],
    ['date year 20000', new Date('+020000-06-15T12:00:00.001Z')],
    ['date min JS', new Date(-8.64e15)],
    ['date max JS', new Date(8.64e15)],
    ['objectid', new ObjectId('68a72cf14b78eb31b9af9e45')],
    ...[0, 1, 2, 3, 4, 5, 6, 7, 0x80, 0xff].flatMap((t): [string, unknown][] => [
      [`binary ${t} empty`, new Binary(Buffer.alloc(0), t)],
      [`binary ${t} data`, new Binary(Buffer.from(t === 4 || t === 3 ? '00112233445566778899aabbccddeeff' : '00ff10e29c93', 'hex'), t)],
    ]),
    ['timestamp', new Timestamp({ t: 1, i: 2 })],
    ['timestamp max', new Timestamp({ t: 4294967295, i: 4294967295 })],
    ['regex', new BSONRegExp('^a.*b$', 'imsx')],
    ['regex no options', new BSONRegExp('x', '')],
    ['minkey', new MinKey()],
    ['maxkey', new MaxKey()],
    ['null', null],
    ['true', true],
    ['false', false],
    ['nested', { a: [1, [2, [3, {}]], { b: { c: [] } }], d: {} }],
    ['empty doc', {}],
    ['empty array', []],
    ['array of mixed', [new Int32(1), 'two', new Double(3.5), null, [], {}, new MinKey()]],
    ['code', new Code('function () { return "x"; }')],
    ['code with scope', new Code('f(x)', { x: new Int32(1), d: { $oid: 'literal' }, n: { a: [new Long(1, 0)] } })],
    ['code with empty scope', new Code('g()', {})],
    ['dbref', new DBRef('coll', new ObjectId('68a72cf14b78eb31b9af9e45'), 'db', { extra: new Int32(1) })],
    ['dbref-like user doc', { $ref: 'x', $id: new Int32(5) }],
    ['symbol', new BSONSymbol('a symbol')],
    ['user $oid doc', { $oid: 'x' }],
    ['user $ keys', { $numberLong: 5, $binary: { $code: 'c' }, $dbsnapDocument: 1 }],
    ['user $ref-first non-dbref', { $ref: 1, other: { $id: 2 } }],
    ['__proto__ key', JSON.parse('{"__proto__": {"polluted": true}, "b": 1}')],
  ];

  for (const [name, value] of values) {
    it(name, () => {
      expectExact(BSON.serialize({ _id: new Int32(1), v: value, after: 'x' }));
    });
  }

  it('a document with every type at once, and nested in arrays', () => {
    const doc: Document = {};
    values.forEach(([name, value], i) => (doc[`f${i} ${name}`] = value));
    const raw = BSON.serialize({ _id: new ObjectId(), all: doc, list: values.map(([, v]) => v) });
    expectExact(raw);
    // The same document decoded by the driver's bson (DBRef, UUID and BSONSymbol instances ...)
    // writes the same text as its raw bytes.
    const decoded = BSON.deserialize(raw, { promoteValues: false, bsonRegExp: true });
    expect(writeDocumentObject(decoded).text).toBe(writeDocument(raw).text);
  });

  it('compound _id keeps its field order, also under sortKeys', () => {
    const raw = BSON.serialize({ _id: { b: 1, a: 2 }, z: 1, a: 1 });
    const { doc, idText } = roundTrip(raw);
    expect(idText).toBe('{"b": 1, "a": 2}');
    expect(Object.keys(doc._id)).toEqual(['b', 'a']);
    expect(hex(serializeDocument(doc))).toBe(hex(raw));
    const sorted = roundTrip(raw, { sortKeys: true });
    expect(sorted.idText).toBe('{"b": 1, "a": 2}');
    expect(Object.keys(sorted.doc)).toEqual(['_id', 'a', 'z']);
    expect(hex(BSON.serialize(sorted.doc))).toBe(hex(BSON.serialize({ _id: { b: 1, a: 2 }, a: 1, z: 1 })));
  });

  it('BSON Undefined (0x06)', () => {
    const raw = bdoc(el(0x10, '_id', i32(1)), el(0x06, 'u'), el(0x04, 'arr', bdoc(el(0x06, '0'))));
    const doc = expectExact(raw, false);
    expect(doc.u).toBeUndefined();
    expect('u' in doc).toBe(true);
  });

  it('DBPointer (0x0C)', () => {
    const oid = new ObjectId('68a72cf14b78eb31b9af9e45');
    const raw = bdoc(el(0x10, '_id', i32(1)), el(0x0c, 'p', Buffer.concat([str('mydb.my.coll'), oid.id])));
    const doc = expectExact(raw, false);
    expect(doc.p).toBeInstanceOf(DbPointer);
    expect(doc.p.collection).toBe('mydb.my.coll');
  });

  it('regex options in stored (unsorted) order', () => {
    const raw = bdoc(el(0x0b, 're', Buffer.concat([cstr('a+'), cstr('xmi')])));
    const { text } = roundTrip(raw);
    expect(text).toContain('"options": "xmi"');
    expectExact(raw, false);
  });

  it('binary subtype 2 keeps its inner length', () => {
    const raw = bdoc(el(0x05, 'b', Buffer.concat([i32(7), Buffer.from([2]), i32(3), Buffer.from('abc')])));
    expect(writeDocument(raw).text).toContain('{"$binary": {"base64": "YWJj", "subType": "02"}}');
    expectExact(raw);
  });

  it('dates outside a JS Date range', () => {
    for (const ms of [2n ** 63n - 1n, -(2n ** 63n), 8640000000000001n, -8640000000000001n]) {
      const raw = bdoc(el(0x09, 'd', i64(ms)));
      expect(writeDocument(raw).text).toContain(`{"$date": {"$numberLong": "${ms}"}}`);
      expectExact(raw, false);
    }
  });

  it('integer-like keys keep their stored order', () => {
    // BSON.serialize would move "2" first, so the original bytes are built by hand.
    const raw = bdoc(
      el(0x10, '_id', i32(1)),
      el(0x03, 'nested', bdoc(el(0x10, 'b', i32(1)), el(0x10, '2', i32(2)), el(0x10, '10', i32(3)))),
      el(0x03, 'ascending', bdoc(el(0x10, '1', i32(1)), el(0x10, '7', i32(2)), el(0x10, 'z', i32(3)))),
      el(0x03, 'notIndexes', bdoc(el(0x10, 'b', i32(1)), el(0x10, '01', i32(2)), el(0x10, '4294967295', i32(3)), el(0x10, '-1', i32(4)))),
      el(0x03, 'escaped', bdoc(el(0x10, '$oid', i32(1)), el(0x10, '3', i32(2)))),
      el(0x10, '5', i32(5)),
    );
    const { text, doc } = roundTrip(raw);
    expect(text).toContain('"nested": {\n      "b": 1,\n      "2": 2,\n      "10": 3\n    }');
    // A top-level document that a plain object cannot keep in order comes back as a Map.
    expect(doc).toBeInstanceOf(Map);
    const top = doc as unknown as Map<string, unknown>;
    expect([...top.keys()]).toEqual(['_id', 'nested', 'ascending', 'notIndexes', 'escaped', '5']);
    expect(top.get('nested')).toBeInstanceOf(Map);
    expect(top.get('ascending')).not.toBeInstanceOf(Map);
    expect(top.get('notIndexes')).not.toBeInstanceOf(Map);
    expect(hex(serializeDocument(doc))).toBe(hex(raw));
    expect(hex(BSON.serialize(doc))).toBe(hex(raw));
    expect(writeDocumentObject(doc).text).toBe(writeDocument(raw).text);
  });

  it('reads many documents in one part, a reordered one among ordinary ones', () => {
    const raws = [
      BSON.serialize({ _id: 1, a: 'x' }),
      bdoc(el(0x10, '_id', i32(2)), el(0x10, 'b', i32(1)), el(0x10, '0', i32(2))),
      BSON.serialize({ _id: 3, a: { $oid: 'y' } }),
    ];
    const docs = readPartFile(partFileText(raws.map((r) => writeDocument(r).text)), 'p.json');
    expect(docs.map((d) => hex(serializeDocument(d)))).toEqual(raws.map(hex));
    expect(docs[0]).not.toBeInstanceOf(Map);
  });

  it('realistic documents', () => {
    const raws = sampleDocuments(300).map((d) => BSON.serialize(d));
    const part = partFileText(raws.map((r) => writeDocument(r).text));
    expect(() => JSON.parse(part)).not.toThrow();
    const docs = readPartFile(part, 'orders.json');
    expect(docs.map((d) => hex(BSON.serialize(d)))).toEqual(raws.map(hex));
  });

  it('decimal and date formatting agree with bson and Date on many values', () => {
    let seed = 7;
    const next = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) | 0;
      return (seed >>> 0) / 4294967296;
    };
    for (let i = 0; i < 3000; i++) {
      const digits = String(Math.floor(next() * 10 ** Math.floor(next() * 17)));
      const s = i % 2 === 0 ? `${next() < 0.5 ? '-' : ''}${digits}E${Math.floor(next() * 60) - 40}` : (next() * 1000).toFixed(i % 9);
      const d = Decimal128.fromString(s);
      const raw = BSON.serialize({ d });
      expect(writeDocument(raw).text).toBe(`  {\n    "d": {"$numberDecimal": "${d.toString()}"}\n  }`);
      expect(hex(serializeDocument(readPartFile(partFileText([writeDocument(raw).text]))[0]))).toBe(hex(raw));
      const ms = Math.floor(next() * 253402300800000);
      expect(writeDocument(BSON.serialize({ t: new Date(ms) })).text).toBe(`  {\n    "t": {"$date": "${new Date(ms).toISOString()}"}\n  }`);
    }
  });
});

// ---- sortKeys ---------------------------------------------------------------------------------

describe('sortKeys', () => {
  it('sorts every document by code unit except _id and DBRefs, escaping when a $ key comes first', () => {
    const raw = BSON.serialize({
      _id: { z: 1, a: 1 },
      b: { y: 1, x: 1, $id: 1 },
      a: [{ d: 1, c: 1 }],
      ref: { $ref: 'c', $id: 1, $db: 'd' },
      B: 1,
    });
    const { text } = writeDocument(raw, { sortKeys: true });
    expect(text).toBe(
      [
        '  {',
        '    "_id": {"z": 1, "a": 1},',
        '    "B": 1,',
        '    "a": [',
        '      {',
        '        "c": 1,',
        '        "d": 1',
        '      }',
        '    ],',
        '    "b": {',
        '      "$dbsnapDocument": {',
        '        "$id": 1,',
        '        "x": 1,',
        '        "y": 1',
        '      }',
        '    },',
        '    "ref": {',
        '      "$ref": "c",',
        '      "$id": 1,',
        '      "$db": "d"',
        '    }',
        '  }',
      ].join('\n'),
    );
    expect(() => readPartFile(partFileText([text]))).not.toThrow();
  });
});

// ---- readValue and writeDocumentObject -------------------------------------------------------

describe('readValue and writeDocumentObject', () => {
  it('reads idText back to the _id value', () => {
    for (const id of [new ObjectId(), new Int32(5), 'abc', { b: new Int32(1), a: new Int32(2) }, new Double(1.5), Long.fromNumber(7), { $oid: 'x' }]) {
      const raw = BSON.serialize({ _id: id });
      const { idText } = writeDocument(raw);
      expect(hex(serializeDocument({ _id: readValue(idText, 'id') }))).toBe(hex(raw));
    }
  });

  it('writes a decoded document like its raw bytes; plain numbers follow the Int32/Double rule', () => {
    const raw = sampleDocuments(20).map((d) => BSON.serialize(d));
    for (const r of raw) {
      expect(writeDocumentObject(BSON.deserialize(r, { promoteValues: false })).text).toBe(writeDocument(r).text);
    }
    const { text } = writeDocumentObject({ _id: 1, i: 2147483647, big: 2147483648, f: 1.5, neg: -0, n: 10n, u: undefined });
    expect(text).toBe(
      '  {\n    "_id": 1,\n    "i": 2147483647,\n    "big": {"$numberDouble": "2147483648.0"},\n    "f": 1.5,\n' +
        '    "neg": {"$numberDouble": "-0.0"},\n    "n": {"$numberLong": "10"},\n    "u": {"$undefined": true}\n  }',
    );
  });
});

// ---- errors -----------------------------------------------------------------------------------

function formatError(fn: () => unknown): FormatError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FormatError);
    expect((err as FormatError).code).toBe('EFORMAT');
    return err as FormatError;
  }
  throw new Error('expected a FormatError');
}

describe('bad input', () => {
  const part = (docText: string) => `[\n  {"_id": 1},\n  ${docText}\n]\n`;

  it('rejects invalid JSON, naming the source and line', () => {
    const err = formatError(() => readPartFile('[\n  {"_id": 1},\n  {"a": }\n]\n', 'users/part-0001.json'));
    expect(err.message).toContain('users/part-0001.json');
    expect(err.message).toMatch(/line 3/);
  });

  it('rejects a file that is not an array of documents', () => {
    expect(formatError(() => readPartFile('{"a": 1}', 'x.json')).message).toContain('x.json');
    expect(formatError(() => readPartFile('[1]', 'x.json')).message).toContain('document 0');
    expect(formatError(() => readPartFile('[{"$oid": "68a72cf14b78eb31b9af9e45"}]', 'x.json')).message).toContain('document 0');
  });

  const cases: [string, string, RegExp][] = [
    ['$numberLong not a string', '{"_id": 2, "n": {"$numberLong": 5}}', /field n: \$numberLong/],
    ['$numberLong out of range', '{"_id": 2, "n": {"$numberLong": "9223372036854775808"}}', /Int64 range/],
    ['bad $oid', '{"_id": {"$oid": "xyz"}}', /field _id/],
    ['extra wrapper key', '{"_id": 2, "d": {"$date": "2025-01-01T00:00:00.000Z", "x": 1}}', /field d/],
    ['unknown wrapper', '{"_id": 2, "a": {"b": [{"$nope": 1}]}}', /field a\.b\.0: .*unknown type wrapper \$nope/],
    ['date without zone', '{"_id": 2, "d": {"$date": "2025-01-01T00:00:00"}}', /time zone/],
    ['bad base64', '{"_id": 2, "b": {"$binary": {"base64": "!!", "subType": "00"}}}', /base64/],
    ['bad subtype', '{"_id": 2, "b": {"$binary": {"base64": "", "subType": "100"}}}', /subType/],
    ['binary keys reversed', '{"_id": 2, "b": {"$binary": {"subType": "00", "base64": ""}}}', /exactly the keys/],
    ['integer beyond int32', '{"_id": 2, "n": 2147483648}', /Int32 range/],
    ['bad decimal', '{"_id": 2, "n": {"$numberDecimal": "12abc"}}', /Decimal128/],
    ['bad double', '{"_id": 2, "n": {"$numberDouble": "1.0.0"}}', /not a number/],
    ['timestamp negative', '{"_id": 2, "t": {"$timestamp": {"t": -1, "i": 0}}}', /unsigned/],
    ['minKey not 1', '{"_id": 2, "m": {"$minKey": 2}}', /must be 1/],
    ['code with extra key', '{"_id": 2, "c": {"$code": "x", "y": 1}}', /unexpected keys/],
    ['scope not a document', '{"_id": 2, "c": {"$code": "x", "$scope": [1]}}', /JSON object/],
    ['escape with two keys', '{"_id": 2, "e": {"$dbsnapDocument": {}, "x": 1}}', /exactly one key/],
    ['regex with NUL', '{"_id": 2, "r": {"$regularExpression": {"pattern": "a\\u0000", "options": ""}}}', /NUL/],
  ];
  for (const [name, doc, pattern] of cases) {
    it(`rejects ${name}`, () => {
      const err = formatError(() => readPartFile(part(doc), 'c/part-0002.json'));
      expect(err.message).toContain('c/part-0002.json');
      expect(err.message).toContain('document 1');
      expect(err.message).toMatch(pattern);
      expect(err.data).toMatchObject({ source: 'c/part-0002.json', index: 1 });
    });
  }

  it('readValue reports its source', () => {
    expect(formatError(() => readValue('{"$numberLong": 1}', 'the id')).message).toContain('the id');
    expect(formatError(() => readValue('{', 'the id')).message).toContain('the id');
  });

  it('refuses malformed BSON and what it cannot store losslessly', () => {
    const good = BSON.serialize({ a: 'x' });
    expect(formatError(() => writeDocument(good.subarray(0, good.length - 1))).message).toMatch(/length/);
    const badLen = Buffer.from(good);
    badLen.writeInt32LE(100, 7); // string length past the end
    formatError(() => writeDocument(badLen));
    expect(formatError(() => writeDocument(bdoc(el(0x02, 's', str(Buffer.from([0x61, 0xff])))))).message).toMatch(/field s.*UTF-8/);
    expect(formatError(() => writeDocument(bdoc(el(0x04, 'a', bdoc(el(0x10, '1', i32(1))))))).message).toMatch(/index 0/);
    expect(formatError(() => writeDocument(bdoc(el(0x08, 'b', Buffer.from([2]))))).message).toMatch(/boolean/);
    expect(formatError(() => writeDocument(bdoc(el(0x42, 'x')))).message).toMatch(/unknown BSON type 0x42/);
  });
});

describe('duplicated field names', () => {
  it.each([
    ['[\n  {\n    "_id": 1,\n    "a": 1,\n    "a": 2\n  }\n]\n', 5, 0, ['a'], ' (_id 1)'],
    ['[{"_id":1},{"_id":{"$oid":"68a72cf14b78eb31b9af9e45"},"x":{"b":[1,{"c":"q\\":","c":2}]}}]', 1, 1, ['x', 'b', '1', 'c'], ' (_id {"$oid":"68a72cf14b78eb31b9af9e45"})'],
    ['[{"_id":{"$numberLong":"1","$numberLong":"2"}}]', 1, 0, ['_id', '$numberLong'], ' (_id {"$numberLong":"2"})'],
    ['[{"_id":2, "2": 1, "2": 3}]', 1, 0, ['2'], ' (_id 2)'],
  ])('%j is EFORMAT naming line %i, document %i, field %j', (text, line, index, path, id) => {
    let err: FormatError | undefined;
    try {
      readPartFile(text, 'p.json');
    } catch (e) {
      err = e as FormatError;
    }
    expect(err?.code).toBe('EFORMAT');
    expect(err?.data).toMatchObject({ source: 'p.json', line, index, path });
    expect(err?.message).toContain(`p.json: line ${line}, document ${index}${id}: the field name "${path[path.length - 1]}" appears twice`);
  });

  it('keys that only look alike, and quotes and colons inside strings, are not duplicates', () => {
    const docs = readPartFile('[{"_id":1,"s":"\\"a\\": 1","a":"x\\\\","a\\"":2,"\\u0061b":3,"ab ":4}]', 'p.json');
    expect(Object.keys(docs[0]!)).toEqual(['_id', 's', 'a', 'a"', 'ab', 'ab ']);
  });
});
