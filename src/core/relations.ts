/**
 * `relations`: the references between collections declared in dbsnap.json, and proposals for
 * new ones inferred from a snapshot's data.
 */
import type { Document } from 'bson';
import { collectionDir, type CollectionEntry, type Relation } from '../canonical/format.js';
import { SnapshotRepository } from '../store/index.js';
import { updateConfig } from './config.js';
import type { Identity, ProgressCallback } from './progress.js';
import { isSubDocument, referenceKey, valuesAtPath, valueText } from './references.js';
import { decodeMeta, loadPart, openSnapshot, readCollectionEntry, readConfigAt, readManifest, type SnapshotRef } from './snapshot.js';

export interface RelationsOptions {
  /** Snapshot repository directory. */
  repo: string;
  /** Snapshot to read (default HEAD). */
  ref?: string;
  /** Propose relations found in the data. */
  infer?: boolean;
  /** Documents sampled per collection for candidate fields (first ones in `_id` order; default 1000). */
  sampleSize?: number;
  /** Share of a field's values that must be found in the target (default 0.9). */
  minShare?: number;
  /** With `infer`: write the proposals not yet declared into dbsnap.json as a new commit on HEAD. */
  accept?: boolean;
  author?: Identity;
  now?: Date;
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

export interface RelationProposal {
  from: string;
  to: string;
  /** Share (0..1) of the sampled non-null values of `from` found among the values of `to`. */
  matched: number;
  /** Sampled non-null values of `from` (array elements count one each). */
  values: number;
  /** Distinct values among them. */
  distinct: number;
  /** A few sampled values, as canonical Extended JSON. */
  sample: string[];
  /** Already in dbsnap.json. */
  declared: boolean;
}

export interface RelationsResult {
  ref: string;
  commit: string;
  /** Relations in dbsnap.json at the snapshot. */
  declared: Relation[];
  /** With `infer`: candidates with `matched >= minShare`, best first. */
  proposals?: RelationProposal[];
  /** With `accept`: the commit that declared the new relations (absent when none were new). */
  accepted?: { commit: string; relations: Relation[] };
}

const DEFAULT_SAMPLE = 1000;
const DEFAULT_MIN_SHARE = 0.9;
const SAMPLES_SHOWN = 3;
/** A field with a single distinct value says nothing about a relation. */
const MIN_DISTINCT = 2;

/**
 * Lists the declared relations; with `infer`, proposes a relation `C.path -> T.field` wherever most
 * (`minShare`) of the sampled non-null values at `C.path` (arrays descended) are found among T's
 * `_id`s or the values of a single-field unique index of T. A field is never proposed as a
 * reference to itself. Target collections are streamed in full, but only values that occur in
 * the samples are kept, so memory follows the sample size.
 *
 * @example
 * const r = await relations({ repo: 'backup-repo', infer: true });
 * for (const p of r.proposals!) console.log(`${p.from} -> ${p.to} (${Math.round(p.matched * 100)}%)`);
 */
export async function relations(opts: RelationsOptions): Promise<RelationsResult> {
  const ref = opts.ref ?? 'HEAD';
  const repo = await SnapshotRepository.open(opts.repo);
  const snap = await openSnapshot(repo, ref);
  const config = await readConfigAt(snap);
  const result: RelationsResult = { ref, commit: snap.commit, declared: config.relations };
  if (!opts.infer) return result;

  const manifest = await readManifest(snap);
  const entries: CollectionEntry[] = [];
  for (const [name, m] of Object.entries(manifest.collections).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (m.type !== 'view') entries.push(await readCollectionEntry(snap, name));
  }
  const declared = new Set(config.relations.map((r) => `${r.from}\0${r.to}`));
  const proposals = (await inferRelations(snap, entries, opts)).map((p) => ({ ...p, declared: declared.has(`${p.from}\0${p.to}`) }));
  result.proposals = proposals;

  if (opts.accept) {
    const fresh = proposals.filter((p) => !p.declared).map((p) => ({ from: p.from, to: p.to }));
    if (fresh.length > 0) {
      const r = await updateConfig({
        repo: opts.repo,
        change: (cfg) => ({ ...cfg, relations: [...cfg.relations, ...fresh.filter((f) => !cfg.relations.some((x) => x.from === f.from && x.to === f.to))] }),
        message: `dbsnap relations: accept ${fresh.length}\n\n${fresh.map((f) => `${f.from} -> ${f.to}`).join('\n')}`,
        author: opts.author,
        now: opts.now,
      });
      if (r.changed) result.accepted = { commit: r.commit, relations: fresh };
    }
  }
  return result;
}

interface Candidate {
  collection: string;
  path: string;
  keys: string[];
  distinct: Set<string>;
  sample: string[];
}

async function* documentsOf(snap: SnapshotRef, entry: CollectionEntry): AsyncGenerator<Document> {
  const dir = collectionDir(entry.name);
  for (const p of entry.parts) {
    const file = `${dir}/${p.file}`;
    yield* await loadPart(snap, file, snap.files.get(file)!);
  }
}

function isScalarCandidate(v: unknown): boolean {
  if (v === null || v === undefined || typeof v === 'boolean') return false;
  const t = (v as { _bsontype?: string })._bsontype;
  return t !== 'MinKey' && t !== 'MaxKey';
}

/** Every leaf value of a document by its dotted path (array elements under the array's path); top-level `_id` left out. */
function leafValues(doc: Document, visit: (path: string, v: unknown) => void): void {
  const walk = (v: unknown, path: string): void => {
    if (Array.isArray(v)) {
      for (const e of v) walk(e, path);
    } else if (isSubDocument(v)) {
      const fields = v instanceof Map ? [...v] : Object.entries(v);
      for (const [k, x] of fields) walk(x, path ? `${path}.${k}` : k);
    } else if (isScalarCandidate(v)) {
      visit(path, v);
    }
  };
  const fields = doc instanceof Map ? [...(doc as Map<string, unknown>)] : Object.entries(doc);
  for (const [k, v] of fields) if (k !== '_id') walk(v, k);
}

async function inferRelations(
  snap: SnapshotRef,
  entries: CollectionEntry[],
  opts: RelationsOptions,
): Promise<Omit<RelationProposal, 'declared'>[]> {
  const sampleSize = opts.sampleSize ?? DEFAULT_SAMPLE;
  const minShare = opts.minShare ?? DEFAULT_MIN_SHARE;

  // 1. Sample candidate fields.
  const candidates: Candidate[] = [];
  const wanted = new Set<string>();
  for (const entry of entries) {
    const byPath = new Map<string, Candidate>();
    let n = 0;
    for await (const doc of documentsOf(snap, entry)) {
      if (n++ >= sampleSize) break;
      opts.signal?.throwIfAborted();
      leafValues(doc, (path, v) => {
        let c = byPath.get(path);
        if (!c) byPath.set(path, (c = { collection: entry.name, path, keys: [], distinct: new Set(), sample: [] }));
        const key = referenceKey(v);
        c.keys.push(key);
        if (!c.distinct.has(key)) {
          c.distinct.add(key);
          if (c.sample.length < SAMPLES_SHOWN) c.sample.push(valueText(v));
        }
        wanted.add(key);
      });
    }
    opts.onProgress?.({ phase: 'read', collection: entry.name, done: Math.min(n, sampleSize), total: entry.documents });
    for (const c of byPath.values()) if (c.distinct.size >= MIN_DISTINCT) candidates.push(c);
  }

  // 2. Stream each target in full, keeping only the sampled values it holds.
  const targets: { collection: string; field: string; found: Set<string> }[] = [];
  for (const entry of entries) {
    const fields = ['_id', ...uniqueFields(entry)];
    const found = fields.map(() => new Set<string>());
    const paths = fields.map((f) => f.split('.'));
    let n = 0;
    for await (const doc of documentsOf(snap, entry)) {
      opts.signal?.throwIfAborted();
      paths.forEach((p, i) => {
        for (const v of valuesAtPath(doc, p)) {
          const key = referenceKey(v);
          if (wanted.has(key)) found[i]!.add(key);
        }
      });
      if (++n % 10_000 === 0) opts.onProgress?.({ phase: 'verify', collection: entry.name, done: n, total: entry.documents });
    }
    fields.forEach((field, i) => targets.push({ collection: entry.name, field, found: found[i]! }));
  }

  // 3. Score every candidate against every target.
  const out: Omit<RelationProposal, 'declared'>[] = [];
  for (const c of candidates) {
    for (const t of targets) {
      if (t.collection === c.collection && t.field === c.path) continue;
      if (t.found.size === 0) continue;
      let matched = 0;
      for (const k of c.keys) if (t.found.has(k)) matched++;
      const share = matched / c.keys.length;
      if (share < minShare) continue;
      out.push({
        from: `${c.collection}.${c.path}`,
        to: `${t.collection}.${t.field}`,
        matched: share,
        values: c.keys.length,
        distinct: c.distinct.size,
        sample: c.sample,
      });
    }
  }
  return out.sort((a, b) => b.matched - a.matched || (a.from < b.from ? -1 : a.from > b.from ? 1 : a.to < b.to ? -1 : 1));
}

/** Fields with a single-field unique index (other than `_id`): values there identify a document too. */
function uniqueFields(entry: CollectionEntry): string[] {
  const out: string[] = [];
  let indexes: Document[];
  try {
    indexes = decodeMeta(entry).indexes;
  } catch {
    return out;
  }
  for (const ix of indexes) {
    const key = ix.key as Document | undefined;
    if (!ix.unique || !key || ix.partialFilterExpression) continue;
    const names = key instanceof Map ? [...key.keys()] : Object.keys(key);
    if (names.length === 1 && names[0] !== '_id') out.push(names[0]!);
  }
  return out;
}
