/** Progress events core operations report; the CLI turns them into a progress display. */
export interface Progress {
  phase: 'connect' | 'list' | 'read' | 'write' | 'verify' | 'commit' | 'backup' | 'restore' | 'diff' | 'count' | 'send' | 'receive' | 'pack';
  collection?: string;
  /** The remote being pushed to or fetched from (count, send, receive). */
  remote?: string;
  done: number;
  total?: number;
}
export type ProgressCallback = (p: Progress) => void;

/** Identity recorded on commits and tags. */
export interface Identity {
  name: string;
  email: string;
}
