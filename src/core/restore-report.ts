/**
 * What `restore` takes and returns: its options, and the result that says what was restored,
 * how each collection was checked, and which references a partial restore left dangling.
 */
import type { KeyMaterial } from '../crypto/index.js';
import type { CollectionType } from '../canonical/format.js';
import type { Identity, ProgressCallback } from './progress.js';
import type { RestoreMode, RestorePlan } from './restore-plan.js';

export type { RestorePlan, RestoreMode } from './restore-plan.js';

export interface RestoreOptions {
  /** Snapshot repository directory. */
  repo: string;
  /** Any commit, tag or branch (`v1`, `HEAD~2`, `refs/dbsnap/safety/...`). */
  ref: string;
  /** MongoDB connection string of the target (`mongodb+srv://` works the same). */
  uri: string;
  /** Target database; defaults to the one in the URI. */
  db?: string;
  /** Restore only these collections (views included); the rest of the target stays as it is. */
  collections?: string[];
  /** replace (default): swap whole collections in; merge: upsert documents by `_id`. */
  mode?: RestoreMode;
  /** Plan only: validate the snapshot, read the target, change nothing. */
  dryRun?: boolean;
  /** Commit what will be replaced to a safety ref first (default true). */
  backup?: boolean;
  /**
   * Verify by reading every loaded document back and re-encoding it, even where the server's
   * collection hash (`dbHash`) would do (slower; for servers you do not trust to hash).
   */
  readBack?: boolean;
  /**
   * May the loaded temporary collections be checked with the server's `dbHash`? It takes a
   * shared lock on the target database that blocks writes while it runs. true = yes, false =
   * never (read back instead), absent = the snapshot's dbsnap.json `serverHashes`, else only on
   * a server on this machine.
   */
  useServerHashes?: boolean;
  /**
   * Send documents as the BSON read straight from the snapshot's canonical text (default true,
   * where the driver can send ready BSON); false has the driver serialise decoded documents.
   * Both write the same bytes; this is for comparing them, or for a proxy that refuses OP_MSG
   * document sequences.
   */
  rawInsert?: boolean;
  /** Restore into a host listed in `protectedHosts`. */
  force?: boolean;
  /** Key material for encrypted fields (DBSNAP_KEY or a key file's contents). */
  key?: KeyMaterial;
  /** Restore sensitive fields as pseudonyms instead of their real values. */
  mask?: boolean;
  /** Asked before anything existing is replaced; false cancels (ECONFIRM) with nothing changed. */
  confirm?: (plan: RestorePlan) => Promise<boolean>;
  author?: Identity;
  now?: Date;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

export interface RestoredCollection {
  name: string;
  type: CollectionType;
  action: 'create' | 'replace' | 'merge';
  documents: number;
  /**
   * How the result was checked: the server's hash of the loaded collection against the bytes sent
   * (server-hash), the collection read back and re-encoded against the snapshot's hash (hash),
   * document bytes (merge), count only (masked), view definition.
   */
  check: 'server-hash' | 'hash' | 'documents' | 'count' | 'view';
  /** merge: documents of the target that the snapshot does not have, left as they were. */
  kept?: number;
}

export interface DanglingRelation {
  /** `orders.userId -> users._id` */
  relation: string;
  from: string;
  to: string;
  /** Restored documents that reference a value the target does not have. */
  dangling: number;
  /** A few `_id`s of such documents, in `_id` order. */
  examples: unknown[];
}

export interface RestoreResult {
  ref: string;
  commit: string;
  database: string;
  /** The target, credentials removed. */
  target: string;
  mode: RestoreMode;
  dryRun: boolean;
  plan: RestorePlan;
  /** The safety snapshot of what was replaced (absent with backup: false or nothing replaced). */
  safetySnapshot?: { ref: string; commit: string; collections: string[] };
  /** Temporary collections a killed restore had left behind, dropped before starting. */
  cleanedUp: string[];
  restored: RestoredCollection[];
  verified: { collections: number; documents: number };
  /** `verified: N collections, M documents identical to <ref>` (absent for a dry run). */
  summary?: string;
  /** Partial restores: references from restored collections to ones not restored that find nothing. */
  dangling: DanglingRelation[];
  warnings: string[];
  durationMs: number;
}

