import { describe, expect, it } from 'vitest';
import { evaluateTargets, formatTable, markdownTable, median, summarize, type ContenderResult } from '../../bench/report.js';
import { hotSpots, type CpuProfile } from '../../bench/profile.js';

const MB = 1024 * 1024;

describe('median', () => {
  it('takes the middle value, or the mean of the two middle ones', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(() => median([])).toThrow(RangeError);
  });
});

describe('summarize', () => {
  const results: ContenderResult[] = [
    { id: 'floor-read', label: 'floor', samples: [{ ms: 2000, maxRssBytes: 100 * MB }, { ms: 1000, maxRssBytes: 120 * MB }, { ms: 3000, maxRssBytes: 90 * MB }] },
    { id: 'commit', label: 'commit', floor: 'floor-read', samples: [{ ms: 1000, cpuMs: 800, maxRssBytes: 200 * MB }] },
    { id: 'restore', label: 'restore', floor: 'floor-write', samples: [], note: 'n/a (restore not available)' },
  ];
  const rows = summarize(results, 10_000, 5 * MB);

  it('computes median time, rates over the median, ratio to the floor and the worst RSS', () => {
    expect(rows[0]).toMatchObject({ medianMs: 2000, docsPerSec: 5000, mbPerSec: 2.5, ratio: null, peakRssMb: 120, runs: 3 });
    expect(rows[1]).toMatchObject({ medianMs: 1000, cpuMs: 800, docsPerSec: 10_000, ratio: 0.5, peakRssMb: 200 });
  });

  it('keeps a note and no figures for a contender that did not run', () => {
    expect(rows[2]).toMatchObject({ medianMs: null, ratio: null, peakRssMb: null, note: 'n/a (restore not available)' });
  });

  it('renders an aligned Markdown table', () => {
    const lines = formatTable(rows).split('\n');
    expect(lines).toHaveLength(5);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(lines[2]).toContain('2.00 s');
    expect(lines[3]).toContain('0.50x floor-read');
    expect(lines[4]).toContain('n/a (restore not available)');
  });

  it('marks targets met, missed, or not measured', () => {
    const targets = evaluateTargets(rows, { growthPercent: 2.5, documents: 10_000 });
    expect(targets.find((t) => t.name === 'commit (empty repository) vs floor-read')).toMatchObject({ limit: '<= 0.5x', actual: '0.50x', met: true });
    expect(targets.find((t) => t.name.startsWith('repository growth'))).toMatchObject({ actual: '2.50%', met: true });
    expect(targets.find((t) => t.name.startsWith('restore'))?.met).toBeNull();
    expect(targets.find((t) => t.name === 'peak RSS of commit')).toMatchObject({ limit: '<= 250 MB', actual: '200 MB', met: true });
    // 800 ms of client CPU over 10,000 documents: 80 us per document.
    expect(rows[1]!.cpuUsPerDoc).toBe(80);
    expect(targets.find((t) => t.name === 'client CPU of commit per document')).toMatchObject({ limit: '<= 15 us', actual: '80.0 us', met: false });
    // Rows of commands that were not run get no RSS target; the floors never do.
    expect(targets.some((t) => t.name === 'peak RSS of verify' || t.name === 'peak RSS of floor-read')).toBe(false);
  });
});

describe('issue 17 targets', () => {
  const row = (id: string, ms: number, rssMb: number, extra: Partial<ContenderResult> = {}): ContenderResult => ({
    id,
    label: id,
    samples: [{ ms, cpuMs: ms / 2, maxRssBytes: rssMb * MB, serverCpuMs: ms / 4 }],
    ...extra,
  });
  const rows = summarize(
    [
      row('floor-dump', 1000, 150),
      row('floor-server', 800, 150),
      row('floor-read', 4000, 300),
      row('commit', 2400, 240),
      row('commit-again', 150, 140),
      row('commit-change', 1300, 260),
      row('diff', 80, 150),
      row('verify', 700, 150),
      row('seed', 3000, 900),
      row('floor-write', 1000, 150),
      row('restore', 1400, 200),
      row('many-commit', 500, 180, { documents: 30_000, bsonBytes: 10 * MB }),
    ],
    100_000,
    32 * MB,
  );
  const targets = evaluateTargets(rows, { growthPercent: null, documents: 100_000 });
  const t = (name: string) => targets.find((x) => x.name === name);

  it('compares commit with the dump floor and floor-read in the same run', () => {
    expect(t('commit (empty repository) vs floor-dump')).toMatchObject({ limit: '<= 2.5x', actual: '2.40x', met: true });
    expect(t('commit (empty repository) vs floor-read')).toMatchObject({ actual: '0.60x', met: false });
    expect(t('commit ahead of seed (time and peak RSS)')).toMatchObject({ actual: '0.80x time, 0.27x RSS', met: true });
  });

  it('holds the incremental, restore and verify rows to their limits', () => {
    expect(t('commit after 0.1% change vs floor-read')).toMatchObject({ limit: '<= 0.3x', actual: '0.33x', met: false });
    expect(t('commit again (nothing changed, server hashes) vs floor-read')).toMatchObject({ limit: '<= 0.05x', actual: '0.037x', met: true });
    expect(t('diff (0.1% apart) vs commit')).toMatchObject({ limit: '<= 0.03x', actual: '0.033x', met: false });
    expect(t('restore (verified) vs floor-write')).toMatchObject({ limit: '<= 1.3x', actual: '1.40x', met: false });
    expect(t('verify (local) vs commit')).toMatchObject({ limit: '<= 0.3x', actual: '0.29x', met: true });
  });

  it('gives every dbsnap command a peak RSS target: 250 MB up to 1M documents, 300 MB beyond', () => {
    expect(t('peak RSS of commit-change')).toMatchObject({ limit: '<= 250 MB', actual: '260 MB', met: false });
    expect(t('peak RSS of verify')).toMatchObject({ actual: '150 MB', met: true });
    const big = evaluateTargets(rows, { growthPercent: null, documents: 5_000_000 });
    expect(big.find((x) => x.name === 'peak RSS of commit-change')).toMatchObject({ limit: '<= 300 MB', met: true });
  });

  it('reports server CPU and per-document CPU over the row\'s own database', () => {
    const many = rows.find((r) => r.id === 'many-commit')!;
    expect(many).toMatchObject({ documents: 30_000, cpuMs: 250, serverCpuMs: 125 });
    expect(many.cpuUsPerDoc).toBeCloseTo(8.333, 3);
    expect(many.docsPerSec).toBe(60_000);
    expect(many.mbPerSec).toBe(20);
    const table = formatTable(rows);
    expect(table.split('\n')[0]).toContain('| CPU us/doc | server CPU |');
    expect(table).toMatch(/\| many-commit +\| 500 ms +\| 60,000 +\| 20\.0 +\| 1\.00x \(floor\) +\| 250 ms +\| 8\.3 +\| 125 ms +\| 180 MB +\| 1 +\|/);
  });
});

describe('packed targets', () => {
  it('compares packed rows with their loose counterparts on CPU time, and growth after gc with 0.5%', () => {
    const rows = summarize(
      [
        { id: 'diff', label: 'diff', samples: [{ ms: 100, cpuMs: 50, maxRssBytes: MB }] },
        { id: 'diff-packed', label: 'diff, packed', floor: 'diff', samples: [{ ms: 900, cpuMs: 55, maxRssBytes: MB }] },
        { id: 'verify', label: 'verify', samples: [{ ms: 100, cpuMs: 100, maxRssBytes: MB }] },
        { id: 'verify-packed', label: 'verify, packed', floor: 'verify', samples: [{ ms: 100, cpuMs: 130, maxRssBytes: MB }] },
      ],
      1000,
      MB,
    );
    const targets = evaluateTargets(rows, { growthPercent: 7, packedGrowthPercent: 0.25, documents: 1000 });
    // Wall time 9x (a noisy machine), CPU 1.1x: the CPU ratio decides.
    expect(targets.find((t) => t.name === 'diff, packed vs loose')).toMatchObject({ limit: '<= 1.2x CPU', actual: '1.10x', met: true });
    expect(targets.find((t) => t.name === 'verify, packed vs loose')).toMatchObject({ actual: '1.30x', met: false });
    expect(targets.find((t) => t.name === 'restore, packed vs loose')?.met).toBeNull();
    expect(targets.find((t) => t.name === 'repository growth after 0.1% change, after gc')).toMatchObject({ actual: '0.250%', met: true });
    expect(evaluateTargets(rows, { growthPercent: 7, documents: 1000 }).find((t) => t.name.endsWith('after gc'))?.met).toBeNull();
  });
});

describe('markdownTable', () => {
  it('escapes pipes in cells', () => {
    expect(markdownTable(['a'], [['x|y']])).toBe('| a    |\n| ---- |\n| x\\|y |');
  });
});

describe('hotSpots', () => {
  it('splits sampled time into self and inclusive shares per function and file', () => {
    const profile: CpuProfile = {
      startTime: 0,
      endTime: 4000,
      nodes: [
        { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2] },
        { id: 2, callFrame: { functionName: 'outer', url: 'file:///r/dist/a.js', lineNumber: 0 }, children: [3] },
        { id: 3, callFrame: { functionName: 'inner', url: 'file:///r/dist/b.js', lineNumber: 9 } },
      ],
      samples: [2, 3, 3, 3, 2],
      timeDeltas: [0, 100, 100, 100, 100],
    };
    const { functions, files } = hotSpots(profile, '/r');
    // Weights: each sample gets the next delta (the last gets 0): 2->100, 3->100, 3->100, 3->100, 2->0.
    expect(functions[0]).toEqual({ key: 'dist/b.js:inner:10', selfPercent: 75, totalPercent: 75 });
    expect(functions.find((f) => f.key === 'dist/a.js:outer:1')).toEqual({ key: 'dist/a.js:outer:1', selfPercent: 25, totalPercent: 100 });
    expect(files.map((f) => f.key)).toEqual(['dist/b.js', 'dist/a.js']);
  });
});

describe('docHistoryTargets', () => {
  it('judges parts per version and the CPU ratio to one commit from the measured figures', async () => {
    const { docHistoryTargets } = await import('../../bench/report.js');
    const ok = docHistoryTargets({ partsPerVersion: 2, ratioToCommit: 0.04, historyCpuMs: 40, commitCpuMs: 1000, commits: 100 });
    expect(ok.map((t) => t.met)).toEqual([true, true]);
    expect(ok[1]!.actual).toBe('0.040x (40 ms vs 1000 ms)');
    const slow = docHistoryTargets({ partsPerVersion: 3.5, ratioToCommit: 0.1, historyCpuMs: 100, commitCpuMs: 1000, commits: 100 });
    expect(slow.map((t) => t.met)).toEqual([false, false]);
    const failed = docHistoryTargets('error: doc-history exited with 1');
    expect(failed.map((t) => t.met)).toEqual([null, null]);
    expect(docHistoryTargets(null)).toEqual([]);
  });
});
