/**
 * A fresh, uniquely named database on the run's MongoDB server (started by global-setup.ts).
 */
import { randomBytes } from 'node:crypto';
import { type Collection, type Db, MongoClient } from 'mongodb';
import { inject } from 'vitest';
import { uriWithDatabase } from './mongo-server.js';

export { uriWithDatabase };

/**
 * A database whose collections accept any document shape: tests store numbers, strings and
 * documents as `_id`, which the driver's default schema (ObjectId `_id`) would refuse to type.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TestDb = Omit<Db, 'collection'> & { collection(name: string): Collection<any> };

/** A test database and a connected client; drop() removes the database and closes the client. */
export interface TestDatabase {
  /** The server URI (no database). */
  uri: string;
  dbName: string;
  /** The server URI with `dbName` as its path (query string kept). */
  dbUri: string;
  client: MongoClient;
  db: TestDb;
  drop(): Promise<void>;
}

/**
 * Create a uniquely named database for one test.
 *
 * @example
 * const t = await useTestDatabase('restore');
 * try { await t.db.collection('c').insertOne({ a: 1 }); } finally { await t.drop(); }
 */
export async function useTestDatabase(prefix = 'db'): Promise<TestDatabase> {
  const uri = inject('mongoUri');
  const safe = prefix.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 24);
  const dbName = `dbsnap_test_${safe}_${randomBytes(4).toString('hex')}`;
  const client = await MongoClient.connect(uri);
  const db = client.db(dbName);
  return {
    uri,
    dbName,
    dbUri: uriWithDatabase(uri, dbName),
    client,
    db,
    drop: async () => {
      try {
        await db.dropDatabase();
      } finally {
        await client.close();
      }
    },
  };
}
