import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import { BSON, Decimal128 } from 'bson';
import { describe, expect, it } from 'vitest';
import { FIXED, useTempRepository } from '../support/temp-repo.js';
import { commit, configValue, init, rekey } from '../../src/index.js';
import { generateKey } from '../../src/crypto/index.js';
import { SnapshotRepository } from '../../src/store/index.js';
import { loadPart, openSnapshot, partBlobs, readCollectionEntry } from '../../src/core/snapshot.js';
import { useTestDatabase } from '../support/test-db.js';
import { loadShop } from '../support/shop.js';

const PASSWORD = 'Tr0ub4dor&3-secret';

let dir = '';
let repo = '';
useTempRepository('sensitive', async (r) => {
  ({ dir, repo } = r);
  await configValue({ repo, key: 'sensitive.users', value: '["email", "passwordHash", "address.phone"]', ...FIXED });
});

/** Every object in the repository, inflated (loose objects; the store never packs). */
async function allObjectTexts(): Promise<string[]> {
  const objects = join(repo, 'objects');
  const out: string[] = [];
  for (const fan of await readdir(objects)) {
    if (fan === 'pack' || fan === 'info') {
      expect(await readdir(join(objects, fan))).toEqual([]);
      continue;
    }
    for (const f of await readdir(join(objects, fan))) {
      out.push(inflateSync(await readFile(join(objects, fan, f))).toString('latin1'));
    }
  }
  return out;
}

/** Also every other file in the repository directory (refs, config, logs, caches). */
async function allPlainFiles(d = repo): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(d, { withFileTypes: true })) {
    const p = join(d, e.name);
    if (e.isDirectory()) {
      if (p !== join(repo, 'objects')) out.push(...(await allPlainFiles(p)));
    } else out.push(await readFile(p, 'latin1'));
  }
  return out;
}

describe('sensitive fields', () => {
  it('keeps known plaintext and the connection password out of every git object', async () => {
    const t = await useTestDatabase('secret');
    try {
      await loadShop(t.db, { totalDocs: 300, seed: 5 });
      await t.db.collection('users').updateMany({}, { $set: { passwordHash: 'pbkdf2$known-hash-value' } });
      const users = await t.db.collection('users').find().toArray();
      const secrets = new Set<string>(['pbkdf2$known-hash-value', PASSWORD]);
      for (const u of users) {
        secrets.add(u.email);
        if (u.address?.phone) secrets.add(u.address.phone);
      }
      expect(secrets.size).toBeGreaterThan(80);

      const u = new URL(t.dbUri);
      u.username = 'backup';
      u.password = PASSWORD;
      u.searchParams.set('authMechanism', 'PLAIN');
      u.searchParams.set('authSource', '$external');
      const key = generateKey();
      const first = await commit({ repo, uri: u.toString(), key, ...FIXED });
      expect(first.committed).toBe(true);
      expect(JSON.stringify(first)).not.toContain(PASSWORD);
      await t.db.collection('users').updateOne({}, { $set: { firstName: 'Changed' } });
      await commit({ repo, uri: u.toString(), key, ...FIXED });

      const texts = [...(await allObjectTexts()), ...(await allPlainFiles())];
      expect(texts.length).toBeGreaterThan(30);
      const leaks = [...secrets].filter((s) => texts.some((x) => x.includes(s)));
      expect(leaks).toEqual([]);
      // The data is there, just not readable: users' names are plaintext.
      expect(texts.some((x) => x.includes(users[1]!.lastName))).toBe(true);
    } finally {
      await t.drop();
    }
  });

  it('gives the same ciphertext for an unchanged value, fails cleanly without the key or with a wrong one', async () => {
    const t = await useTestDatabase('samekey');
    try {
      await t.db.collection('users').insertMany([
        { _id: 1, email: 'a@example.com', address: { phone: '+41 44 123 45 67' }, balance: Decimal128.fromString('10.50') },
        { _id: 2, email: 'b@example.com' },
      ]);
      const key = generateKey();
      const a = await commit({ repo, uri: t.dbUri, key, ...FIXED });
      await t.db.collection('users').insertOne({ _id: 3, email: 'c@example.com' });
      const b = await commit({ repo, uri: t.dbUri, key, ...FIXED });
      const store = await SnapshotRepository.open(repo);
      const fa = await store.listFiles(a.commit!);
      const fb = await store.listFiles(b.commit!);
      const part = [...fa.keys()].find((p) => p.includes('/parts/'))!;
      const ta = (await store.readBlob(fa.get(part)!)).toString();
      const tb = (await store.readBlob(fb.get(part)!)).toString();
      // Document 1's encrypted email is byte-identical across the two commits.
      const email1 = (s: string) => s.split('"_id": 2')[0]!.match(/"email": (.*)/)![1];
      expect(email1(tb)).toBe(email1(ta));
      expect(ta).not.toContain('a@example.com');

      const before = (await store.head()).oid;
      await expect(commit({ repo, uri: t.dbUri, ...FIXED })).rejects.toMatchObject({ code: 'EKEY', data: { fields: ['users.email', 'users.passwordHash', 'users.address.phone'] } });
      await expect(commit({ repo, uri: t.dbUri, key: generateKey(), ...FIXED })).rejects.toMatchObject({ code: 'EKEY' });
      expect((await store.head()).oid).toBe(before);
    } finally {
      await t.drop();
    }
  });

  it('rekey re-encrypts under a new key; the old key then is the wrong one', async () => {
    const t = await useTestDatabase('rekey');
    try {
      await t.db.collection('users').insertMany([{ _id: 1, email: 'a@example.com', n: 1 }]);
      const oldKey = generateKey();
      const newKey = generateKey();
      await commit({ repo, uri: t.dbUri, key: oldKey, ...FIXED });
      const r = await rekey({ repo, oldKey, newKey, ...FIXED });
      expect(r.collections).toEqual(['users']);
      // Nothing changed in the data: a commit with the new key makes no commit.
      const again = await commit({ repo, uri: t.dbUri, key: newKey, ...FIXED });
      expect(again.committed).toBe(false);
      await expect(commit({ repo, uri: t.dbUri, key: oldKey, ...FIXED })).rejects.toMatchObject({ code: 'EKEY' });
      // The stored value decrypts with the new key to the exact original.
      const snap = await openSnapshot(await SnapshotRepository.open(repo), 'HEAD');
      const entry = await readCollectionEntry(snap, 'users');
      const [p] = partBlobs(snap, entry);
      const [doc] = await loadPart(snap, p!.path, p!.oid);
      const { decryptDocument, parseKey } = await import('../../src/crypto/index.js');
      const plain = decryptDocument(doc!, parseKey(newKey, 'test'));
      expect(Buffer.from(BSON.serialize(plain)).equals(Buffer.from(BSON.serialize({ _id: 1, email: 'a@example.com', n: 1 })))).toBe(true);
    } finally {
      await t.drop();
    }
  });

  it('creates the repository owner-only', async () => {
    expect((await stat(repo)).mode & 0o777).toBe(0o700);
    expect((await stat(join(repo, 'HEAD'))).mode & 0o777).toBe(0o600);
  });
});

describe('masked restores', () => {
  it('keep joins on masked fields intact: verify passes on a snapshot of the masked copy', async () => {
    const { restore, verify } = await import('../../src/index.js');
    const t = await useTestDatabase('masksrc');
    const target = `${t.dbName}_masked`;
    try {
      await configValue({ repo, key: 'sensitive.orders', value: '["customerEmail"]', ...FIXED });
      await configValue({ repo, key: 'relations', value: '[{"from": "orders.customerEmail", "to": "users.email"}]', ...FIXED });
      await t.db.collection('users').createIndex({ email: 1 }, { unique: true });
      const emails = Array.from({ length: 50 }, (_, i) => `person${i}@shop.example`);
      await t.db.collection('users').insertMany(emails.map((email, i) => ({ _id: i, email, address: { phone: `+41 44 555 ${String(i).padStart(2, '0')} 00` } })));
      await t.db.collection('orders').insertMany(Array.from({ length: 120 }, (_, i) => ({ _id: i, customerEmail: emails[i % 50], total: i })));
      const key = generateKey();
      await commit({ repo, uri: t.dbUri, key, ...FIXED });

      const r = await restore({ repo, ref: 'HEAD', uri: t.dbUri, db: target, key, mask: true, ...FIXED });
      expect(r.verified.documents).toBe(170);
      const masked = t.client.db(target);
      const users = await masked.collection('users').find().toArray();
      const orders = await masked.collection('orders').find().toArray();
      // No original value survives, shapes do, and every order still finds its user.
      expect(users.filter((u) => emails.includes(u.email))).toEqual([]);
      expect(users.map((u) => u.email).filter((e) => !/^[^@\s]+@[^@\s]+\.[a-z]+$/.test(e))).toEqual([]);
      expect(users.map((u) => u.address.phone).filter((p) => !/^\+\d\d \d\d \d\d\d \d\d \d\d$/.test(p))).toEqual([]);
      const maskedEmails = new Set(users.map((u) => u.email));
      expect(orders.filter((o) => !maskedEmails.has(o.customerEmail))).toEqual([]);

      // A snapshot of the masked copy (no encryption there) passes verify, relation included.
      const repo2 = join(dir, 'masked-repo');
      await init({ repo: repo2, ...FIXED });
      await configValue({ repo: repo2, key: 'relations', value: '[{"from": "orders.customerEmail", "to": "users.email"}]', ...FIXED });
      const u = new URL(t.dbUri);
      u.pathname = `/${target}`;
      await commit({ repo: repo2, uri: u.toString(), ...FIXED });
      const report = await verify({ repo: repo2 });
      expect(report.ok).toBe(true);
      expect(report.relations).toHaveLength(1);
      expect(report.relations[0]).toMatchObject({ dangling: 0, references: 120 });
    } finally {
      await t.client.db(target).dropDatabase().catch(() => {});
      await t.drop();
    }
  });
});
