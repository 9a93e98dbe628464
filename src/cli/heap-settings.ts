/**
 * The V8 heap setting the dbsnap executable runs with (bin/dbsnap.js -> main.ts).
 *
 * A commit, verify or restore keeps little alive (about 30-45 MB of heap at a million documents)
 * but makes a lot of short-lived garbage. V8's default lets the old generation grow to about
 * four times what survived the last full collection before collecting again, so the heap, not the
 * data, set the peak memory: 270-320 MB for a million-document commit. Growing by at most 2x
 * (`--heap-growing-percent=100`) keeps the same commit at 225-235 MB with no measurable CPU cost
 * (three paired runs each: client CPU median 34.7 s default, 32.0 s with the setting; the
 * measurements are in docs/BENCHMARKS.md, "Memory").
 *
 * Only the executable applies it: a program that embeds the library keeps its own heap settings.
 * A `--heap-growing-percent` the user passes on node's command line wins (node refuses V8 flags
 * like this one in NODE_OPTIONS: `node --heap-growing-percent=50 $(which dbsnap) ...`).
 */
import v8 from 'node:v8';

/** The old generation grows to at most (1 + this / 100) times what survived the last full GC. */
export const HEAP_GROWING_PERCENT = 100;

/** The V8 flags dbsnap's executable sets, given node's own arguments; none when the user chose. */
export function heapFlags(execArgv: readonly string[]): string[] {
  if (execArgv.some((a) => /^--heap[-_]growing[-_]percent(=|$)/.test(a))) return [];
  return [`--heap-growing-percent=${HEAP_GROWING_PERCENT}`];
}

/** Applies {@link heapFlags} to this process; returns the flags applied. */
export function applyHeapSettings(execArgv: readonly string[] = process.execArgv): string[] {
  const flags = heapFlags(execArgv);
  for (const flag of flags) v8.setFlagsFromString(flag);
  return flags;
}
