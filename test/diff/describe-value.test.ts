import { Binary, BSONRegExp, BSONSymbol, Code, DBRef, Decimal128, Double, Int32, Long, MaxKey, MinKey, ObjectId, Timestamp } from 'bson';
import { describe, expect, it } from 'vitest';
import { describeValue, typeName } from '../../src/diff/index.js';

describe('describeValue / typeName', () => {
  it.each([
    [Decimal128.fromString('19.99'), 'Decimal128', 'Decimal128 19.99'],
    ['19.99', 'String', 'String "19.99"'],
    [new Int32(5), 'Int32', 'Int32 5'],
    [new Double(10), 'Double', 'Double 10.0'],
    [new Double(-0), 'Double', 'Double -0.0'],
    [new Double(2.5), 'Double', 'Double 2.5'],
    [Long.fromString('9007199254740993'), 'Int64', 'Int64 9007199254740993'],
    [new ObjectId('68a7357e1f2d3c4b5a697887'), 'ObjectId', 'ObjectId 68a7357e1f2d3c4b5a697887'],
    [new Date('2025-08-21T14:54:14.519Z'), 'Date', 'Date 2025-08-21T14:54:14.519Z'],
    [{ a: 1, b: 2, c: 3 }, 'Document', 'Document {…3 fields}'],
    [[1, 2, 3, 4], 'Array', 'Array [4]'],
    [null, 'Null', 'Null'],
    [undefined, 'Undefined', 'Undefined'],
    [true, 'Boolean', 'Boolean true'],
    [new Timestamp({ t: 5, i: 2 }), 'Timestamp', 'Timestamp (5, 2)'],
    [new BSONRegExp('^a', 'i'), 'RegExp', 'RegExp /^a/i'],
    [new MinKey(), 'MinKey', 'MinKey'],
    [new MaxKey(), 'MaxKey', 'MaxKey'],
    [new Code('x()'), 'Code', 'Code "x()"'],
    [new BSONSymbol('s'), 'Symbol', 'Symbol "s"'],
    [new DBRef('users', new ObjectId('68a7357e1f2d3c4b5a697887')), 'DBRef', 'DBRef users ObjectId 68a7357e1f2d3c4b5a697887'],
    [new Binary(Buffer.from([1, 2, 255]), 0), 'Binary', 'Binary subtype 0, 3 bytes 0102ff'],
  ])('%s', (v, type, text) => {
    expect(typeName(v)).toBe(type);
    expect(describeValue(v)).toBe(text);
  });

  it('shortens long values with …', () => {
    const s = describeValue('x'.repeat(100), 20);
    expect(s).toBe('String "xxxxxxxxxxx…');
    expect(s.length).toBe(20);
    expect(describeValue(new ObjectId('68a7357e1f2d3c4b5a697887'), 13)).toBe('ObjectId 68a…');
  });
});
