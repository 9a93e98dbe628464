/**
 * What a restore will do, as data: computed from the snapshot's collection entries and the
 * target's current collections, with no I/O, so `--dry-run` and the confirmation prompt show
 * exactly what the restore then carries out.
 */
import type { CollectionEntry, CollectionType } from '../canonical/format.js';

export type RestoreMode = 'replace' | 'merge';

/** A collection as the target database has it now. */
export interface TargetCollection {
  name: string;
  type: CollectionType;
  documents: number;
}

export interface PlannedCollection {
  name: string;
  type: 'collection' | 'timeseries';
  /**
   * create: absent from the target; replace: the target's copy is swapped out; merge: documents
   * are upserted by `_id` into the target's copy (created when absent).
   */
  action: 'create' | 'replace' | 'merge';
  /** Documents in the snapshot. */
  documents: number;
  /** Documents the target holds now (absent: the collection does not exist). */
  existingDocuments?: number;
  indexes: number;
}

export interface PlannedView {
  name: string;
  viewOn: string;
  action: 'create' | 'replace';
}

export interface UnsupportedItem {
  collection: string;
  reason: string;
}

export interface RestorePlan {
  /** The ref as given, and the commit it resolved to. */
  ref: string;
  commit: string;
  database: string;
  mode: RestoreMode;
  collections: PlannedCollection[];
  views: PlannedView[];
  /** Target collections and views whose current contents the restore drops (replaced). */
  dropped: { name: string; type: TargetCollection['type']; documents: number }[];
  /** Existing target collections the restore changes; the safety snapshot holds these. */
  affected: string[];
  /** Target collections not in the selection: left exactly as they are. */
  untouched: string[];
  unsupported: UnsupportedItem[];
  warnings: string[];
  /** Documents the restore writes. */
  documents: number;
}

export interface PlanInput {
  ref: string;
  commit: string;
  database: string;
  mode: RestoreMode;
  /** Selected snapshot collections (views included). */
  entries: CollectionEntry[];
  target: TargetCollection[];
  /** Server version, e.g. `7.0.12`. */
  serverVersion: string;
}

/** Features that need a minimum server version to be recreated. */
const MIN_VERSION: { option: string; version: [number, number]; what: string }[] = [
  { option: 'timeseries', version: [5, 0], what: 'a time-series collection' },
  { option: 'clusteredIndex', version: [5, 3], what: 'a clustered collection' },
  { option: 'changeStreamPreAndPostImages', version: [6, 0], what: 'change stream pre- and post-images' },
];

/**
 * Plans a restore.
 *
 * @example
 * const plan = planRestore({ ref: 'v1', commit, database: 'shop', mode: 'replace', entries, target, serverVersion: '7.0.0' });
 * plan.dropped; // [{ name: 'users', type: 'collection', documents: 1200 }]
 */
export function planRestore(input: PlanInput): RestorePlan {
  const target = new Map(input.target.map((t) => [t.name, t]));
  const selected = new Set(input.entries.map((e) => e.name));
  const version = parseVersion(input.serverVersion);
  const plan: RestorePlan = {
    ref: input.ref,
    commit: input.commit,
    database: input.database,
    mode: input.mode,
    collections: [],
    views: [],
    dropped: [],
    affected: [],
    untouched: input.target.map((t) => t.name).filter((n) => !selected.has(n)).sort(),
    unsupported: [],
    warnings: [],
    documents: 0,
  };
  for (const entry of [...input.entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    const existing = target.get(entry.name);
    for (const need of MIN_VERSION) {
      if (entry.options[need.option] !== undefined && version && compareVersion(version, need.version) < 0) {
        plan.unsupported.push({
          collection: entry.name,
          reason: `it is ${need.what}, which needs MongoDB ${need.version.join('.')} or newer (the target runs ${input.serverVersion})`,
        });
      }
    }
    if (entry.type === 'view') {
      const viewOn = String(entry.options.viewOn ?? '');
      const action = existing ? 'replace' : 'create';
      if (existing && input.mode === 'merge') {
        // merge never drops anything: an existing view stays as it is.
        plan.warnings.push(`view ${entry.name} exists in the target and is left as it is (merge mode)`);
        continue;
      }
      plan.views.push({ name: entry.name, viewOn, action });
      if (!selected.has(viewOn) && !target.has(viewOn)) {
        plan.warnings.push(`view ${entry.name} is on "${viewOn}", which neither the snapshot selection nor the target has`);
      }
      if (existing) {
        plan.dropped.push({ name: existing.name, type: existing.type, documents: existing.documents });
        plan.affected.push(existing.name);
      }
      continue;
    }
    const action = input.mode === 'merge' ? 'merge' : existing ? 'replace' : 'create';
    if (entry.type === 'timeseries' && existing && action === 'replace') {
      plan.unsupported.push({
        collection: entry.name,
        reason:
          'it is a time-series collection that exists in the target; MongoDB cannot rename one into place, ' +
          'so drop it first or restore into another database (--db)',
      });
    }
    if (existing && existing.type !== entry.type && action === 'merge') {
      plan.unsupported.push({
        collection: entry.name,
        reason: `the snapshot has a ${entry.type} but the target has a ${existing.type} of that name; merge cannot change its kind`,
      });
    }
    plan.collections.push({
      name: entry.name,
      type: entry.type,
      action,
      documents: entry.documents,
      ...(existing ? { existingDocuments: existing.documents } : {}),
      indexes: entry.indexes.filter((i) => i.name !== '_id_').length,
    });
    plan.documents += entry.documents;
    if (existing) {
      plan.affected.push(existing.name);
      if (action === 'replace') plan.dropped.push({ name: existing.name, type: existing.type, documents: existing.documents });
    }
  }
  plan.affected.sort();
  return plan;
}

/** True when the plan changes or drops something the target already has. */
export function replacesExisting(plan: RestorePlan): boolean {
  return plan.affected.length > 0;
}

function parseVersion(v: string): [number, number] | null {
  const m = /^(\d+)\.(\d+)/.exec(v);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

function compareVersion(a: [number, number], b: [number, number]): number {
  return a[0] !== b[0] ? a[0] - b[0] : a[1] - b[1];
}
