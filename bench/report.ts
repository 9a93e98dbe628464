/**
 * Pure helpers for `npm run bench`: medians, ratios, the results table and the targets.
 * No I/O here, so tests can check the arithmetic and the formatting byte for byte.
 */

/** What one child process reports for one contender in one round. */
export interface Sample {
  /** Wall time of the measured operation inside the child, in milliseconds. */
  ms: number;
  /** CPU time (user + system) the child spent on the measured work, in milliseconds; the server's is not in it. */
  cpuMs?: number;
  /** Peak resident set size of the child, in bytes. */
  maxRssBytes: number;
  /** CPU time the server process spent while this contender ran (only when the bench started the server). */
  serverCpuMs?: number;
  /** Contender-specific facts (bytes written, documents restored, ...). */
  info?: Record<string, unknown>;
}

/** One row of the results: a contender's samples over the rounds, or why it has none. */
export interface ContenderResult {
  id: string;
  label: string;
  /** The row this one is compared with (`floor-read` or `floor-write`); absent for the floors. */
  floor?: string;
  samples: Sample[];
  /** Set when the contender could not run at all or failed: `n/a: ...`, `error: ...`, `timeout ...`. */
  note?: string;
  /** Rows over another database than the shop (many collections, big documents): its size. */
  documents?: number;
  bsonBytes?: number;
}

/** A summarised row, as printed and as emitted by `--json`. */
export interface Row {
  id: string;
  label: string;
  runs: number;
  medianMs: number | null;
  /** Median CPU milliseconds of the contender's own process (null when not reported). */
  cpuMs: number | null;
  /** cpuMs per document of the database the row covers, in microseconds. */
  cpuUsPerDoc: number | null;
  /** Median CPU milliseconds the server process spent while the contender ran (null when unknown). */
  serverCpuMs: number | null;
  /** Documents the row's rates are over (the shop, or the row's own database). */
  documents: number;
  docsPerSec: number | null;
  mbPerSec: number | null;
  floor: string | null;
  ratio: number | null;
  /** The largest peak RSS over the runs, in MB (1 MB = 2^20 bytes). */
  peakRssMb: number | null;
  note: string | null;
}

export interface Target {
  name: string;
  limit: string;
  actual: string;
  /** null when an input is missing (a row failed or was not measured). */
  met: boolean | null;
}

/** Median of a non-empty list (mean of the two middle values for even lengths). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty list');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const MB = 1024 * 1024;

/**
 * Summarises contenders into rows: median time, documents/s and MB/s of BSON over that median,
 * ratio of the median to the floor row's median, and the worst peak RSS.
 */
export function summarize(results: readonly ContenderResult[], documents: number, bsonBytes: number): Row[] {
  const medians = new Map<string, number>();
  for (const r of results) {
    if (r.samples.length > 0) medians.set(r.id, median(r.samples.map((s) => s.ms)));
  }
  return results.map((r) => {
    const ms = medians.get(r.id) ?? null;
    const floorMs = r.floor ? medians.get(r.floor) : undefined;
    const cpus = r.samples.flatMap((s) => (s.cpuMs === undefined ? [] : [s.cpuMs]));
    const serverCpus = r.samples.flatMap((s) => (s.serverCpuMs === undefined ? [] : [s.serverCpuMs]));
    const cpuMs = cpus.length > 0 ? median(cpus) : null;
    const docs = r.documents ?? documents;
    const bytes = r.bsonBytes ?? bsonBytes;
    return {
      id: r.id,
      label: r.label,
      runs: r.samples.length,
      medianMs: ms,
      cpuMs,
      cpuUsPerDoc: cpuMs !== null && docs > 0 ? (cpuMs * 1000) / docs : null,
      serverCpuMs: serverCpus.length > 0 ? median(serverCpus) : null,
      documents: docs,
      docsPerSec: ms !== null && ms > 0 ? docs / (ms / 1000) : null,
      mbPerSec: ms !== null && ms > 0 ? bytes / MB / (ms / 1000) : null,
      floor: r.floor ?? null,
      ratio: ms !== null && floorMs ? ms / floorMs : null,
      peakRssMb: r.samples.length > 0 ? Math.max(...r.samples.map((s) => s.maxRssBytes)) / MB : null,
      note: r.note ?? null,
    };
  });
}

function rowById(rows: readonly Row[], id: string): Row | undefined {
  return rows.find((r) => r.id === id);
}

function ratioTarget(name: string, rows: readonly Row[], id: string, baseId: string, limit: number): Target {
  const a = rowById(rows, id)?.medianMs ?? null;
  const b = rowById(rows, baseId)?.medianMs ?? null;
  if (a === null || b === null || b === 0) return { name, limit: `<= ${limit}x`, actual: 'not measured', met: null };
  const ratio = a / b;
  return { name, limit: `<= ${limit}x`, actual: `${fmtRatio(ratio)}`, met: ratio <= limit };
}

/** Like ratioTarget, on CPU time (user + system of the child): robust when the machine is shared. */
function cpuRatioTarget(name: string, rows: readonly Row[], id: string, baseId: string, limit: number): Target {
  const a = rowById(rows, id)?.cpuMs ?? null;
  const b = rowById(rows, baseId)?.cpuMs ?? null;
  if (a === null || b === null || b === 0) return { name, limit: `<= ${limit}x CPU`, actual: 'not measured', met: null };
  const ratio = a / b;
  return { name, limit: `<= ${limit}x CPU`, actual: `${fmtRatio(ratio)}`, met: ratio <= limit };
}

/** Inputs of the targets besides the rows. */
export interface TargetContext {
  /** Repository growth (objects/) of the 0.1% commit, % of the first snapshot's size. */
  growthPercent: number | null;
  /** The same after `dbsnap gc` (first snapshot packed, then the 0.1% commit and gc again). */
  packedGrowthPercent?: number | null;
  /** Shop size of the run: the peak RSS limit is 250 MB up to 1M documents, 300 MB beyond. */
  documents: number;
}

/** dbsnap's own commands among the rows: each has a peak RSS target. */
const DBSNAP_COMMANDS = [
  'commit',
  'commit-again',
  'commit-change',
  'diff',
  'verify',
  'restore',
  'gc',
  'commit-change-packed',
  'gc-change',
  'diff-packed',
  'verify-packed',
  'restore-packed',
];

/**
 * The targets of issue 17 (and the storage targets of the earlier issues), evaluated on one run's
 * rows: ratios of medians measured in the same run.
 */
export function evaluateTargets(rows: readonly Row[], ctx: TargetContext): Target[] {
  const targets: Target[] = [
    ratioTarget('commit (empty repository) vs floor-dump', rows, 'commit', 'floor-dump', 2.5),
    ratioTarget('commit (empty repository) vs floor-read', rows, 'commit', 'floor-read', 0.5),
    cpuPerDocTarget('client CPU of commit per document', rows, 'commit', 15),
  ];
  const commitRow = rowById(rows, 'commit');
  for (const other of ['seed', 'apostrophe-write']) {
    const o = rowById(rows, other);
    const name = `commit ahead of ${other} (time and peak RSS)`;
    if (!commitRow?.medianMs || !o?.medianMs || commitRow.peakRssMb === null || o.peakRssMb === null) {
      targets.push({ name, limit: 'faster, less memory', actual: 'not measured', met: null });
      continue;
    }
    targets.push({
      name,
      limit: 'faster, less memory',
      actual: `${fmtRatio(commitRow.medianMs / o.medianMs)} time, ${fmtRatio(commitRow.peakRssMb / o.peakRssMb)} RSS`,
      met: commitRow.medianMs < o.medianMs && commitRow.peakRssMb < o.peakRssMb,
    });
  }
  targets.push(
    ratioTarget('commit after 0.1% change vs floor-read', rows, 'commit-change', 'floor-read', 0.3),
    ratioTarget('commit again (nothing changed, server hashes) vs floor-read', rows, 'commit-again', 'floor-read', 0.05),
    ratioTarget('diff (0.1% apart) vs commit', rows, 'diff', 'commit', 0.03),
    ratioTarget('restore (verified) vs floor-write', rows, 'restore', 'floor-write', 1.3),
    ratioTarget('verify (local) vs commit', rows, 'verify', 'commit', 0.3),
  );
  const rssLimit = ctx.documents > 1_000_000 ? 300 : 250;
  for (const id of DBSNAP_COMMANDS) {
    const row = rowById(rows, id);
    if (!row) continue;
    const rss = row.peakRssMb;
    targets.push({
      name: `peak RSS of ${id}`,
      limit: `<= ${rssLimit} MB`,
      actual: rss === null ? 'not measured' : `${rss.toFixed(0)} MB`,
      met: rss === null ? null : rss <= rssLimit,
    });
  }
  const growth = ctx.growthPercent;
  targets.push({
    name: 'repository growth after 0.1% change (issue 7)',
    limit: '<= 5%',
    actual: growth === null ? 'not measured' : `${growth.toFixed(2)}%`,
    met: growth === null ? null : growth <= 5,
  });
  const packedGrowth = ctx.packedGrowthPercent ?? null;
  if (packedGrowth !== null || rows.some((r) => r.id.endsWith('-packed'))) {
    targets.push(
      {
        name: 'repository growth after 0.1% change, after gc',
        limit: '<= 0.5%',
        actual: packedGrowth === null ? 'not measured' : `${packedGrowth.toFixed(3)}%`,
        met: packedGrowth === null ? null : packedGrowth <= 0.5,
      },
      cpuRatioTarget('diff, packed vs loose', rows, 'diff-packed', 'diff', 1.2),
      cpuRatioTarget('verify, packed vs loose', rows, 'verify-packed', 'verify', 1.2),
      cpuRatioTarget('restore, packed vs loose', rows, 'restore-packed', 'restore', 1.2),
    );
  }
  return targets;
}

/** What bench/doc-history.ts prints: one document's history over a long history of the shop. */
export interface DocHistoryResult {
  docs: number;
  commits: number;
  versions: number;
  watchedChanges: number;
  commitsExamined: number;
  partsRead: number;
  partsPerVersion: number;
  historyCpuMs: number;
  commitCpuMs: number;
  ratioToCommit: number;
}

/**
 * #12's targets for one document's history (bench/doc-history.ts): at most ~2 part blobs read per
 * version where the document changed, and under 1/10 of the CPU of one commit. Client CPU only.
 * A string is why the run gave no result; it stands as both targets' figure.
 */
export function docHistoryTargets(
  h: Pick<DocHistoryResult, 'commits' | 'partsPerVersion' | 'historyCpuMs' | 'commitCpuMs' | 'ratioToCommit'> | string | null,
): Target[] {
  if (h === null) return [];
  if (typeof h === 'string') {
    return [
      { name: 'history of one document: part blobs read per changed version', limit: '<= 2', actual: h, met: null },
      { name: 'history of one document vs one commit (CPU)', limit: '< 0.1x', actual: h, met: null },
    ];
  }
  return [
    {
      name: `history of one document (${h.commits} commits): part blobs read per changed version`,
      limit: '<= 2',
      actual: String(h.partsPerVersion),
      met: h.partsPerVersion <= 2,
    },
    {
      name: `history of one document (${h.commits} commits) vs one commit (CPU)`,
      limit: '< 0.1x',
      actual: `${fmtRatio(h.ratioToCommit)} (${h.historyCpuMs} ms vs ${h.commitCpuMs} ms)`,
      met: h.ratioToCommit < 0.1,
    },
  ];
}

function cpuPerDocTarget(name: string, rows: readonly Row[], id: string, limitUs: number): Target {
  const us = rowById(rows, id)?.cpuUsPerDoc ?? null;
  if (us === null) return { name, limit: `<= ${limitUs} us`, actual: 'not measured', met: null };
  return { name, limit: `<= ${limitUs} us`, actual: `${us.toFixed(1)} us`, met: us <= limitUs };
}

/** `1234.5` ms -> `1.23 s`; below a second stays in ms. */
export function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`;
}

export function fmtRatio(r: number): string {
  return `${r < 0.1 ? r.toFixed(3) : r.toFixed(2)}x`;
}

/** Thousands separated with commas, no decimals. */
export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** Renders rows as a Markdown table (also readable in a terminal). */
export function formatTable(rows: readonly Row[]): string {
  const header = [
    'contender',
    'time (median)',
    'documents/s',
    'MB/s (BSON)',
    'ratio to floor',
    'client CPU',
    'CPU us/doc',
    'server CPU',
    'peak RSS',
    'runs',
  ];
  const body = rows.map((r) => {
    if (r.medianMs === null) {
      return [r.label, r.note ?? 'not measured', '', '', '', '', '', '', '', String(r.runs)];
    }
    if (r.medianMs === 0) {
      // A baseline row (the idle child): only its memory means anything.
      return [r.label, '-', '-', '-', '-', '-', '-', '-', `${r.peakRssMb!.toFixed(0)} MB`, String(r.runs)];
    }
    const ratio = r.ratio === null ? (r.floor ? '' : '1.00x (floor)') : `${fmtRatio(r.ratio)} ${r.floor}`;
    return [
      r.label + (r.note ? ` (${r.note})` : ''),
      fmtMs(r.medianMs),
      fmtInt(r.docsPerSec ?? 0),
      (r.mbPerSec ?? 0).toFixed(1),
      ratio,
      r.cpuMs === null ? '' : fmtMs(r.cpuMs),
      r.cpuUsPerDoc === null ? '' : r.cpuUsPerDoc.toFixed(1),
      r.serverCpuMs === null ? '' : fmtMs(r.serverCpuMs),
      `${r.peakRssMb!.toFixed(0)} MB`,
      String(r.runs),
    ];
  });
  return markdownTable(header, body);
}

export function formatTargets(targets: readonly Target[]): string {
  return markdownTable(
    ['target', 'limit', 'actual', 'result'],
    targets.map((t) => [t.name, t.limit, t.actual, t.met === null ? 'n/a' : t.met ? 'met' : 'MISSED']),
  );
}

/** A Markdown table with columns padded to equal width; `|` in cells is escaped. */
export function markdownTable(header: readonly string[], body: readonly (readonly string[])[]): string {
  const cells = [header, ...body].map((row) => row.map((c) => c.replace(/\|/g, '\\|')));
  const widths = header.map((_, i) => Math.max(3, ...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: readonly string[]) => `| ${widths.map((w, i) => (row[i] ?? '').padEnd(w)).join(' | ')} |`;
  return [line(cells[0]!), `| ${widths.map((w) => '-'.repeat(w)).join(' | ')} |`, ...cells.slice(1).map(line)].join('\n');
}
