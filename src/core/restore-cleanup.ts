/**
 * `dbsnap restore --cleanup`: removes what an interrupted restore left in a database (its
 * temporary collections), under the target's restore lock so a restore running now is never
 * robbed of its own.
 */
import { connect } from '../mongo/connection.js';
import { lockTarget } from '../mongo/target-lock.js';
import { dropCollection, listTempCollections } from '../mongo/writer.js';

export interface CleanupOptions {
  uri: string;
  /** Target database; defaults to the one in the URI. */
  db?: string;
}

export interface CleanupResult {
  database: string;
  /** Temporary collections dropped (an empty list: there were none). */
  dropped: string[];
}

/**
 * Drops the temporary collections interrupted restores left in the database.
 *
 * @throws TargetLockedError (ETARGETLOCKED) while a restore into that database is running.
 * @example
 * const { dropped } = await cleanupRestore({ uri: 'mongodb://localhost/shop' });
 */
export async function cleanupRestore(opts: CleanupOptions): Promise<CleanupResult> {
  const conn = await connect({ uri: opts.uri, db: opts.db });
  try {
    const lock = await lockTarget(conn, 'restore --cleanup');
    const dropped: string[] = [];
    try {
      for (const name of await listTempCollections(conn)) {
        await dropCollection(conn, name);
        dropped.push(name);
      }
    } finally {
      await lock.release().catch(() => {});
    }
    return { database: conn.dbName, dropped };
  } finally {
    await conn.close().catch(() => {});
  }
}
