/**
 * The `documentHistory` operation: the commits where one document was created, changed or
 * deleted (blame.ts builds on it).
 *
 * Cost follows the document's history, not the database. Part boundaries depend on `_id`s alone
 * (docs/FORMAT.md, "Parts"), so a document stays in the same part file until a boundary near it
 * moves. Walking first-parent history newest to oldest:
 * - a commit whose collection directory has the same tree id as the newer commit's is skipped;
 * - so is one where the part that held the document has the same blob id (same bytes: the
 *   document is there, unchanged);
 * - otherwise the document, if the older commit has it, is in one of the part files that differ
 *   between the two commits (an unchanged part would hold it in the newer commit too). Those are
 *   read, the old holder first; when a commit rewrote many parts, a binary search over the part
 *   list by first `_id` (first ids cached by blob id) finds the one part instead.
 */
import { Decimal128, Double, Int32, Long, ObjectId, type Document } from 'bson';
import { compareBsonValues } from '../canonical/bson-order.js';
import { readValue } from '../canonical/document-reader.js';
import { collectionDir, type CollectionEntry } from '../canonical/format.js';
import { partEntries, type PartDocument } from '../canonical/part-entries.js';
import { isEncryptedValue } from '../crypto/index.js';
import { diffDocumentFields, type FieldChange } from '../diff/index.js';
import { CorruptSnapshotError, InvalidArgumentError } from '../errors/index.js';
import { SnapshotRepository, type CommitInfo } from '../store/index.js';
import { commitSummary, type CommitSummary } from './commit-summary.js';

export interface DocumentHistoryOptions {
  repo: string;
  collection: string;
  /**
   * The `_id` as a BSON value, or as a user types it: 24 hex digits (an ObjectId), a number, a
   * string, or Extended JSON (`{"$oid": "..."}`, `{"$numberLong": "7"}`, `"42"` for the string).
   */
  id: unknown;
  /** Where history starts (default HEAD); any commit, tag, branch or `origin/main`. */
  ref?: string;
  /** At most this many versions (newest first). */
  n?: number;
}

export interface DocumentVersion extends CommitSummary {
  kind: 'created' | 'changed' | 'deleted';
  /** The document after this commit (absent when deleted). */
  doc?: Document;
  /** Field changes from the previous version (changed only). */
  fields?: FieldChange[];
}

export interface DocumentHistory {
  collection: string;
  /** The `_id` as found (or, when never found, the first reading of the input). */
  id: unknown;
  found: boolean;
  /** Newest first. */
  versions: DocumentVersion[];
  /** What the walk cost, for `--json` readers and the benchmark. */
  stats: { commits: number; commitsExamined: number; partsRead: number };
}

/**
 * The `_id` values a typed argument may mean, most likely first: 24 hex digits is an ObjectId
 * (or that string), a number is a number (or that string), `{...}` and `"..."` are Extended
 * JSON, anything else a string.
 */
export function idCandidates(input: unknown): unknown[] {
  if (typeof input !== 'string') return [input];
  const text = input.trim();
  if (/^[0-9a-fA-F]{24}$/.test(text)) return [new ObjectId(text.toLowerCase()), input];
  if (/^-?\d+$/.test(text)) {
    const n = Number(text);
    const asNumber = Number.isSafeInteger(n) && n >= -2147483648 && n <= 2147483647 ? new Int32(n) : Long.fromString(text);
    return [asNumber, input];
  }
  if (/^-?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][-+]?\d+)$/.test(text)) return [new Double(Number(text)), Decimal128.fromString(text), input];
  if (/^[{["]/.test(text)) {
    try {
      return [readValue(text, 'the _id argument')];
    } catch (err) {
      throw new InvalidArgumentError(`the _id ${text} is not valid Extended JSON: ${(err as Error).message}`, { id: text });
    }
  }
  return [input];
}

interface State {
  /** Part file (path) holding the document, or null when the commit does not have it. */
  part: string | null;
  entry: PartDocument | null;
}

/** What the walk reads, with blob-id caches: an unchanged part is never read twice. */
class PartReader {
  private readonly entries = new Map<string, PartDocument[]>();
  private readonly firstIds = new Map<string, unknown>();
  private readonly collectionEntries = new Map<string, CollectionEntry>();
  partsRead = 0;

  constructor(private readonly repo: SnapshotRepository) {}

  async entriesOf(path: string, oid: string): Promise<PartDocument[]> {
    let list = this.entries.get(oid);
    if (!list) {
      const text = (await this.repo.readBlob(oid)).toString('utf8');
      this.partsRead++;
      const parsed = partEntries(text, path);
      if (!parsed) throw new CorruptSnapshotError(`${path} is not laid out as dbsnap writes part files; run dbsnap verify.`, { path });
      list = parsed;
      this.entries.set(oid, list);
      this.firstIds.set(oid, list[0]?.id);
    }
    return list;
  }

  async firstId(path: string, oid: string): Promise<unknown> {
    if (!this.firstIds.has(oid)) await this.entriesOf(path, oid);
    return this.firstIds.get(oid);
  }

  async collectionEntry(path: string, oid: string): Promise<CollectionEntry> {
    let entry = this.collectionEntries.get(oid);
    if (!entry) {
      entry = JSON.parse((await this.repo.readBlob(oid)).toString('utf8')) as CollectionEntry;
      this.collectionEntries.set(oid, entry);
    }
    return entry;
  }
}

function find(entries: PartDocument[], id: unknown): PartDocument | null {
  let lo = 0;
  let hi = entries.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const c = compareBsonValues(entries[mid]!.id, id);
    if (c === 0) return entries[mid]!;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return null;
}

/** Files of one collection in one commit: its tree id and, when needed, path -> blob id. */
interface CollectionFiles {
  tree: string | null;
  files: Map<string, string> | null;
}

/**
 * The commits that created, changed or deleted one document, newest first, each with its
 * field-level changes.
 *
 * @example
 * const h = await documentHistory({ repo: 'backup-repo', collection: 'products', id: '5f146e002c9cc04162000010' });
 * for (const v of h.versions) console.log(v.commit.slice(0, 7), v.kind, v.fields?.map((f) => f.path));
 */
export async function documentHistory(opts: DocumentHistoryOptions): Promise<DocumentHistory> {
  const repo = await SnapshotRepository.open(opts.repo);
  const commits = await repo.log(opts.ref ?? 'HEAD');
  const candidates = idCandidates(opts.id);
  let fallback: DocumentHistory | null = null;
  for (const id of candidates) {
    const h = await walk(repo, commits, opts.collection, id, opts.n ?? Infinity);
    if (h.found) return h;
    fallback ??= h;
  }
  return fallback!;
}

async function walk(repo: SnapshotRepository, commits: CommitInfo[], collection: string, id: unknown, max: number): Promise<DocumentHistory> {
  const dir = collectionDir(collection);
  const reader = new PartReader(repo);
  const versions: DocumentVersion[] = [];
  let examined = 0;

  const filesOf = async (c: CollectionFiles, commit: string): Promise<Map<string, string>> =>
    (c.files ??= await repo.listFiles(commit, `${dir}/`));

  /** Where the document is in `commit`, searching only `candidates` when given. */
  const locate = async (commit: string, files: Map<string, string>, candidates?: string[]): Promise<State> => {
    const parts = [...files.keys()].filter((p) => p.startsWith(`${dir}/parts/`));
    if (candidates && candidates.length <= 3) {
      for (const p of candidates) {
        const entry = find(await reader.entriesOf(p, files.get(p)!), id);
        if (entry) return { part: p, entry };
      }
      return { part: null, entry: null };
    }
    if (parts.length === 0) return { part: null, entry: null };
    // Binary search over the parts in _id order (collection.json lists them so) by first _id.
    const listing = files.get(`${dir}/collection.json`);
    if (!listing) return { part: null, entry: null };
    const ordered = (await reader.collectionEntry(`${dir}/collection.json`, listing)).parts.map((p) => `${dir}/${p.file}`).filter((p) => files.has(p));
    let lo = 0;
    let hi = ordered.length - 1;
    let holder = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const first = await reader.firstId(ordered[mid]!, files.get(ordered[mid]!)!);
      if (first === undefined || compareBsonValues(first, id) <= 0) {
        holder = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    if (holder < 0) return { part: null, entry: null };
    const p = ordered[holder]!;
    const entry = find(await reader.entriesOf(p, files.get(p)!), id);
    return entry ? { part: p, entry } : { part: null, entry: null };
  };

  let newer: { commit: CommitInfo; files: CollectionFiles; state: State } | null = null;
  for (const commit of commits) {
    if (versions.length >= max) break;
    const files: CollectionFiles = { tree: await repo.treeOid(commit.oid, dir), files: null };
    let state: State;
    if (files.tree === null) {
      state = { part: null, entry: null };
    } else if (newer && newer.files.tree === files.tree) {
      files.files = newer.files.files;
      state = newer.state;
    } else if (newer && newer.files.tree !== null) {
      examined++;
      const now = await filesOf(files, commit.oid);
      const then = await filesOf(newer.files, newer.commit.oid);
      const held = newer.state.part;
      if (held !== null && now.get(held) === then.get(held)) {
        state = newer.state;
      } else {
        const changed = [...now].filter(([p, oid]) => p.startsWith(`${dir}/parts/`) && then.get(p) !== oid).map(([p]) => p);
        if (held !== null && changed.includes(held)) changed.splice(changed.indexOf(held), 1), changed.unshift(held);
        state = await locate(commit.oid, now, changed);
      }
    } else {
      examined++;
      state = await locate(commit.oid, await filesOf(files, commit.oid));
    }
    if (newer) pushTransition(versions, newer.commit, state, newer.state);
    newer = { commit, files, state };
  }
  if (newer && versions.length < max) pushTransition(versions, newer.commit, { part: null, entry: null }, newer.state);
  const foundId = versions.find((v) => v.doc)?.doc?._id;
  return {
    collection,
    id: foundId ?? id,
    found: versions.length > 0,
    versions,
    stats: { commits: commits.length, commitsExamined: examined, partsRead: reader.partsRead },
  };
}

/** Records what `commit` did to the document, going from `before` (its parent) to `after`. */
function pushTransition(out: DocumentVersion[], commit: CommitInfo, before: State, after: State): void {
  const a = before.entry;
  const b = after.entry;
  if (a === null && b === null) return;
  if (a !== null && b !== null && a.text === b.text) return;
  const base = commitSummary(commit);
  if (a === null) out.push({ ...base, kind: 'created', doc: b!.doc() });
  else if (b === null) out.push({ ...base, kind: 'deleted' });
  else {
    const fields: FieldChange[] = [];
    diffDocumentFields(a.doc(), b.doc(), '', fields, { encryptedMarker: isEncryptedValue });
    out.push({ ...base, kind: 'changed', doc: b.doc(), fields });
  }
}
