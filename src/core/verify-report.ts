/**
 * What `verify` reports: its options, the per-collection rows and relation results, and the
 * problems (the integrity checker's Problem) that make a snapshot fail.
 */
import type { KeyMaterial } from '../crypto/index.js';
import type { CollectionEntry } from '../canonical/format.js';
import type { ProgressCallback } from './progress.js';
import type { DanglingReport } from './references.js';
import type { Problem } from './snapshot-integrity.js';

export type { Problem, ProblemKind } from './snapshot-integrity.js';

export interface VerifyOptions {
  /** Snapshot repository directory. */
  repo: string;
  /** Commit, tag or branch to verify (default HEAD). */
  ref?: string;
  /** A database to compare with the snapshot; without it only the snapshot is checked. */
  uri?: string;
  /** Database name (default: the one in the URI). */
  db?: string;
  /** Key for sensitive fields, needed to compare collections that have them with a database. */
  key?: KeyMaterial;
  /** Example `_id`s per dangling relation (default 5). */
  examples?: number;
  /** Warn when the repository is readable by others (default true). */
  checkPermissions?: boolean;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

export interface VerifyCollection {
  name: string;
  type: CollectionEntry['type'];
  /** Documents and parts the snapshot lists (0 for a collection only in the database). */
  documents: number;
  parts: number;
  /** `ok`, `corrupt` (a problem names why), or `absent` (only in the database). */
  snapshot: 'ok' | 'corrupt' | 'absent';
  /**
   * Against the database, when one was given: `identical`; `differs`; `missing` (in the snapshot,
   * not the database); `extra` (in the database, not the snapshot); `skipped` (snapshot corrupt).
   */
  live?: 'identical' | 'differs' | 'missing' | 'extra' | 'skipped';
  /** Documents in the database and not the snapshot (added), the other way (removed), or different (changed). */
  counts?: { added: number; removed: number; changed: number };
  /** Index names that differ (added/removed = in the database only / in the snapshot only). */
  indexes?: { added: string[]; removed: string[]; changed: string[] };
  /** Paths of collection options that differ. */
  options?: string[];
}

export interface VerifyRelation extends DanglingReport {
  /** Why a relation was not checked (status `skipped`). */
  reason?: string;
}

export interface VerifyReport {
  /** The ref as given, and the commit it names. */
  ref: string;
  commit: string;
  /** True when there is no problem (warnings do not count). */
  ok: boolean;
  /** Database compared with, when one was given. */
  database?: string;
  documents: number;
  problems: Problem[];
  collections: VerifyCollection[];
  relations: VerifyRelation[];
  warnings: string[];
}
