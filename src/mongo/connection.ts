/**
 * The one place that opens connections to MongoDB. Errors from the driver become typed dbsnap
 * errors whose messages carry the redacted URI only.
 */
import type { Db, MongoClient } from 'mongodb';
import { ConnectionError, DatabaseNotFoundError, InvalidArgumentError } from '../errors/index.js';
import { driverError } from './errors.js';
import { databaseFromUri, describeSource, parseUri, redactText, redactUri, type SourceDescription } from './uri.js';

export interface Connection {
  client: MongoClient;
  db: Db;
  dbName: string;
  source: SourceDescription;
  server: ServerInfo;
  close(): Promise<void>;
}

export interface ServerInfo {
  version: string;
  /** replicaSet and sharded support snapshot reads; standalone does not. */
  topology: 'standalone' | 'replicaSet' | 'sharded';
  setName?: string;
}

export interface ConnectOptions {
  uri: string;
  /** Database name; defaults to the one in the URI path. */
  db?: string;
  /** How long to wait for a server before giving up (ms). */
  serverSelectionTimeoutMS?: number;
}

/** Opens a connection and checks the server answers. Throws ConnectionError or InvalidArgumentError. */
export async function connect(opts: ConnectOptions): Promise<Connection> {
  if (!opts.uri) {
    throw new InvalidArgumentError('no MongoDB URI: pass --uri or set MONGODB_URI.');
  }
  parseUri(opts.uri);
  const dbName = opts.db ?? databaseFromUri(opts.uri);
  if (!dbName) {
    throw new InvalidArgumentError(
      `no database named: ${redactUri(opts.uri)} has no database in its path; pass --db NAME.`,
    );
  }
  if (/[/\\. "$\0]/.test(dbName) || dbName.length > 63) {
    throw new InvalidArgumentError(`"${dbName}" is not a valid MongoDB database name.`);
  }
  // An explicit option wins; then the URI's own serverSelectionTimeoutMS; then 10 s.
  const inUri = /[?&]serverSelectionTimeoutMS=/i.test(opts.uri);
  // The driver is loaded on the first connection, not at start-up: commands that never connect
  // (log, show, diff between commits, verify, tag, --help) do not pay for it.
  const { MongoClient } = await import('mongodb');
  let client: MongoClient;
  try {
    client = new MongoClient(opts.uri, {
      ...(opts.serverSelectionTimeoutMS !== undefined || !inUri
        ? { serverSelectionTimeoutMS: opts.serverSelectionTimeoutMS ?? 10_000 }
        : {}),
      appName: 'dbsnap',
    });
  } catch (err) {
    // The driver's own option checks (an unknown or malformed option) throw here.
    throw new InvalidArgumentError(
      `the MongoDB driver refuses ${redactUri(opts.uri)}: ${redactText(String((err as Error).message ?? err).split('\n')[0]!, opts.uri)}. Fix the connection string.`,
      { uri: redactUri(opts.uri) },
    );
  }
  let hello: Record<string, unknown>;
  let build: Record<string, unknown>;
  try {
    await client.connect();
    const admin = client.db('admin');
    hello = await admin.command({ hello: 1 });
    build = await admin.command({ buildInfo: 1 });
  } catch (err) {
    await client.close().catch(() => {});
    throw connectionError(err, opts.uri);
  }
  const topology: ServerInfo['topology'] =
    hello.msg === 'isdbgrid' ? 'sharded' : hello.setName ? 'replicaSet' : 'standalone';
  const server: ServerInfo = {
    version: String(build.version ?? 'unknown'),
    topology,
    ...(hello.setName ? { setName: String(hello.setName) } : {}),
  };
  return {
    client,
    db: client.db(dbName),
    dbName,
    source: describeSource(opts.uri, dbName),
    server,
    close: () => client.close(),
  };
}

/** Translates a driver error into a one-line ConnectionError that never contains credentials. */
export function connectionError(err: unknown, uri: string): ConnectionError {
  const e = err as { name?: string; message?: string; code?: number; codeName?: string };
  const safe = redactUri(uri);
  const raw = redactText(String(e.message ?? err), uri);
  if (e.code === 18 || /auth/i.test(e.codeName ?? '') || /Authentication failed/i.test(raw)) {
    return new ConnectionError(
      `authentication failed for ${safe}: check the user name, password and authSource.`,
      { uri: safe, code: e.code },
    );
  }
  return new ConnectionError(
    `cannot reach MongoDB at ${safe}: ${raw.split('\n')[0]}. Is the server running and the URI right?`,
    { uri: safe, code: e.code },
  );
}

/** Throws DatabaseNotFoundError unless the database exists on the server. */
export async function assertDatabaseExists(conn: Connection): Promise<void> {
  let databases: unknown;
  try {
    ({ databases } = await conn.client.db('admin').command({ listDatabases: 1, nameOnly: true, filter: { name: conn.dbName } }));
  } catch (err) {
    throw driverError('listing databases', err);
  }
  if (!(databases as { name: string }[]).some((d) => d.name === conn.dbName)) {
    throw new DatabaseNotFoundError(
      `database "${conn.dbName}" does not exist on ${describeHosts(conn)}; check --db or the URI path.`,
      { database: conn.dbName },
    );
  }
}

function describeHosts(conn: Connection): string {
  return conn.source.hosts.join(',');
}
