/**
 * Which MongoDB the integration tests (and `npm run test-server`, `npm run demo`) talk to.
 *
 * In order:
 *  1. `DBSNAP_TEST_MONGODB_URI` — a server you run yourself (never stopped by us);
 *  2. mongodb-memory-server's single-node replica set (real mongod; snapshot reads and
 *     transactions work) — only tried when `MONGOMS_SYSTEM_BINARY` points at a mongod or
 *     `DBSNAP_TEST_TRY_DOWNLOAD=1` allows a download, so machines without either fail fast;
 *  3. the in-process wire test server (test/support/wire-server), a MongoDB 7.0 standalone
 *     stand-in that keeps exact BSON bytes.
 * `DBSNAP_TEST_SERVER=wire` skips straight to 3; `DBSNAP_TEST_SERVER=wire-replica-set` too, with
 * the wire server answering as a one-member replica set (test/support/wire-server/replica-set.ts).
 */
import { startWireServer } from './wire-server/server.js';

export type MongoServerKind = 'env' | 'mongodb-memory-server' | 'wire-test-server';

/** A MongoDB server for tests. */
export interface TestMongoServer {
  uri: string;
  kind: MongoServerKind;
  /** One line for humans: what was started and where. */
  description: string;
  stop(): Promise<void>;
}

const MEMORY_SERVER_TIMEOUT_MS = Number(process.env.DBSNAP_TEST_MEMORY_SERVER_TIMEOUT_MS ?? 90_000);

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not start within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

async function startMemoryReplSet(): Promise<TestMongoServer> {
  const { MongoMemoryReplSet } = await import('mongodb-memory-server-core');
  const creating = MongoMemoryReplSet.create({
    replSet: { count: 1, storageEngine: 'wiredTiger' },
    // Test commands let tests use configureFailPoint against a real mongod too.
    instanceOpts: [{ args: ['--setParameter', 'enableTestCommands=1'] }],
  });
  let replSet: Awaited<typeof creating>;
  try {
    replSet = await withTimeout(creating, MEMORY_SERVER_TIMEOUT_MS, 'mongodb-memory-server');
  } catch (e) {
    // A late start would leave a mongod running; stop it whenever it comes up.
    creating.then((r) => r.stop({ doCleanup: true, force: true })).catch(() => {});
    throw e;
  }
  const uri = replSet.getUri();
  return {
    uri,
    kind: 'mongodb-memory-server',
    description: `mongodb-memory-server (${uri})`,
    stop: async () => {
      await replSet.stop({ doCleanup: true, force: true });
    },
  };
}

/**
 * Start (or find) the MongoDB server for a test run.
 *
 * @example
 * const server = await startMongoServer();
 * console.log(server.description);
 * await server.stop();
 */
export async function startMongoServer(): Promise<TestMongoServer> {
  const envUri = process.env.DBSNAP_TEST_MONGODB_URI;
  if (envUri) {
    return { uri: envUri, kind: 'env', description: `env DBSNAP_TEST_MONGODB_URI (${envUri})`, stop: async () => {} };
  }
  // `wire-replica-set`: the wire test server as a one-member replica set (oplog, change streams).
  const wireReplicaSet = process.env.DBSNAP_TEST_SERVER === 'wire-replica-set';
  const forceWire = process.env.DBSNAP_TEST_SERVER === 'wire' || wireReplicaSet;
  const memoryServerPossible = !!process.env.MONGOMS_SYSTEM_BINARY || process.env.DBSNAP_TEST_TRY_DOWNLOAD === '1';
  let fallbackReason = forceWire ? `DBSNAP_TEST_SERVER=${process.env.DBSNAP_TEST_SERVER}` : 'no MONGOMS_SYSTEM_BINARY';
  if (!forceWire && memoryServerPossible) {
    try {
      return await startMemoryReplSet();
    } catch (e) {
      fallbackReason = `mongodb-memory-server failed: ${(e as Error).message.split('\n')[0]}`;
    }
  }
  const wire = await startWireServer(wireReplicaSet ? { replicaSet: 'rs0' } : {});
  return {
    uri: wire.uri,
    kind: 'wire-test-server',
    description: `wire-test-server (${wire.uri}) [${fallbackReason}]`,
    stop: () => wire.close(),
  };
}

/** Put `dbName` into the path of a MongoDB URI, keeping credentials, hosts and options. */
export function uriWithDatabase(uri: string, dbName: string): string {
  const q = uri.indexOf('?');
  const base = q === -1 ? uri : uri.slice(0, q);
  const query = q === -1 ? '' : uri.slice(q);
  const schemeEnd = base.indexOf('://') + 3;
  const slash = base.indexOf('/', schemeEnd);
  const hosts = slash === -1 ? base : base.slice(0, slash);
  return `${hosts}/${dbName}${query}`;
}
