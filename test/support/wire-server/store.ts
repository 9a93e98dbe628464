/**
 * In-memory databases for the wire test server. Each document is kept as the exact BSON bytes
 * the client sent; decoded forms are cached lazily for filtering and sorting. Collections keep
 * their create options and index specs as raw bytes so listCollections / listIndexes return
 * them with field order and numeric types intact.
 */
import { BSON, Int32, ObjectId, UUID } from 'bson';
import { Query } from 'mingo';
import { documentFromElements, elementBytes, encodeElement, firstElement, idIsFirst, rawElements } from './bson-raw.js';
import { CommandError } from './errors.js';
import { type Doc, MISSING, compareBsonValues, decodePlain, decodeTyped, formatDoc, getPath, keyString } from './values.js';

/** A stored document: its raw bytes plus lazily decoded views. */
export class StoredDoc {
  private typedCache?: Doc;
  private plainCache?: Doc;
  private idCache?: { v: unknown };
  constructor(
    readonly raw: Uint8Array,
    readonly idKey: string,
  ) {}
  /** The `_id` value, decoded on its own (cheaper than decoding the whole document). */
  get id(): unknown {
    return (this.idCache ??= { v: this.typedCache ? this.typedCache._id : idOf(this.raw) }).v;
  }
  /** Decoded with exact numeric wrappers (Int32/Double/Long). */
  get typed(): Doc {
    return (this.typedCache ??= decodeTyped(this.raw));
  }
  /** Decoded with JS numbers, as mingo expects. */
  get plain(): Doc {
    return (this.plainCache ??= decodePlain(this.raw));
  }
}

/** The `_id` of a raw document, decoding only that element (it is normally the first). */
export function idOf(raw: Uint8Array): unknown {
  if (idIsFirst(raw)) {
    // Fast paths for the common _id types; others decode the lone element.
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    if (raw[4] === 0x10) return new Int32(view.getInt32(9, true));
    if (raw[4] === 0x07) return new ObjectId(raw.slice(9, 21));
    const end = firstElement(raw)!.end;
    return decodeTyped(documentFromElements([raw.subarray(4, end)]))._id;
  }
  const el = rawElements(raw).find((e) => e.name === '_id');
  if (!el) return undefined;
  return decodeTyped(documentFromElements([elementBytes(raw, el)]))._id;
}

/** An index: its spec bytes as listIndexes returns them, and the bits needed to enforce it. */
export interface IndexInfo {
  name: string;
  fields: string[];
  keyPattern: Doc;
  spec: Uint8Array;
  unique: boolean;
  sparse: boolean;
  partial?: Query;
  /** Unique indexes only: key string -> owning document's idKey. */
  entries: Map<string, string>;
}

const ID_INDEX_SPEC = BSON.serialize({ v: new Int32(2), key: { _id: new Int32(1) }, name: '_id_' });

/** Build an IndexInfo from a spec document as sent in createIndexes (adds `v: 2` first when absent). */
export function indexFromSpec(specRaw: Uint8Array): IndexInfo {
  // mongod lists specs as { v, key, name, ...other options in the order given }.
  const els = rawElements(specRaw);
  const first = ['v', 'key', 'name'].map((n) => els.find((e) => e.name === n));
  const spec = documentFromElements([
    first[0] ? elementBytes(specRaw, first[0]) : encodeElement('v', new Int32(2)),
    ...first.slice(1).flatMap((e) => (e ? [elementBytes(specRaw, e)] : [])),
    ...els.filter((e) => !first.includes(e)).map((e) => elementBytes(specRaw, e)),
  ]);
  const typed = decodeTyped(spec);
  const plain = decodePlain(spec);
  if (typeof typed.name !== 'string' || !typed.key || typeof typed.key !== 'object') {
    throw new CommandError(9, "Error in specification: the 'key' and 'name' fields are required");
  }
  const keyPattern = typed.key as Doc;
  const fields = Object.keys(keyPattern);
  if (!fields.length) throw new CommandError(67, 'Index keys cannot be empty.');
  return {
    name: typed.name,
    fields,
    keyPattern,
    spec,
    unique: plain.unique === true || plain.unique === 1,
    sparse: plain.sparse === true || plain.sparse === 1,
    partial: plain.partialFilterExpression ? new Query(plain.partialFilterExpression as Doc) : undefined,
    entries: new Map(),
  };
}

/**
 * The document as far as an index on `fields` needs it: for top-level fields only those elements
 * are decoded (and nothing is cached on the document, so a unique index on `email` does not keep
 * a decoded copy of every user in memory); dotted paths decode the whole document.
 */
function indexedValues(fields: string[], doc: StoredDoc): Doc {
  if (fields.some((f) => f.includes('.'))) return doc.typed;
  const els = rawElements(doc.raw).filter((e) => fields.includes(e.name));
  return decodeTyped(documentFromElements(els.map((e) => elementBytes(doc.raw, e))));
}

/** Index keys a document produces: one per combination of array elements (multikey). */
function indexKeys(index: IndexInfo, doc: StoredDoc): { key: string; values: Doc }[] {
  if (index.partial && !index.partial.test(doc.plain)) return [];
  const values = indexedValues(index.fields, doc);
  const perField = index.fields.map((f) => getPath(values, f));
  if (index.sparse && perField.every((v) => v === MISSING)) return [];
  let combos: { key: string; values: Doc }[] = [{ key: '', values: {} }];
  index.fields.forEach((f, i) => {
    const v = perField[i];
    const choices = Array.isArray(v) && v.length ? v : [v === MISSING ? null : v];
    const next: { key: string; values: Doc }[] = [];
    for (const c of combos) {
      for (const x of choices) next.push({ key: c.key + '|' + keyString(x), values: { ...c.values, [f]: x } });
    }
    combos = next;
  });
  const seen = new Set<string>();
  return combos.filter((c) => (seen.has(c.key) ? false : (seen.add(c.key), true)));
}

/**
 * A collection's `_id` index: the documents' idKeys in `_id` order, as mongod walks its `_id`
 * index for a find sorted by `_id`. Inserts in ascending `_id` order (generated ObjectIds, a
 * restore from a snapshot, a dump) append; anything else marks the order stale and the next
 * sorted read sorts once. Replacing a document keeps its idKey, so the order stays valid.
 */
class IdOrder {
  private keys: string[] = [];
  private last: unknown = undefined;
  private valid = true;

  added(doc: StoredDoc): void {
    if (!this.valid) return;
    if (this.keys.length > 0 && compareBsonValues(doc.id, this.last) <= 0) {
      this.invalidate();
      return;
    }
    this.keys.push(doc.idKey);
    this.last = doc.id;
  }

  invalidate(): void {
    this.valid = false;
    this.keys = [];
    this.last = undefined;
  }

  /** The documents in ascending `_id` order. */
  sorted(docs: Map<string, StoredDoc>): StoredDoc[] {
    if (!this.valid) {
      const all = [...docs.values()].sort((a, b) => compareBsonValues(a.id, b.id));
      this.keys = all.map((d) => d.idKey);
      this.last = all.length ? all[all.length - 1]!.id : undefined;
      this.valid = true;
      return all;
    }
    const out = new Array<StoredDoc>(this.keys.length);
    for (let i = 0; i < this.keys.length; i++) out[i] = docs.get(this.keys[i]!)!;
    return out;
  }
}

/** A collection (or view) and its documents in insertion ("natural") order. */
export class Collection {
  readonly uuid = new UUID();
  readonly docs = new Map<string, StoredDoc>();
  private readonly idOrder = new IdOrder();
  indexes: IndexInfo[];
  constructor(
    public db: string,
    public name: string,
    /** The create options exactly as given (an empty document for implicit creation). */
    public options: Uint8Array = BSON.serialize({}),
  ) {
    this.indexes = this.kind === 'view' ? [] : [indexFromSpec(ID_INDEX_SPEC)];
  }

  get kind(): 'collection' | 'view' | 'timeseries' {
    const names = rawElements(this.options).map((e) => e.name);
    if (names.includes('viewOn')) return 'view';
    if (names.includes('timeseries')) return 'timeseries';
    return 'collection';
  }

  get ns(): string {
    return `${this.db}.${this.name}`;
  }

  private duplicate(index: IndexInfo, values: Doc): CommandError {
    return new CommandError(
      11000,
      `E11000 duplicate key error collection: ${this.ns} index: ${index.name} dup key: ${formatDoc(values)}`,
      { keyPattern: index.keyPattern, keyValue: values },
    );
  }

  /** Throw E11000 if `doc` collides with another document (ignoring `self`). */
  private checkUnique(doc: StoredDoc, self?: string): void {
    const other = this.docs.get(doc.idKey);
    if (other && doc.idKey !== self) throw this.duplicate(this.indexes[0]!, { _id: doc.id });
    for (const index of this.indexes) {
      if (!index.unique || index.name === '_id_') continue;
      for (const k of indexKeys(index, doc)) {
        const owner = index.entries.get(k.key);
        if (owner !== undefined && owner !== self) throw this.duplicate(index, k.values);
      }
    }
  }

  private addKeys(doc: StoredDoc): void {
    for (const index of this.indexes) {
      if (!index.unique || index.name === '_id_') continue;
      for (const k of indexKeys(index, doc)) index.entries.set(k.key, doc.idKey);
    }
  }

  private removeKeys(doc: StoredDoc): void {
    for (const index of this.indexes) {
      if (!index.unique || index.name === '_id_') continue;
      for (const k of indexKeys(index, doc)) if (index.entries.get(k.key) === doc.idKey) index.entries.delete(k.key);
    }
  }

  /** Insert a raw document that already carries an `_id`. */
  insert(raw: Uint8Array): StoredDoc {
    // Copy: the bytes may be a view into a network buffer.
    raw = new Uint8Array(raw);
    const id = idOf(raw);
    if (Array.isArray(id)) throw new CommandError(2, "can't use an array for _id");
    const doc = new StoredDoc(raw, keyString(id));
    this.checkUnique(doc);
    this.docs.set(doc.idKey, doc);
    this.idOrder.added(doc);
    this.addKeys(doc);
    return doc;
  }

  /** The documents in ascending `_id` order (from the `_id` index, not a sort per query). */
  byId(): StoredDoc[] {
    return this.idOrder.sorted(this.docs);
  }

  /** Replace a document's bytes in place (natural order kept). The `_id` must not change. */
  replace(old: StoredDoc, raw: Uint8Array): StoredDoc {
    const doc = new StoredDoc(new Uint8Array(raw), old.idKey);
    this.removeKeys(old);
    try {
      this.checkUnique(doc, old.idKey);
    } catch (e) {
      this.addKeys(old);
      throw e;
    }
    this.docs.set(old.idKey, doc);
    this.addKeys(doc);
    return doc;
  }

  remove(doc: StoredDoc): void {
    this.removeKeys(doc);
    this.docs.delete(doc.idKey);
    this.idOrder.invalidate();
  }

  /** Add an index; fails with E11000 when existing documents violate a unique index. */
  addIndex(index: IndexInfo): void {
    if (index.unique) {
      for (const doc of this.docs.values()) {
        for (const k of indexKeys(index, doc)) {
          if (index.entries.has(k.key)) throw this.duplicate(index, k.values);
          index.entries.set(k.key, doc.idKey);
        }
      }
    }
    this.indexes.push(index);
  }
}

/** All databases of one server. */
export class Store {
  readonly databases = new Map<string, Map<string, Collection>>();

  collections(db: string): Map<string, Collection> {
    return this.databases.get(db) ?? new Map();
  }

  get(db: string, name: string): Collection | undefined {
    return this.databases.get(db)?.get(name);
  }

  /** The collection, created implicitly (as an insert or createIndexes does) when missing. */
  getOrCreate(db: string, name: string): { coll: Collection; created: boolean } {
    const existing = this.get(db, name);
    if (existing) return { coll: existing, created: false };
    return { coll: this.add(new Collection(db, name)), created: true };
  }

  add(coll: Collection): Collection {
    validateCollectionName(coll.db, coll.name);
    let colls = this.databases.get(coll.db);
    if (!colls) this.databases.set(coll.db, (colls = new Map()));
    colls.set(coll.name, coll);
    return coll;
  }

  drop(db: string, name: string): Collection | undefined {
    const colls = this.databases.get(db);
    const coll = colls?.get(name);
    if (!colls || !coll) return undefined;
    colls.delete(name);
    if (!colls.size) this.databases.delete(db);
    return coll;
  }

  dropDatabase(db: string): void {
    this.databases.delete(db);
  }
}

/** mongod's namespace rules, the ones a test is likely to hit. */
export function validateCollectionName(db: string, name: string): void {
  if (!db || /[/\\. "$\0]/.test(db)) throw new CommandError(73, `Invalid database name: '${db}'`);
  if (!name || name.includes('\0') || name.startsWith('.') || name.includes('$')) {
    throw new CommandError(73, `Invalid collection name: ${name}`);
  }
}
