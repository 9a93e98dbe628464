/** The progress display: a bar per collection on a terminal, nothing in a pipe or with --quiet/--json. */
import cliProgress from 'cli-progress';
import type { Progress } from '../core/progress.js';
import type { CliIO } from './io.js';

export interface ProgressDisplay {
  onProgress: (p: Progress) => void;
  stop(): void;
}

export function progressDisplay(io: CliIO, enabled: boolean): ProgressDisplay {
  if (!enabled || !io.isTTY) return { onProgress: () => {}, stop: () => {} };
  const multi = new cliProgress.MultiBar(
    {
      format: ' {phase} {collection} [{bar}] {value}/{total}',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      stream: process.stderr,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, cliProgress.SingleBar>();
  return {
    onProgress: (p) => {
      if (!p.collection || p.total === undefined) return;
      const key = `${p.phase}:${p.collection}`;
      let bar = bars.get(key);
      const payload = { phase: p.phase.padEnd(7), collection: p.collection.padEnd(16) };
      if (!bar) {
        bar = multi.create(Math.max(p.total, 1), p.done, payload);
        bars.set(key, bar);
      } else {
        bar.setTotal(Math.max(p.total, 1));
        bar.update(p.done, payload);
      }
    },
    stop: () => multi.stop(),
  };
}
