/**
 * Driver errors as dbsnap's typed errors: whatever the driver throws while src/mongo talks to a
 * server leaves this module as a DbsnapError (library callers match on `err.code`, never on the
 * driver's class names), with the driver's error kept as `cause`.
 */
import { ConnectionError, isDbsnapError, MongoOperationError, type DbsnapError } from '../errors/index.js';
import { redactUri } from './uri.js';

// The driver names its network-level failures this way (MongoNetworkError, MongoServerSelectionError,
// MongoNetworkTimeoutError, MongoTopologyClosedError); the server is then gone, not refusing.
const NETWORK = /^Mongo(Network|ServerSelection|TopologyClosed|NotConnected)/;

/**
 * `err` (from a driver call) as a typed error: ECONNECT when the server could not be reached,
 * EMONGO when it refused the command. `what` says what was being done (`listing collections`,
 * `inserting into "orders"`). A DbsnapError passes through unchanged.
 */
export function driverError(what: string, err: unknown, data: Record<string, unknown> = {}): DbsnapError {
  if (isDbsnapError(err)) return err;
  const e = err as { name?: string; message?: string; code?: number; codeName?: string };
  // Driver messages may quote a connection string: never let credentials through.
  const message = String(e?.message ?? err).split('\n')[0]!.replace(/mongodb(\+srv)?:\/\/[^\s'"]+/g, (u) => redactUri(u));
  const details = {
    ...data,
    ...(e?.code !== undefined ? { serverCode: e.code } : {}),
    ...(e?.codeName ? { codeName: e.codeName } : {}),
  };
  if (NETWORK.test(e?.name ?? '')) {
    return new ConnectionError(`lost the connection to MongoDB while ${what}: ${message}`, details, { cause: err });
  }
  return new MongoOperationError(`${what} failed: ${message}`, details, { cause: err });
}
