/** Progress events core operations report; the CLI turns them into a progress display. */
export interface Progress {
  phase: 'connect' | 'list' | 'read' | 'write' | 'verify' | 'commit' | 'backup' | 'restore' | 'diff';
  collection?: string;
  done: number;
  total?: number;
}
export type ProgressCallback = (p: Progress) => void;

/** Identity recorded on commits and tags. */
export interface Identity {
  name: string;
  email: string;
}
