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
}

/** A summarised row, as printed and as emitted by `--json`. */
export interface Row {
  id: string;
  label: string;
  runs: number;
  medianMs: number | null;
  /** Median CPU milliseconds of the contender's own process (null when not reported). */
  cpuMs: number | null;
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
    return {
      id: r.id,
      label: r.label,
      runs: r.samples.length,
      medianMs: ms,
      cpuMs: cpus.length > 0 ? median(cpus) : null,
      docsPerSec: ms !== null && ms > 0 ? documents / (ms / 1000) : null,
      mbPerSec: ms !== null && ms > 0 ? bsonBytes / MB / (ms / 1000) : null,
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

/**
 * The targets, evaluated on one run's rows. `growthPercent` is the repository growth
 * (objects/) of the 0.1% commit as a percentage of the first snapshot's size; `packedGrowthPercent`
 * the same after `dbsnap gc` (first snapshot packed, then the 0.1% commit and gc again).
 */
export function evaluateTargets(rows: readonly Row[], growthPercent: number | null, packedGrowthPercent: number | null = null): Target[] {
  const targets: Target[] = [
    ratioTarget('commit vs floor-read', rows, 'commit', 'floor-read', 1.0),
    ratioTarget('commit again (nothing changed, dbHash) vs floor-read', rows, 'commit-again', 'floor-read', 0.1),
    ratioTarget('commit after 0.1% change vs floor-read', rows, 'commit-change', 'floor-read', 1.0),
    {
      name: 'repository growth after 0.1% change',
      limit: '<= 5%',
      actual: growthPercent === null ? 'not measured' : `${growthPercent.toFixed(2)}%`,
      met: growthPercent === null ? null : growthPercent <= 5,
    },
    ratioTarget('diff (0.1% apart) vs full commit', rows, 'diff', 'commit', 0.05),
    ratioTarget('restore (verified) vs floor-write', rows, 'restore', 'floor-write', 1.5),
  ];
  if (packedGrowthPercent !== null || rows.some((r) => r.id.endsWith('-packed'))) {
    targets.push(
      {
        name: 'repository growth after 0.1% change, after gc',
        limit: '<= 0.5%',
        actual: packedGrowthPercent === null ? 'not measured' : `${packedGrowthPercent.toFixed(3)}%`,
        met: packedGrowthPercent === null ? null : packedGrowthPercent <= 0.5,
      },
      cpuRatioTarget('diff, packed vs loose', rows, 'diff-packed', 'diff', 1.2),
      cpuRatioTarget('verify, packed vs loose', rows, 'verify-packed', 'verify', 1.2),
      cpuRatioTarget('restore, packed vs loose', rows, 'restore-packed', 'restore', 1.2),
    );
  }
  for (const id of ['commit', 'commit-change', 'restore']) {
    const rss = rowById(rows, id)?.peakRssMb ?? null;
    targets.push({
      name: `peak RSS of ${id}`,
      limit: '<= 300 MB',
      actual: rss === null ? 'not measured' : `${rss.toFixed(0)} MB`,
      met: rss === null ? null : rss <= 300,
    });
  }
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
  return targets;
}

/**
 * #12's targets for one document's history (bench/doc-history.ts): at most ~2 part blobs read per
 * version where the document changed, and under 1/10 of the CPU of one commit. Client CPU only.
 */
export function docHistoryTargets(
  h: { partsPerVersion: number; ratioToCommit: number; historyCpuMs: number; commitCpuMs: number; commits: number } | string | null,
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
  const header = ['contender', 'time (median)', 'documents/s', 'MB/s (BSON)', 'ratio to floor', 'client CPU', 'peak RSS', 'runs'];
  const body = rows.map((r) => {
    if (r.medianMs === null) {
      return [r.label, r.note ?? 'not measured', '', '', '', '', '', String(r.runs)];
    }
    if (r.medianMs === 0) {
      // A baseline row (the idle child): only its memory means anything.
      return [r.label, '-', '-', '-', '-', '-', `${r.peakRssMb!.toFixed(0)} MB`, String(r.runs)];
    }
    const ratio = r.ratio === null ? (r.floor ? '' : '1.00x (floor)') : `${fmtRatio(r.ratio)} ${r.floor}`;
    return [
      r.label + (r.note ? ` (${r.note})` : ''),
      fmtMs(r.medianMs),
      fmtInt(r.docsPerSec ?? 0),
      (r.mbPerSec ?? 0).toFixed(1),
      ratio,
      r.cpuMs === null ? '' : fmtMs(r.cpuMs),
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
