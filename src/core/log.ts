import { MANIFEST_FILE } from '../canonical/format.js';
import { InvalidArgumentError } from '../errors/index.js';
import { SnapshotRepository } from '../store/index.js';
import { parseTrailers } from './commit.js';
import { readDrills } from './drill-notes.js';

export interface LogOptions {
  repo: string;
  /** Where to start (default HEAD). */
  ref?: string;
  /** At most this many entries. */
  n?: number;
}

export interface LogEntry {
  commit: string;
  date: string;
  author: string;
  subject: string;
  message: string;
  tags: string[];
  /** False for commits that hold no snapshot (the init and config commits). */
  snapshot: boolean;
  database?: string;
  source?: string;
  collections?: number;
  documents?: number;
  trailers: Record<string, string>;
  /** The newest restore drill of this snapshot (`dbsnap drill`), if any. */
  drill?: { time: string; ok: boolean };
}

/**
 * Snapshot history, newest first (first-parent), with the counts recorded in each commit.
 *
 * @example
 * for (const e of await log({ repo: 'backup-repo', n: 5 })) console.log(e.commit.slice(0, 7), e.subject);
 */
export async function log(opts: LogOptions): Promise<LogEntry[]> {
  if (opts.n !== undefined && !(Number.isInteger(opts.n) && opts.n >= 0)) {
    throw new InvalidArgumentError(`-n takes a whole number of entries (0 or more), not ${String(opts.n)}.`, { n: opts.n });
  }
  const repo = await SnapshotRepository.open(opts.repo);
  const head = await repo.head();
  if (!head.oid && !opts.ref) return [];
  const start = opts.ref ?? 'HEAD';
  const [commits, tags, drills] = await Promise.all([repo.log(start, opts.n), repo.tagsByCommit(), readDrills(repo)]);
  const lastDrill = new Map<string, { time: string; ok: boolean }>();
  for (const d of drills) if (!lastDrill.has(d.commit)) lastDrill.set(d.commit, { time: d.time, ok: d.ok });
  const out: LogEntry[] = [];
  for (const c of commits) {
    const trailers = parseTrailers(c.message);
    let counts: { collections?: number; documents?: number } = {};
    if (trailers.Documents) counts = { collections: Number(trailers.Collections), documents: Number(trailers.Documents) };
    let hasSnapshot = 'Documents' in trailers;
    if (!hasSnapshot) {
      // Config and rekey commits carry the snapshot along without count trailers.
      const manifest = await repo.readFile(c.oid, MANIFEST_FILE);
      hasSnapshot = manifest !== null;
      if (manifest) {
        const m = JSON.parse(manifest.toString('utf8')) as { documents: number; collections: object };
        counts = { collections: Object.keys(m.collections).length, documents: m.documents };
      }
    }
    out.push({
      commit: c.oid,
      date: new Date(c.author.timestamp * 1000).toISOString(),
      author: `${c.author.name} <${c.author.email}>`,
      subject: c.message.split('\n')[0] ?? '',
      message: c.message,
      tags: tags.get(c.oid) ?? [],
      snapshot: hasSnapshot,
      ...(trailers.Database ? { database: trailers.Database } : {}),
      ...(trailers.Source ? { source: trailers.Source } : {}),
      ...counts,
      trailers,
      ...(lastDrill.has(c.oid) ? { drill: lastDrill.get(c.oid)! } : {}),
    });
  }
  return out;
}
