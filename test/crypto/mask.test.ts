import { randomBytes } from 'node:crypto';
import {
  Binary,
  BSONRegExp,
  Decimal128,
  Double,
  Int32,
  Long,
  ObjectId,
  Timestamp,
  UUID,
  type Document,
} from 'bson';
import { describe, expect, it } from 'vitest';
import { encryptValue, maskDocument, maskValue } from '../../src/crypto/index.js';
import { bsonType, bytesOf, caught, exact, key, otherKey } from './fixtures.js';

const EMAIL_PSEUDONYM = /^u[0-9a-f]{16}@example\.com$/;
const YEAR_MS = 365 * 86_400_000;

/** Same BSON type at every leaf, same field names and array lengths. */
function expectSameShape(a: unknown, b: unknown, where = 'doc'): void {
  expect(bsonType(b), where).toBe(bsonType(a));
  if (Array.isArray(a)) {
    expect((b as unknown[]).length, where).toBe(a.length);
    a.forEach((v, i) => expectSameShape(v, (b as unknown[])[i], `${where}.${i}`));
  } else if (bsonType(a) === 0x03) {
    expect(Object.keys(b as Document), where).toEqual(Object.keys(a as Document));
    for (const k of Object.keys(a as Document)) expectSameShape((a as Document)[k], (b as Document)[k], `${where}.${k}`);
  }
}

const person = exact({
  _id: new ObjectId('64b7f0c2a1b2c3d4e5f60718'),
  email: 'Ada.Lovelace@analytical.example.org',
  name: 'Ada Lovelace',
  phone: '+44 (20) 7946-0958',
  age: new Int32(36),
  balance: new Double(1234.56),
  score: new Double(17),
  accountNo: Long.fromString('1234567890123'),
  salary: Decimal128.fromString('98765.43'),
  born: new Date(Date.UTC(1815, 11, 10)),
  lastLogin: new Date(Date.UTC(2024, 4, 1, 13, 37, 42, 123)),
  avatar: new Binary(Buffer.from('not really a png'), 0),
  deviceId: new UUID('3f2504e0-4f89-41d3-9a0c-0305e82c3301'),
  verified: true,
  deleted: null,
  seen: new Timestamp({ t: 1, i: 2 }),
  pattern: new BSONRegExp('a+', 'i'),
  address: { street: '12 St James Square', city: 'London', zip: 'SW1Y 4JH', geo: [new Double(-0.13), new Double(51.5)] },
  tags: ['math', 'poetry', new Int32(1843)],
});
const allFields = Object.keys(person);

describe('maskDocument', () => {
  const masked = maskDocument(person, allFields, key);

  it('keeps every BSON type, field name and array length, and does not mutate the input', () => {
    expectSameShape(person, masked);
    expect(bytesOf(person)).toBe(bytesOf(exact(person)));
    expect(masked).not.toBe(person);
    // Every leaf that can carry information changed.
    for (const f of ['_id', 'email', 'name', 'phone', 'age', 'balance', 'score', 'accountNo', 'salary', 'born', 'lastLogin', 'avatar', 'deviceId']) {
      expect(bytesOf({ v: masked[f] }), f).not.toBe(bytesOf({ v: person[f] }));
    }
  });

  it('leaves booleans, null, Timestamp and regex as they are', () => {
    for (const f of ['verified', 'deleted', 'seen', 'pattern']) {
      expect(bytesOf({ v: masked[f] }), f).toBe(bytesOf({ v: person[f] }));
    }
  });

  it('turns emails into valid example.com addresses', () => {
    expect(masked.email).toMatch(EMAIL_PSEUDONYM);
  });

  it('keeps strings the same length and character classes, punctuation included', () => {
    const classes = (s: string) => s.replace(/[A-Z]/g, 'A').replace(/[a-z]/g, 'a').replace(/[0-9]/g, '9');
    for (const f of ['name', 'phone']) {
      expect((masked[f] as string).length, f).toBe((person[f] as string).length);
      expect(classes(masked[f] as string), f).toBe(classes(person[f] as string));
    }
    expect(masked.phone).toMatch(/^\+\d\d \(\d\d\) \d{4}-\d{4}$/);
    const address = masked.address as Document;
    expect(classes(address.zip as string)).toBe('AA9A 9AA');
    expect(maskValue('', key)).toBe('');
    // Non-ASCII letters and digits become ASCII ones; code point count kept.
    expect(maskValue('Zoë ٣', key)).toMatch(/^[A-Z][a-z][a-z] [0-9]$/);
  });

  it('keeps numbers of similar magnitude: same sign and digit count', () => {
    const digits = (n: bigint | number) => String(n < 0 ? -n : n).split('.')[0]!.length;
    expect(digits((masked.age as Int32).value)).toBe(2);
    expect(digits((masked.accountNo as Long).toBigInt())).toBe(13);
    expect(Number.isInteger((masked.score as Double).value)).toBe(true);
    expect(digits((masked.score as Double).value)).toBe(2);
    const balance = (masked.balance as Double).value;
    expect(balance).toBeGreaterThanOrEqual(1000);
    expect(balance).toBeLessThan(10000);
    expect(String(balance)).toMatch(/^\d{4}\.\d{1,2}$/);
    expect((masked.salary as Decimal128).toString()).toMatch(/^[1-9]\d{4}\.\d\d$/);
    const lat = ((masked.address as Document).geo as Double[])[0]!.value;
    expect(lat).toBeLessThan(-0.1);
    expect(lat).toBeGreaterThan(-1);
  });

  it('keeps integers inside their type range and sign', () => {
    for (const v of [2147483647, -2147483648, 1999999999, -5, 1]) {
      const m = maskValue(new Int32(v), key) as Int32;
      expect(m).toBeInstanceOf(Int32);
      expect(Math.sign(m.value)).toBe(Math.sign(v));
      expect(String(Math.abs(m.value)).length).toBe(String(Math.abs(v)).length);
    }
    const longMin = maskValue(Long.fromString('-9223372036854775808'), key) as Long;
    expect(longMin.toString()).toMatch(/^-\d{19}$/);
    const longMax = maskValue(Long.fromString('9223372036854775807'), key) as Long;
    expect(longMax.toBigInt()).toBeLessThanOrEqual(2n ** 63n - 1n);
    expect(maskValue(new Int32(0), key)).toEqual(new Int32(0));
    expect(Object.is((maskValue(new Double(-0), key) as Double).value, -0)).toBe(true);
    expect(Number.isNaN((maskValue(new Double(NaN), key) as Double).value)).toBe(true);
  });

  it('keeps plain JS numbers in the BSON type they serialize as', () => {
    for (const v of [5, -123456, 2147483647, 3_000_000_000, -3_000_000_000, 1.5, 123.456, 1e21, 1e-7, -0]) {
      expect(bsonType(maskValue(v, key)), String(v)).toBe(bsonType(v));
    }
  });

  it('moves dates by at most a year, keeping whole days whole', () => {
    const born = masked.born as Date;
    const last = masked.lastLogin as Date;
    expect(Math.abs(born.getTime() - (person.born as Date).getTime())).toBeLessThanOrEqual(YEAR_MS);
    expect(born.getTime() % 86_400_000 === 0).toBe(true);
    expect(Math.abs(last.getTime() - (person.lastLogin as Date).getTime())).toBeLessThanOrEqual(YEAR_MS);
  });

  it('masks ObjectIds to valid ObjectIds with a creation time within a year', () => {
    const id = masked._id as ObjectId;
    expect(ObjectId.isValid(id.toHexString())).toBe(true);
    const drift = Math.abs(id.getTimestamp().getTime() - (person._id as ObjectId).getTimestamp().getTime());
    expect(drift).toBeLessThanOrEqual(YEAR_MS);
  });

  it('masks binaries to keyed bytes of the same length and subtype, UUIDs stay valid UUIDs', () => {
    const avatar = masked.avatar as Binary;
    expect(avatar.sub_type).toBe(0);
    expect(avatar.length()).toBe((person.avatar as Binary).length());
    const uuid = masked.deviceId as UUID;
    expect(uuid).toBeInstanceOf(UUID);
    expect(UUID.isValid(uuid.toHexString())).toBe(true);
    expect(uuid.toHexString(false)[12]).toBe('4');
    const vector = maskValue(new Binary(Buffer.from([0x27, 0, 1, 2, 3, 4]), 9), key) as Binary;
    expect(vector.sub_type).toBe(9);
    expect([...vector.value().subarray(0, 2)]).toEqual([0x27, 0]);
  });

  it('masks only the listed paths, through arrays', () => {
    const order = exact({ _id: 1, items: [{ note: 'fragile', sku: 'A1' }, { sku: 'B2' }], total: new Int32(5) });
    const out = maskDocument(order, ['items.note'], key);
    const items = out.items as Document[];
    expect(items[0]!.note).not.toBe('fragile');
    expect((items[0]!.note as string).length).toBe(7);
    expect(items[0]!.sku).toBe('A1');
    expect(items[1]).toBe((order.items as Document[])[1]);
    expect(out.total).toBe(order.total);
    expect(out._id).toBe(order._id);
  });
});

describe('pseudonyms are keyed on the value only', () => {
  it('gives the same pseudonym at different paths and in different collections', () => {
    const user = maskDocument({ email: 'ada@example.org', id: new Int32(12) }, ['email', 'id'], key);
    const order = maskDocument(
      { customer: { contact: 'ada@example.org' }, lines: [{ userId: new Int32(12) }] },
      ['customer.contact', 'lines.userId'],
      key,
    );
    expect((order.customer as Document).contact).toBe(user.email);
    expect(((order.lines as Document[])[0]!.userId as Int32).value).toBe((user.id as Int32).value);
  });

  it('masks numerically equal ids of different integer types alike (they join in MongoDB)', () => {
    const asInt = (maskValue(new Int32(424242), key) as Int32).value;
    expect(Number((maskValue(Long.fromNumber(424242), key) as Long).toBigInt())).toBe(asInt);
    expect((maskValue(new Double(424242), key) as Double).value).toBe(asInt);
    expect(maskValue(424242, key)).toBe(asInt);
  });

  it('gives 10,000 distinct emails 10,000 distinct pseudonyms', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 10_000; i++) {
      const pseudonym = maskValue(`user${i}@example.org`, key) as string;
      expect(pseudonym).toMatch(EMAIL_PSEUDONYM);
      seen.add(pseudonym);
    }
    expect(seen.size).toBe(10_000);
  });

  it('depends on the key, and accepts raw key bytes', () => {
    expect(maskValue('ada@example.org', key)).not.toBe(maskValue('ada@example.org', otherKey));
    const raw = randomBytes(32);
    expect(maskValue('ada@example.org', raw)).toBe(maskValue('ada@example.org', Buffer.from(raw)));
    expect(caught(() => maskValue('x', new Uint8Array(8))).code).toBe('EKEY');
  });

  it('is pinned for a known key (pseudonyms must not change between releases)', () => {
    expect(maskValue('ada@example.org', key)).toBe('u91c48b7017183da8@example.com');
    expect(maskValue('+1 (555) 010-9999', key)).toBe('+3 (126) 220-5841');
    expect(maskValue('Ada Lovelace', key)).toBe('Hms Ctehhtls');
  });
});

describe('maskDocument refusals', () => {
  it('refuses encrypted values and malformed paths, but allows _id', () => {
    const stored = { email: encryptValue('ada@example.org', 'email', key) };
    expect(caught(() => maskDocument(stored, ['email'], key)).code).toBe('EINVALIDARG');
    expect(caught(() => maskDocument({ a: 1 }, ['a..b'], key)).code).toBe('EINVALIDARG');
    const out = maskDocument({ _id: new ObjectId('64b7f0c2a1b2c3d4e5f60718') }, ['_id'], key);
    expect(out._id).toBeInstanceOf(ObjectId);
  });
});
