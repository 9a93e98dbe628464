/** What the parent passes to a contender running in its own child process. */
export interface ContenderParams {
  /** MongoDB URI of the bench server (no database in the path). */
  uri: string;
  /** Source database (the loaded shop). */
  db: string;
  /** Target database for writing contenders (empty when the contender starts). */
  target: string;
  /** Snapshot repository (dbsnap contenders). */
  repo: string;
  /** Scratch directory the contender may write into (created empty by the parent). */
  dir: string;
  /** Shop size, for contenders that generate the documents themselves. */
  docs: number;
  seed: number;
}

/** What a contender returns; the child adds peak RSS. */
export interface ContenderOutcome {
  /** Milliseconds of the measured work only (setup like `git init` is excluded). */
  ms: number;
  /** CPU milliseconds (user + system) of this process over the measured work; the child fills it in when absent. */
  cpuMs?: number;
  info?: Record<string, unknown>;
}

/** CPU time of this process so far, in milliseconds. */
export function cpuNow(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export type Contender = (p: ContenderParams) => Promise<ContenderOutcome>;
