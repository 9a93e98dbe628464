/** The `blame` operation: for each field of one document, the commit that last changed it (from documentHistory). */
import type { Document } from 'bson';
import { bsonEquals } from '../diff/index.js';
import { childPath } from '../diff/document-diff.js';
import { isDocument } from '../diff/bson-value.js';
import { isEncryptedValue } from '../crypto/index.js';
import type { CommitSummary } from './commit-summary.js';
import { documentHistory, type DocumentHistoryOptions } from './document-history.js';

export interface BlameOptions extends Omit<DocumentHistoryOptions, 'n'> {
  /** Nested paths (inside embedded documents) instead of top-level fields only. */
  deep?: boolean;
}

export interface BlameLine extends CommitSummary {
  path: string;
  value: unknown;
}

export interface BlameResult {
  collection: string;
  id: unknown;
  /** False when the document does not exist at the starting commit (blame needs a current version). */
  found: boolean;
  lines: BlameLine[];
}

/** Field paths of a document with their values: top-level, or down to the leaves with `deep`. */
function fieldPaths(doc: Document, deep: boolean, prefix = '', out: [string, unknown][] = []): [string, unknown][] {
  const entries = doc instanceof Map ? [...(doc as Map<string, unknown>)] : Object.entries(doc);
  for (const [k, v] of entries) {
    const p = childPath(prefix, k);
    if (deep && isDocument(v) && !isEncryptedValue(v) && Object.keys(v).length > 0) fieldPaths(v as Document, deep, p, out);
    else out.push([p, v]);
  }
  return out;
}

function valueAt(doc: Document | undefined, path: string, deep: boolean): { present: boolean; value?: unknown } {
  if (!doc) return { present: false };
  const found = fieldPaths(doc, deep).find(([p]) => p === path);
  return found ? { present: true, value: found[1] } : { present: false };
}

/**
 * For each field of the document as it is at `ref` (nested paths with `deep`), the commit that
 * last changed it.
 *
 * @example
 * for (const l of (await blame({ repo: 'backup-repo', collection: 'users', id: 7 })).lines) console.log(l.path, l.commit.slice(0, 7));
 */
export async function blame(opts: BlameOptions): Promise<BlameResult> {
  const history = await documentHistory({ repo: opts.repo, collection: opts.collection, id: opts.id, ref: opts.ref });
  const deep = opts.deep ?? false;
  const current = history.versions[0];
  if (!current || current.kind === 'deleted') return { collection: opts.collection, id: history.id, found: false, lines: [] };
  const lines: BlameLine[] = [];
  for (const [path, value] of fieldPaths(current.doc!, deep)) {
    // The oldest version in the unbroken run of versions holding this value, from the newest back.
    let owner = current;
    for (let i = 1; i < history.versions.length; i++) {
      const v = valueAt(history.versions[i]!.doc, path, deep);
      if (!v.present || !bsonEquals(v.value, value)) break;
      owner = history.versions[i]!;
    }
    lines.push({ path, value, commit: owner.commit, date: owner.date, author: owner.author, subject: owner.subject });
  }
  return { collection: opts.collection, id: history.id, found: true, lines };
}
