/**
 * verify's comparison of a database with a snapshot, collection by collection (added, removed and
 * changed documents; index and option differences), through the same diff engine as `dbsnap diff`.
 */
import type { CollectionEntry, RepositoryConfig } from '../canonical/format.js';
import { diffCollection } from '../diff/index.js';
import { assertDatabaseExists, connect, type Connection } from '../mongo/connection.js';
import { listCollections, type CollectionInfo } from '../mongo/reader.js';
import { buildDocumentTransform } from './sensitive.js';
import { liveSide, snapshotSide } from './sides.js';
import { withParts, type SnapshotRef } from './snapshot.js';
import type { VerifyOptions, VerifyReport } from './verify-report.js';

/** Adds a `live` verdict to every row of the report (and rows for collections only in the database). */
export async function compareLive(
  report: VerifyReport,
  snap: SnapshotRef,
  entries: Map<string, CollectionEntry>,
  corrupt: Set<string>,
  config: RepositoryConfig,
  opts: VerifyOptions,
): Promise<void> {
  opts.onProgress?.({ phase: 'connect', done: 0 });
  const conn: Connection = await connect({ uri: opts.uri!, db: opts.db });
  try {
    await assertDatabaseExists(conn);
    report.database = conn.dbName;
    const live = new Map<string, CollectionInfo>();
    for (const info of await listCollections(conn)) if (!config.exclude.includes(info.name)) live.set(info.name, info);
    const names = [...report.collections.map((c) => c.name), ...[...live.keys()].filter((n) => !report.collections.some((c) => c.name === n))].sort();
    const compared = names.filter((n) => live.has(n) && entries.has(n) && !corrupt.has(n));
    const { transformFor } = buildDocumentTransform(config, opts.key, compared);
    for (const name of names) {
      opts.signal?.throwIfAborted();
      const info = live.get(name);
      let row = report.collections.find((c) => c.name === name);
      if (!row) {
        row = { name, type: info!.type, documents: 0, parts: 0, snapshot: 'absent' };
        report.collections.push(row);
      }
      if (!info) {
        row.live = 'missing';
        report.problems.push({ kind: 'live', collection: name, message: `${name}: in the snapshot but not in database ${conn.dbName}.` });
        continue;
      }
      if (row.snapshot === 'absent') {
        row.live = 'extra';
        report.problems.push({ kind: 'live', collection: name, message: `${name}: in database ${conn.dbName} but not in the snapshot.` });
        continue;
      }
      const entry = entries.get(name);
      if (!entry || corrupt.has(name)) {
        row.live = 'skipped';
        continue;
      }
      const one = await withParts(snap, name);
      const from = snapshotSide(one, entry);
      const to = await liveSide(conn, info, { config, transform: transformFor(name), against: one, signal: opts.signal });
      const delta = await diffCollection(from, to, { limit: 0 });
      row.counts = delta.counts;
      row.indexes = {
        added: delta.indexes.added.map((i) => String(i.name)),
        removed: delta.indexes.removed.map((i) => String(i.name)),
        changed: delta.indexes.changed.map((i) => i.name),
      };
      row.options = delta.options.map((o) => o.path);
      row.live = delta.status === 'unchanged' ? 'identical' : 'differs';
      if (row.live === 'differs') {
        const what: string[] = [];
        const c = delta.counts;
        if (c.added + c.removed + c.changed > 0) what.push(`${c.added} added, ${c.removed} removed, ${c.changed} changed documents`);
        for (const [k, v] of Object.entries(row.indexes)) if (v.length) what.push(`index${v.length === 1 ? '' : 'es'} ${k}: ${v.join(', ')}`);
        if (row.options.length) what.push(`options differ: ${row.options.join(', ')}`);
        if (delta.type.old !== delta.type.new) what.push(`type ${delta.type.new} instead of ${delta.type.old}`);
        report.problems.push({ kind: 'live', collection: name, message: `${name}: database ${conn.dbName} differs from the snapshot: ${what.join('; ')}.` });
      }
    }
    report.collections.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } finally {
    await conn.close().catch(() => {});
  }
}

