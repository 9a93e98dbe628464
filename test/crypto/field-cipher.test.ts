import {
  Binary,
  BSON,
  BSONRegExp,
  BSONSymbol,
  Code,
  DBRef,
  Decimal128,
  Double,
  EJSON,
  Int32,
  Long,
  MaxKey,
  MinKey,
  ObjectId,
  Timestamp,
  UUID,
  type Document,
} from 'bson';
import { describe, expect, it } from 'vitest';
import {
  decryptDocument,
  decryptValue,
  encryptDocument,
  encryptValue,
  findEncryptedFields,
  isEncryptedValue,
  type EncryptedValue,
} from '../../src/crypto/index.js';
import { aessiv } from '@noble/ciphers/aes.js';
import { EXACT_DECODE_OPTIONS } from '../../src/crypto/field-cipher.js';
import { bytesOf, caught, exact, key, otherKey } from './fixtures.js';

/** encryptValue('ada@example.org', 'email', key) as BSON, written by the version-1 code (265e74f). */
const PINNED_V1 =
  '7400000003246462736e6170456e63727970746564005d00000010760001000000026b00110000003263363530663734623466326561346600' +
  '05630031000000005a8c70ff04d8d9edcef70a02bdb030800f1088dbfe2fe3ac45abff8a966a48f426b1294a9771e9388454852c77cdd99def0000';
/** The same, version 2 (AES-256-SIV). */
const PINNED_V2 =
  '6800000003246462736e6170456e63727970746564005100000010760002000000026b001100000032633635306637346234663265613466000563002500000000' +
  'dcb561d94e3bcb66e0011f7432d0656d35537bc6907aa97ff3d73c74666f2ba19bfaa8a1ab0000';

function cipherBytes(marker: unknown): Buffer {
  return Buffer.from((marker as EncryptedValue).$dbsnapEncrypted.c.value());
}

const nested = { name: 'x', n: new Int32(1), deep: { d: new Double(2), list: [new Long(3), 'y'] } };
const protoField = JSON.parse('{"__proto__": {"polluted": true}, "ok": 1}');

/** One field per BSON type and awkward value; the document decodes exactly. */
const everyType: Document = exact({
  _id: new ObjectId('64b7f0c2a1b2c3d4e5f60718'),
  doubleNegZero: new Double(-0),
  doubleNaN: new Double(NaN),
  doubleInf: new Double(-Infinity),
  doubleIntegral: new Double(42),
  doubleFraction: new Double(0.1),
  doubleMax: new Double(Number.MAX_VALUE),
  int32: new Int32(-2147483648),
  int64: Long.fromString('-9223372036854775808'),
  int64Small: Long.fromNumber(7),
  decimal: Decimal128.fromString('1.50E+3'),
  decimalNegZero: Decimal128.fromString('-0.000'),
  decimalNaN: Decimal128.fromString('NaN'),
  string: 'héllo wörld 🌍',
  emptyString: '',
  dateBefore1970: new Date(-1_234_567_890_123),
  dateEpoch: new Date(0),
  objectId: new ObjectId('000000000000000000000001'),
  binGeneric: new Binary(Buffer.from([0, 1, 2, 255]), 0),
  binFunction: new Binary(Buffer.from([1]), 1),
  binOld: new Binary(Buffer.from([9, 8, 7]), 2),
  binUuidOld: new Binary(Buffer.alloc(16, 3), 3),
  uuid: new UUID('3f2504e0-4f89-41d3-9a0c-0305e82c3301'),
  binMd5: new Binary(Buffer.alloc(16, 0xab), 5),
  binEncrypted: new Binary(Buffer.from('secret'), 6),
  binCompressed: new Binary(Buffer.from([1, 2]), 7),
  binSensitive: new Binary(Buffer.from([4]), 8),
  binVector: new Binary(Buffer.from([0x03, 0x00, 1, 2, 3]), 9),
  binUser: new Binary(Buffer.from([5, 6]), 0x80),
  binEmpty: new Binary(Buffer.alloc(0), 0),
  document: nested,
  emptyDocument: {},
  protoDocument: protoField,
  array: [1, 'two', { three: 3 }, [4], null],
  emptyArray: [],
  nullValue: null,
  trueValue: true,
  falseValue: false,
  timestamp: new Timestamp({ t: 1_700_000_000, i: 7 }),
  regex: new BSONRegExp('^a.*z$', 'imsux'),
  code: new Code('function () { return 1; }'),
  codeWithScope: new Code('x + 1', { x: new Int32(1) }),
  symbol: new BSONSymbol('sym'),
  minKey: new MinKey(),
  maxKey: new MaxKey(),
  dbref: new DBRef('users', new ObjectId('64b7f0c2a1b2c3d4e5f60719'), 'app'),
});
const everyField = Object.keys(everyType).filter((k) => k !== '_id');

describe('encryptDocument / decryptDocument round trip', () => {
  it('bson itself round-trips the fixture (baseline for the test below)', () => {
    expect(bytesOf(exact(everyType))).toBe(bytesOf(everyType));
    expect(everyType.int32).toBeInstanceOf(Int32);
    expect(everyType.uuid).toBeInstanceOf(UUID);
  });

  it('restores every BSON type byte for byte', () => {
    const original = bytesOf(everyType);
    const { doc, encrypted } = encryptDocument(everyType, everyField, key);
    expect(encrypted).toBe(everyField.length);
    for (const field of everyField) expect(isEncryptedValue(doc[field]), field).toBe(true);
    expect(doc._id).toBe(everyType._id);
    // Field order is kept, so the stored document lines up with the original.
    expect(Object.keys(doc)).toEqual(Object.keys(everyType));
    expect(bytesOf(everyType)).toBe(original); // input not mutated

    const restored = decryptDocument(doc, key);
    expect(bytesOf(restored)).toBe(original);
    expect(Object.is((restored.doubleNegZero as Double).value, -0)).toBe(true);
    expect(restored.int32).toBeInstanceOf(Int32);
    expect(restored.decimal).toBeInstanceOf(Decimal128);
    expect(Object.getPrototypeOf(restored.protoDocument)).toBe(Object.prototype);
  });

  it('round-trips each value alone, also after a detour through canonical Extended JSON', () => {
    for (const field of everyField) {
      const single = { [field]: everyType[field] };
      const { doc } = encryptDocument(single, [field], key);
      const stored = EJSON.parse(EJSON.stringify(doc, { relaxed: false }), { relaxed: false }) as Document;
      expect(bytesOf(decryptDocument(stored, key)), field).toBe(bytesOf(single));
    }
  });

  it('stores the documented marker shape', () => {
    const marker = encryptValue('ada@example.org', 'email', key);
    const inner = marker.$dbsnapEncrypted;
    expect(Object.keys(marker)).toEqual(['$dbsnapEncrypted']);
    expect(Object.keys(inner)).toEqual(['v', 'k', 'c']);
    expect(inner.v).toEqual(new Int32(2));
    expect(inner.k).toBe(key.id);
    expect(inner.c.sub_type).toBe(0);
    // synthetic IV 16 + (type byte + int32 length + 15 chars + NUL)
    expect(inner.c.length()).toBe(16 + 1 + 4 + 16);
  });

  it('produces pinned bytes for a known input (the format is a public contract)', () => {
    expect(bytesOf(encryptValue('ada@example.org', 'email', key))).toBe(PINNED_V2);
  });

  it('still reads version 1 (AES-256-GCM with an HMAC synthetic nonce), pinned bytes written by the old code', () => {
    const v1 = BSON.deserialize(Buffer.from(PINNED_V1, 'hex'), EXACT_DECODE_OPTIONS) as EncryptedValue;
    expect(v1.$dbsnapEncrypted.v).toEqual(new Int32(1));
    expect(decryptValue(v1, 'email', key)).toBe('ada@example.org');
    expect(caught(() => decryptValue(v1, 'name', key)).code).toBe('ECORRUPT');
  });

  it('is AES-SIV as RFC 5297 defines it (appendix A.1 test vector through the library used)', () => {
    const k = Buffer.from('fffefdfcfbfaf9f8f7f6f5f4f3f2f1f0f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff', 'hex');
    const ad = Buffer.from('101112131415161718191a1b1c1d1e1f2021222324252627', 'hex');
    const out = aessiv(k, ad).encrypt(Buffer.from('112233445566778899aabbccddee', 'hex'));
    expect(Buffer.from(out).toString('hex')).toBe('85632d07c6e8f37f950acd320a2ecc9340c02b9690c4dc04daef7f6afe5c');
  });
});

describe('determinism', () => {
  it('same value, path and key give identical bytes', () => {
    const a = encryptDocument({ email: 'a@b.c', n: new Int32(5) }, ['email', 'n'], key).doc;
    const b = encryptDocument({ email: 'a@b.c', n: new Int32(5) }, ['email', 'n'], key).doc;
    expect(bytesOf(a)).toBe(bytesOf(b));
  });

  it('a different path, key, value or type gives different ciphertext', () => {
    const base = cipherBytes(encryptValue('same', 'email', key));
    expect(cipherBytes(encryptValue('same', 'email', key)).equals(base)).toBe(true);
    expect(cipherBytes(encryptValue('same', 'name', key)).equals(base)).toBe(false);
    expect(cipherBytes(encryptValue('same', 'email', otherKey)).equals(base)).toBe(false);
    expect(cipherBytes(encryptValue('samf', 'email', key)).equals(base)).toBe(false);
    const int = cipherBytes(encryptValue(new Int32(1), 'n', key));
    const dbl = cipherBytes(encryptValue(new Double(1), 'n', key));
    expect(int.equals(dbl)).toBe(false);
    // Different synthetic IVs too, not just different ciphertext under one IV.
    expect(int.subarray(0, 16).equals(dbl.subarray(0, 16))).toBe(false);
  });
});

describe('paths', () => {
  const order = exact({
    _id: 1,
    customer: { email: 'c@d.e', phone: '555', tags: ['a'] },
    items: [{ note: 'first', sku: 'A' }, { sku: 'B' }, 'scalar', { note: 'first' }, [{ note: 'nested' }]],
    missing: null,
  });

  it('encrypts a path in every array element, skipping elements without it', () => {
    const { doc, encrypted } = encryptDocument(order, ['items.note', 'customer.phone', 'absent.x'], key);
    expect(encrypted).toBe(4);
    const items = doc.items as Document[];
    expect(isEncryptedValue(items[0]!.note)).toBe(true);
    expect(items[1]).toBe((order.items as Document[])[1]); // untouched elements are shared
    expect(items[2]).toBe('scalar');
    expect(isEncryptedValue(items[3]!.note)).toBe(true);
    expect(isEncryptedValue((items[4] as unknown as Document[])[0]!.note)).toBe(true);
    // Equal values at the same configured path encrypt alike whatever their array index,
    // so inserting an element does not rewrite its neighbours in git.
    expect(cipherBytes(items[0]!.note).equals(cipherBytes(items[3]!.note))).toBe(true);
    expect((doc.customer as Document).email).toBe('c@d.e');
    expect(bytesOf(decryptDocument(doc, key))).toBe(bytesOf(order));
  });

  it('encrypts null (only absence shows) and whole arrays or sub-documents at the end of a path', () => {
    const { doc, encrypted } = encryptDocument(order, ['missing', 'customer'], key);
    expect(encrypted).toBe(2);
    expect(isEncryptedValue(doc.missing)).toBe(true);
    expect(isEncryptedValue(doc.customer)).toBe(true);
    expect(bytesOf(decryptDocument(doc, key))).toBe(bytesOf(order));
  });

  it('treats a path under an encrypted one as covered and is idempotent', () => {
    const once = encryptDocument(order, ['customer.email', 'customer'], key);
    expect(once.encrypted).toBe(1);
    const twice = encryptDocument(once.doc, ['customer', 'customer.email'], key);
    expect(twice.encrypted).toBe(0);
    expect(bytesOf(twice.doc)).toBe(bytesOf(once.doc));
  });

  it('rejects malformed paths and _id', () => {
    for (const path of ['', 'a..b', '.a', 'a.', '$set', 'a.$b', '_id', '_id.part']) {
      expect(caught(() => encryptDocument(order, [path], key)).code, path).toBe('EINVALIDARG');
    }
  });

  it('lists encrypted fields without a key, array indexes left out', () => {
    const { doc } = encryptDocument(order, ['items.note', 'customer.phone'], key);
    expect(findEncryptedFields(doc)).toEqual(['customer.phone', 'items.note']);
    expect(findEncryptedFields(order)).toEqual([]);
  });
});

describe('decryption failures', () => {
  const user = exact({ _id: 7, email: 'ada@example.org', name: 'Ada', items: [{ note: 'n0' }, { note: 'n1' }] });
  const stored = encryptDocument(user, ['email', 'name', 'items.note'], key).doc;

  it('reports a wrong key with both key ids and the field paths', () => {
    const err = caught(() => decryptDocument(stored, otherKey, { collection: 'users' }));
    expect(err.code).toBe('EKEY');
    expect(err.data).toEqual({
      expectedKeyId: key.id,
      actualKeyId: otherKey.id,
      fields: ['users.email', 'users.name', 'users.items.note'],
    });
    expect(err.message).toContain('users.email');
    expect(err.message).toContain(key.id);
    expect(err.message).toContain(otherKey.id);
    expect(err.message).toContain('other key');
    expect(caught(() => decryptValue(stored.email as EncryptedValue, 'email', otherKey)).code).toBe('EKEY');
  });

  it('names the field whose ciphertext was tampered with', () => {
    for (const offset of [0, 5, 20, -1]) {
      const items = (stored.items as Document[]).map((i) => ({ ...i }));
      const body = Buffer.from(cipherBytes(items[1]!.note));
      body[offset < 0 ? body.length + offset : offset]! ^= 0x01;
      items[1]!.note = { $dbsnapEncrypted: { v: new Int32(2), k: key.id, c: new Binary(body, 0) } };
      const err = caught(() => decryptDocument({ ...stored, items }, key, { collection: 'orders' }));
      expect(err.code).toBe('ECORRUPT');
      expect(err.message).toContain('orders.items.1.note');
      expect(err.data).toEqual({ field: 'orders.items.1.note', path: 'items.note' });
    }
  });

  it('refuses a ciphertext moved to another field', () => {
    const err = caught(() => decryptDocument({ ...stored, name: stored.email }, key));
    expect(err.code).toBe('ECORRUPT');
    expect(err.data.field).toBe('name');
  });

  it('refuses truncated or malformed markers and unknown versions', () => {
    const inner = (stored.email as EncryptedValue).$dbsnapEncrypted;
    const short = { $dbsnapEncrypted: { ...inner, c: new Binary(cipherBytes(stored.email).subarray(0, 20), 0) } };
    expect(caught(() => decryptDocument({ email: short }, key)).code).toBe('ECORRUPT');
    const noKey = { $dbsnapEncrypted: { v: 1, c: inner.c } };
    expect(caught(() => decryptDocument({ email: noKey }, key)).code).toBe('ECORRUPT');
    const future = { $dbsnapEncrypted: { ...inner, v: new Int32(3) } };
    expect(caught(() => decryptDocument({ email: future }, key)).code).toBe('EFORMATVERSION');
  });

  it('decrypts nothing when one field has a foreign key (checked up front)', () => {
    const mixed = { ...stored, other: encryptValue('x', 'other', otherKey) };
    const err = caught(() => decryptDocument(mixed, key));
    expect(err.code).toBe('EKEY');
    expect(err.data.fields).toEqual(['other']);
    expect(err.data.expectedKeyId).toBe(otherKey.id);
  });

  it('returns a document without markers unchanged', () => {
    expect(decryptDocument(user, key)).toBe(user);
  });

  it('does not treat look-alikes as markers', () => {
    expect(isEncryptedValue({ $dbsnapEncrypted: 'x' })).toBe(false);
    expect(isEncryptedValue({ $dbsnapEncrypted: {}, extra: 1 })).toBe(false);
    expect(isEncryptedValue([{ $dbsnapEncrypted: {} }])).toBe(false);
    expect(isEncryptedValue(encryptValue(null, 'a', key))).toBe(true);
  });
});

describe('BSON size sanity', () => {
  it('keeps the ciphertext length proportional to the value (no padding)', () => {
    const big = 'x'.repeat(100_000);
    const marker = encryptValue(big, 'blob', key);
    expect(marker.$dbsnapEncrypted.c.length()).toBe(16 + 1 + 4 + big.length + 1);
    expect(decryptValue(marker, 'blob', key)).toBe(big);
    expect(BSON.calculateObjectSize(marker)).toBeGreaterThan(big.length);
  });
});
