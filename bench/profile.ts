/**
 * Hot spots of a V8 CPU profile (`node --cpu-prof`): self and inclusive time per function and
 * self time per file, as text. Used by `npm run bench -- --profile <contender>`; also runnable
 * alone: `tsx bench/profile.ts <file.cpuprofile>... [--top N]`.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { markdownTable } from './report.js';

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number; children?: number[] }[];
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

export interface HotSpot {
  key: string;
  selfPercent: number;
  totalPercent: number;
}

/** `file:///work/main/dist/core/commit.js` -> `dist/core/commit.js`; node internals keep their names. */
function shortUrl(url: string, root: string): string {
  if (!url) return '(native)';
  let u = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (u.startsWith(root + '/')) u = u.slice(root.length + 1);
  return u.replace(/^.*node_modules\//, 'node_modules/');
}

/** Self and inclusive percentages of sampled time per function (`file:function:line`) and per file. */
export function hotSpots(profile: CpuProfile, root: string): { functions: HotSpot[]; files: HotSpot[] } {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const fnKey = (id: number) => {
    const f = byId.get(id)!.callFrame;
    return `${shortUrl(f.url, root)}:${f.functionName || '(anonymous)'}:${f.lineNumber + 1}`;
  };
  const fileKey = (id: number) => shortUrl(byId.get(id)!.callFrame.url, root);

  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? samples.map(() => 1);
  const selfFn = new Map<string, number>();
  const totalFn = new Map<string, number>();
  const selfFile = new Map<string, number>();
  const totalFile = new Map<string, number>();
  let total = 0;
  const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
  for (let i = 0; i < samples.length; i++) {
    // A sample's time is the delta to the next one; the last gets the mean.
    const w = Math.max(0, deltas[i + 1] ?? 0);
    total += w;
    const leaf = samples[i]!;
    add(selfFn, fnKey(leaf), w);
    add(selfFile, fileKey(leaf), w);
    const seenFn = new Set<string>();
    const seenFile = new Set<string>();
    for (let id: number | undefined = leaf; id !== undefined; id = parent.get(id)) {
      const k = fnKey(id);
      if (!seenFn.has(k)) {
        seenFn.add(k);
        add(totalFn, k, w);
      }
      const f = fileKey(id);
      if (!seenFile.has(f)) {
        seenFile.add(f);
        add(totalFile, f, w);
      }
    }
  }
  const pct = (v: number) => (total > 0 ? (v / total) * 100 : 0);
  const list = (self: Map<string, number>, incl: Map<string, number>) =>
    [...self.entries()]
      .map(([key, v]) => ({ key, selfPercent: pct(v), totalPercent: pct(incl.get(key) ?? v) }))
      .sort((a, b) => b.selfPercent - a.selfPercent);
  return { functions: list(selfFn, totalFn), files: list(selfFile, totalFile) };
}

/** Text report: the top functions by self time and the top files by self time. */
export function summarizeProfile(profile: CpuProfile, root: string, top = 25): string {
  const { functions, files } = hotSpots(profile, root);
  const seconds = (profile.endTime - profile.startTime) / 1e6;
  const rows = (list: HotSpot[]) => list.slice(0, top).map((h) => [h.selfPercent.toFixed(1), h.totalPercent.toFixed(1), h.key]);
  return [
    `profiled ${seconds.toFixed(2)} s`,
    markdownTable(['self %', 'incl %', 'function'], rows(functions)),
    '',
    markdownTable(['self %', 'incl %', 'file'], rows(files).slice(0, 15)),
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // Several files are summarised one after the other; the row count is an option, so a second
  // file is never mistaken for it.
  const args = process.argv.slice(2);
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args[topAt + 1]) : 25;
  const files = args.filter((_, i) => topAt < 0 || (i !== topAt && i !== topAt + 1));
  if (!files.length || !Number.isInteger(top) || top <= 0) {
    console.error('usage: tsx bench/profile.ts <file.cpuprofile>... [--top N]');
    process.exit(2);
  }
  for (const file of files) {
    const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
    console.log(`${files.length > 1 ? `## ${file}\n` : ''}${summarizeProfile(profile, process.cwd(), top)}${files.length > 1 ? '\n' : ''}`);
  }
}
