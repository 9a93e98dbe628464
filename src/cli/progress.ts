/**
 * The progress display: a bar per collection on stderr whenever stderr is a terminal (even with
 * stdout redirected, as git does), nothing in a pipe or with --quiet/--json. Ctrl-C stops it at
 * once: no redraw after the interrupt.
 * It draws through the injected CliIO's stderr, like every other output of the CLI.
 */
import cliProgress from 'cli-progress';
import type { Progress } from '../core/progress.js';
import type { CliIO } from './io.js';
import { printable } from './printable.js';

export interface ProgressDisplay {
  onProgress: (p: Progress) => void;
  stop(): void;
}

export function progressDisplay(io: CliIO, enabled: boolean): ProgressDisplay {
  if (!enabled || !(io.stderrIsTTY ?? io.isTTY)) return { onProgress: () => {}, stop: () => {} };
  const multi = new cliProgress.MultiBar(
    {
      format: ' {phase} {collection} [{bar}] {value}/{total}',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      stream: terminalStream(io),
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  const bars = new Map<string, cliProgress.SingleBar>();
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    multi.stop();
    io.signal?.removeEventListener('abort', stop);
  };
  io.signal?.addEventListener('abort', stop);
  return {
    onProgress: (p) => {
      if (stopped || !p.collection || p.total === undefined) return;
      const key = `${p.phase}:${p.collection}`;
      let bar = bars.get(key);
      const payload = { phase: p.phase.padEnd(7), collection: printable(p.collection, { oneLine: true }).padEnd(16) };
      if (!bar) {
        bar = multi.create(Math.max(p.total, 1), p.done, payload);
        bars.set(key, bar);
      } else {
        bar.setTotal(Math.max(p.total, 1));
        bar.update(p.done, payload);
      }
    },
    stop,
  };
}

/**
 * Runs `call` with a progress display (when `enabled` and on a terminal) and stops the display
 * however the call ends. `progress` is handed over for callers that map progress or stop early.
 */
export async function withProgress<T>(io: CliIO, enabled: boolean, call: (progress: ProgressDisplay) => Promise<T>): Promise<T> {
  const progress = progressDisplay(io, enabled);
  try {
    return await call(progress);
  } finally {
    progress.stop();
  }
}

/** The injected stderr as the terminal stream cli-progress draws on (it only writes, and asks for the width). */
function terminalStream(io: CliIO): NodeJS.WritableStream {
  const stream = {
    isTTY: true,
    columns: io.columns,
    write: (chunk: string | Uint8Array, ...rest: unknown[]) => {
      (io.terminal ?? io.stderr)(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      done?.();
      return true;
    },
  };
  return stream as unknown as NodeJS.WritableStream;
}
