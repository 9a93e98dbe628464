/**
 * The safety snapshot restore takes before it replaces anything: the affected collections of the
 * target committed to a new `refs/dbsnap/safety/<time>-<db>` ref, so a restore can be undone.
 */
import type { Connection } from '../mongo/connection.js';
import type { SnapshotRepository } from '../store/index.js';
import { commit } from './commit.js';
import type { RestorePlan } from './restore-plan.js';
import type { RestoreOptions } from './restore-report.js';

export async function safetySnapshot(
  repo: SnapshotRepository,
  conn: Connection,
  plan: RestorePlan,
  opts: RestoreOptions,
): Promise<{ ref: string; commit: string; collections: string[] }> {
  const now = opts.now ?? new Date();
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const db = conn.dbName.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 24);
  const taken = new Set((await repo.listRefs('refs/dbsnap/safety/')).map((r) => r.ref));
  let ref = `refs/dbsnap/safety/${stamp}-${db}`;
  for (let n = 2; taken.has(ref); n++) ref = `refs/dbsnap/safety/${stamp}-${db}-${n}`;
  opts.onProgress?.({ phase: 'backup', done: 0 });
  const r = await commit({
    repo: opts.repo,
    uri: opts.uri,
    db: conn.dbName,
    ref,
    collections: plan.affected,
    message: `Safety snapshot of ${conn.dbName} before restoring ${opts.ref}`,
    allowEmpty: true,
    useServerHashes: false,
    useChangeStreams: false,
    key: opts.key,
    author: opts.author,
    now,
    signal: opts.signal,
    onProgress: opts.onProgress ? (p) => opts.onProgress!({ ...p, phase: 'backup' }) : undefined,
  });
  return { ref, commit: r.commit!, collections: r.collections.map((c) => c.name) };
}
