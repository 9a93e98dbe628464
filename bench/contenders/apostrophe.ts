/**
 * @apostrophecms/mongodb-snapshot, installed on demand by the parent into a temporary prefix
 * (never a dependency of this project). It is CommonJS on the mongodb 6 driver and bson 6, so
 * it gets a client from its own driver: bson 6 refuses values made by bson 7.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { cpuNow, type Contender } from './types.js';

interface Apostrophe {
  write(db: unknown, filename: string): Promise<void>;
  read(db: unknown, filename: string): Promise<void>;
}
interface LegacyClient {
  db(name: string): unknown;
  close(): Promise<void>;
}

function load(): { snapshot: Apostrophe; connect(uri: string): Promise<LegacyClient> } {
  const prefix = process.env.BENCH_APOSTROPHE_PREFIX;
  if (!prefix) throw new Error('BENCH_APOSTROPHE_PREFIX not set');
  const req = createRequire(join(prefix, 'node_modules', '@apostrophecms', 'mongodb-snapshot', 'index.js'));
  const snapshot = req('@apostrophecms/mongodb-snapshot') as Apostrophe;
  const { MongoClient } = req('mongodb') as { MongoClient: { connect(uri: string): Promise<LegacyClient> } };
  return { snapshot, connect: (uri) => MongoClient.connect(uri) };
}

/** The snapshot file lives in the directory the parent shares between write and read. */
const FILE = 'shop.snapshot';

/** Loads the package, connects with its own driver, runs `job` on database `db`, closes; timed with its CPU. */
async function withPackage(uri: string, db: string, job: (snapshot: Apostrophe, db: unknown) => Promise<void>) {
  const { snapshot, connect } = load();
  const cpu = cpuNow();
  const started = performance.now();
  const client = await connect(uri);
  try {
    await job(snapshot, client.db(db));
  } finally {
    await client.close();
  }
  return { ms: performance.now() - started, cpuMs: cpuNow() - cpu };
}

export const apostropheWrite: Contender = (p) => withPackage(p.uri, p.db, (snapshot, db) => snapshot.write(db, join(p.dir, FILE)));

export const apostropheRead: Contender = (p) => withPackage(p.uri, p.target, (snapshot, db) => snapshot.read(db, join(p.dir, FILE)));
