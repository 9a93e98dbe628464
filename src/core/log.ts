/** The `log` operation: snapshot commits from a ref back, with their trailers and tags. */
import { MANIFEST_FILE } from '../canonical/format.js';
import { InvalidArgumentError } from '../errors/index.js';
import { SnapshotRepository, type CommitInfo } from '../store/index.js';
import { commitSummary, parseTrailers, type CommitSummary } from './commit-summary.js';
import { readDrills } from './drill-notes.js';
import { ancestors, parseRange } from './revisions.js';

export interface LogOptions {
  repo: string;
  /**
   * Where to start (default HEAD), following first parents. Or a range as git takes it:
   * `A..B` (commits reachable from B but not from A), `A...B` (reachable from either, not both).
   */
  ref?: string;
  /** At most this many entries. */
  n?: number;
  /** Every commit reachable from any ref: branches, tags, safety snapshots (refs/dbsnap/...), remotes. */
  all?: boolean;
}

export interface LogEntry extends CommitSummary {
  message: string;
  tags: string[];
  /** Other refs pointing at the commit, full names (`refs/heads/main`, `refs/dbsnap/safety/...`); tags and HEAD are not listed. */
  refs: string[];
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
 * Snapshot history, newest first, with the counts recorded in each commit: first-parent from one
 * ref, or (ranges, `all`) every matching commit by date, newest first.
 *
 * @example
 * for (const e of await log({ repo: 'backup-repo', n: 5 })) console.log(e.commit.slice(0, 7), e.subject);
 * await log({ repo: 'backup-repo', ref: 'v1..HEAD' }); // what came after v1
 * await log({ repo: 'backup-repo', all: true });       // safety snapshots and tags included
 */
export async function log(opts: LogOptions): Promise<LogEntry[]> {
  if (opts.n !== undefined && !(Number.isInteger(opts.n) && opts.n >= 0)) {
    throw new InvalidArgumentError(`-n takes a whole number of entries (0 or more), not ${String(opts.n)}.`, { n: opts.n });
  }
  const repo = await SnapshotRepository.open(opts.repo);
  const head = await repo.head();
  const range = opts.ref ? parseRange(opts.ref) : null;
  if (opts.all && opts.ref) throw new InvalidArgumentError('dbsnap log --all takes no revision; give one or the other.');
  if (!head.oid && !opts.ref && !opts.all) return [];
  const [tags, refs, drills] = await Promise.all([repo.tagsByCommit(), otherRefsByCommit(repo), readDrills(repo)]);
  const lastDrill = new Map<string, { time: string; ok: boolean }>();
  for (const d of drills) if (!lastDrill.has(d.commit)) lastDrill.set(d.commit, { time: d.time, ok: d.ok });
  let commits: CommitInfo[];
  if (range) {
    const [a, b] = await Promise.all([repo.resolveCommit(range.from), repo.resolveCommit(range.to)]);
    const [fromA, fromB] = await Promise.all([ancestors(repo, [a]), ancestors(repo, [b])]);
    commits = range.symmetric
      ? [...[...fromA.values()].filter((c) => !fromB.has(c.oid)), ...[...fromB.values()].filter((c) => !fromA.has(c.oid))]
      : [...fromB.values()].filter((c) => !fromA.has(c.oid));
    commits = byDate(commits).slice(0, opts.n);
  } else if (opts.all) {
    const starts = [...new Set([...(head.oid ? [head.oid] : []), ...tags.keys(), ...refs.keys()])];
    commits = byDate([...(await ancestors(repo, starts)).values()]).slice(0, opts.n);
  } else {
    commits = await repo.log(opts.ref ?? 'HEAD', opts.n);
  }
  const out: LogEntry[] = [];
  for (const c of commits) out.push(await entryFor(repo, c, tags.get(c.oid) ?? [], refs.get(c.oid) ?? [], lastDrill.get(c.oid)));
  return out;
}

// Newest first, as git log orders by default; equal times keep the walk's order.
function byDate(commits: CommitInfo[]): CommitInfo[] {
  return commits.map((c, i) => ({ c, i })).sort((x, y) => y.c.author.timestamp - x.c.author.timestamp || x.i - y.i).map((x) => x.c);
}

/** Commit id -> full names of the refs (not tags) pointing at it. */
async function otherRefsByCommit(repo: SnapshotRepository): Promise<Map<string, string[]>> {
  const map = new Map<string, string[]>();
  for (const { ref, oid } of await repo.listRefs('refs/')) {
    if (ref.startsWith('refs/tags/')) continue;
    map.set(oid, [...(map.get(oid) ?? []), ref]);
  }
  return map;
}

async function entryFor(
  repo: SnapshotRepository,
  c: CommitInfo,
  tags: string[],
  refs: string[],
  drill: { time: string; ok: boolean } | undefined,
): Promise<LogEntry> {
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
  return {
    ...commitSummary(c),
    message: c.message,
    tags,
    refs,
    snapshot: hasSnapshot,
    ...(trailers.Database ? { database: trailers.Database } : {}),
    ...(trailers.Source ? { source: trailers.Source } : {}),
    ...counts,
    trailers,
    ...(drill ? { drill } : {}),
  };
}
