/**
 * A lock inside the target database, so two restores into one database never run at once (the
 * second would take the first's temporary collections for leftovers and drop them).
 *
 * One document `{ _id: 'restore' }` in the dbsnap-owned collection `__dbsnap_lock`, inserted
 * (the unique `_id` makes that atomic on any server) with an owner id and a lease that a
 * heartbeat extends. A holder that died is recognised by its lease running out, or at once when
 * it ran on this host and its pid is gone. Releasing deletes the document and, when no other
 * restore took the lock meanwhile, the collection.
 */
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import { MongoOperationError, TargetLockedError } from '../errors/index.js';
import { isProcessAlive } from '../host/process-alive.js';
import type { Connection } from './connection.js';

/** Every collection dbsnap itself creates in a user's database starts with this. */
export const DBSNAP_COLLECTION_PREFIX = '__dbsnap_';
export const TARGET_LOCK_COLLECTION = '__dbsnap_lock';
const LOCK_ID = 'restore';
/** How long a lock outlives its last heartbeat: a holder on another host that died frees it after this. */
export const TARGET_LOCK_LEASE_MS = 60_000;

interface LockDocument {
  _id: string;
  owner: string;
  host: string;
  pid: number;
  operation: string;
  started: Date;
  expiresAt: Date;
}

export interface TargetLock {
  /** Random per acquisition; temporary collections of this run can carry it. */
  owner: string;
  /** Stops the heartbeat and removes the lock if it is still ours; safe to call twice. */
  release(): Promise<void>;
}

/**
 * Takes the restore lock of `conn`'s database for `operation`.
 *
 * @throws TargetLockedError (ETARGETLOCKED) while another live restore holds it.
 * @example
 * const lock = await lockTarget(conn, 'restore v1');
 * try { ... } finally { await lock.release(); }
 */
export async function lockTarget(conn: Connection, operation: string, leaseMs = TARGET_LOCK_LEASE_MS): Promise<TargetLock> {
  const coll = conn.db.collection<LockDocument>(TARGET_LOCK_COLLECTION);
  const owner = randomBytes(8).toString('hex');
  const mine = (): LockDocument => ({
    _id: LOCK_ID,
    owner,
    host: os.hostname(),
    pid: process.pid,
    operation,
    started: new Date(),
    expiresAt: new Date(Date.now() + leaseMs),
  });
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await coll.insertOne(mine());
        return holding();
      } catch (err) {
        if ((err as { code?: number }).code !== 11000) throw err;
      }
      const holder = await coll.findOne({ _id: LOCK_ID });
      if (!holder) continue; // released in between
      const dead = holder.expiresAt.getTime() < Date.now() || (holder.host === os.hostname() && holder.pid !== process.pid && !isProcessAlive(holder.pid));
      if (!dead) {
        throw new TargetLockedError(
          `another restore is writing into ${conn.dbName} (${holder.operation}, process ${holder.pid} on ${holder.host}, since ${holder.started.toISOString()}); nothing was changed. ` +
            `Wait for it to finish and run this again; if that process is gone, its lock expires at ${holder.expiresAt.toISOString()}.`,
          { database: conn.dbName, pid: holder.pid, host: holder.host, operation: holder.operation, expiresAt: holder.expiresAt.toISOString() },
        );
      }
      // Take over only the exact lock judged dead: another process may have taken it meanwhile.
      const took = await coll.findOneAndReplace({ _id: LOCK_ID, owner: holder.owner }, mine());
      if (took) return holding();
    }
  } catch (err) {
    if (err instanceof TargetLockedError) throw err;
    throw new MongoOperationError(`cannot take the restore lock in ${conn.dbName} (collection ${TARGET_LOCK_COLLECTION}): ${(err as Error).message}; nothing was changed.`, {
      database: conn.dbName,
    });
  }
  throw new TargetLockedError(`the restore lock of ${conn.dbName} keeps changing hands; nothing was changed. Run this again.`, { database: conn.dbName });

  function holding(): TargetLock {
    const beat = setInterval(() => {
      coll.updateOne({ _id: LOCK_ID, owner }, { $set: { expiresAt: new Date(Date.now() + leaseMs) } }).catch(() => {});
    }, Math.max(1000, Math.floor(leaseMs / 4)));
    beat.unref();
    let released = false;
    return {
      owner,
      async release() {
        if (released) return;
        released = true;
        clearInterval(beat);
        await coll.deleteOne({ _id: LOCK_ID, owner });
        // Leave no dbsnap collection behind in the user's database, unless a restore that
        // started meanwhile holds the lock now.
        if ((await coll.countDocuments({})) === 0) await conn.db.command({ drop: TARGET_LOCK_COLLECTION }).catch(() => {});
      },
    };
  }
}
