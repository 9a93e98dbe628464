/**
 * verify's check of the declared relations inside a snapshot: references that find no target,
 * skipping relations whose collections failed the integrity check.
 */
import type { Document } from 'bson';
import type { CollectionEntry, Relation } from '../canonical/format.js';
import { findDanglingReferences, parseRelationEnd } from './references.js';
import { snapshotSide } from './sides.js';
import { withParts, type SnapshotRef } from './snapshot.js';
import type { VerifyOptions, VerifyRelation } from './verify-report.js';

async function* snapshotDocuments(snap: SnapshotRef, entry: CollectionEntry): AsyncGenerator<Document> {
  for (const p of snapshotSide(await withParts(snap, entry.name), entry).parts) yield* await p.load();
}

export async function checkRelations(
  snap: SnapshotRef,
  entries: Map<string, CollectionEntry>,
  corrupt: Set<string>,
  relations: Relation[],
  opts: VerifyOptions,
): Promise<VerifyRelation[]> {
  const names = [...entries.keys()];
  const out: (VerifyRelation | null)[] = [];
  const checkable: Relation[] = [];
  for (const relation of relations) {
    const bad = [parseRelationEnd(relation.from, names).collection, parseRelationEnd(relation.to, names).collection].filter((c) => corrupt.has(c));
    if (bad.length) {
      out.push({ relation, status: 'skipped', targetMissing: false, references: 0, dangling: 0, documents: 0, examples: [], reason: `${bad.join(' and ')} failed verification` });
    } else {
      out.push(null);
      checkable.push(relation);
    }
  }
  const checked = await findDanglingReferences(
    checkable,
    (name) => {
      const entry = entries.get(name);
      return entry ? snapshotDocuments(snap, entry) : null;
    },
    { collections: names, examples: opts.examples, signal: opts.signal },
  );
  let k = 0;
  return out.map((r) => {
    if (r) return r;
    const c = checked[k++]!;
    return c.status === 'skipped' ? { ...c, reason: `${parseRelationEnd(c.relation.from, names).collection} is not in the snapshot` } : c;
  });
}

