/**
 * `dbsnap drill`: proves a snapshot restores. It is restored into a scratch database that did not
 * exist before (`<db>_dbsnap_drill_<time>`), every document read back and checked against the
 * snapshot's hashes, the scratch database dropped, and the result recorded as a git note on the
 * snapshot's commit (drill-notes.ts). The source database is never written: the scratch name
 * always differs from it and must not exist beforehand.
 */
import type { KeyMaterial } from '../crypto/index.js';
import { InvalidArgumentError } from '../errors/index.js';
import { connect } from '../mongo/connection.js';
import { databaseFromUri, describeSource, formatSource } from '../mongo/uri.js';
import { SnapshotRepository } from '../store/index.js';
import { recordDrill, type DrillRecord } from './drill-notes.js';
import type { Identity, ProgressCallback } from './progress.js';
import { restore } from './restore.js';
import { readManifest, openSnapshot } from './snapshot.js';
import { stamp } from './snapshot-around.js';

export type { DrillRecord } from './drill-notes.js';

export interface DrillOptions {
  repo: string;
  /** The snapshot to drill (default HEAD). */
  ref?: string;
  /** The server to drill on (the source server by default; a scratch database is created there). */
  uri: string;
  /** Names the scratch database `<db>_dbsnap_drill_<time>` (default: the URI's database, else the snapshot's). */
  db?: string;
  key?: KeyMaterial;
  /** Restore into a host listed in protectedHosts. */
  force?: boolean;
  /** Record the result in the repository (default true). */
  record?: boolean;
  author?: Identity;
  now?: Date;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

export interface DrillResult extends DrillRecord {
  /** The scratch database. */
  database: string;
  /** The scratch database was dropped again. */
  droppedScratch: boolean;
  recorded: boolean;
}

const MARK = '_dbsnap_drill_';

/**
 * Runs a restore drill. A failed restore is a result (`ok: false`, recorded), not an exception;
 * errors before anything was restored (bad ref, no repository, server unreachable) throw.
 *
 * @example
 * const d = await drill({ repo: 'backup-repo', uri: 'mongodb://localhost/shop' });
 * console.log(d.ok ? `drill ok: ${d.documents} documents` : `drill failed: ${d.error}`);
 */
export async function drill(opts: DrillOptions): Promise<DrillResult> {
  const started = opts.now ?? new Date();
  const t0 = performance.now();
  const repo = await SnapshotRepository.open(opts.repo);
  const ref = opts.ref ?? 'HEAD';
  const snap = await openSnapshot(repo, ref);
  const manifest = await readManifest(snap);
  const sourceDb = opts.db ?? databaseFromUri(opts.uri) ?? 'snapshot';
  // MongoDB database names are at most 63 bytes.
  const scratch = `${sourceDb.slice(0, 63 - MARK.length - 16)}${MARK}${stamp(started)}`;
  if (scratch === sourceDb) throw new InvalidArgumentError(`the drill database would be ${scratch}, the source database itself.`);

  const conn = await connect({ uri: opts.uri, db: scratch });
  let droppedScratch = false;
  let outcome: { ok: boolean; error?: string; collections: number; documents: number };
  try {
    const { databases } = await conn.client.db('admin').command({ listDatabases: 1, nameOnly: true, filter: { name: scratch } });
    if ((databases as unknown[]).length > 0) {
      throw new InvalidArgumentError(`database ${scratch} already exists on ${conn.source.hosts.join(',')}; a drill only uses a database it creates. Drop it or wait a second.`, { database: scratch });
    }
    try {
      const r = await restore({
        repo: opts.repo,
        ref: snap.commit,
        uri: opts.uri,
        db: scratch,
        key: opts.key,
        backup: false,
        readBack: true,
        force: opts.force,
        author: opts.author,
        now: started,
        onProgress: opts.onProgress,
        signal: opts.signal,
      });
      outcome = { ok: true, collections: r.verified.collections, documents: r.verified.documents };
    } catch (err) {
      const code = (err as { code?: string }).code;
      // Refusals about the target are the caller's to fix, not a failed drill.
      if (code === 'EPROTECTED' || code === 'EINTERRUPTED') throw err;
      outcome = { ok: false, error: String((err as Error).message ?? err).split('\n')[0], collections: 0, documents: 0 };
    }
  } finally {
    // Only ever the database this drill named, never the source.
    if (conn.dbName.includes(MARK) && conn.dbName !== sourceDb) {
      droppedScratch = await conn.db.dropDatabase().then(() => true, () => false);
    }
    await conn.close().catch(() => {});
  }
  const record: DrillRecord = {
    time: started.toISOString(),
    commit: snap.commit,
    ref,
    ok: outcome.ok,
    collections: outcome.ok ? outcome.collections : Object.keys(manifest.collections).length,
    documents: outcome.ok ? outcome.documents : manifest.documents,
    durationMs: Math.round(performance.now() - t0),
    target: formatSource(describeSource(opts.uri, scratch)),
    ...(outcome.error ? { error: outcome.error } : {}),
  };
  const recorded = opts.record !== false;
  if (recorded) await recordDrill(repo, record, opts.author, started);
  return { ...record, database: scratch, droppedScratch, recorded };
}
