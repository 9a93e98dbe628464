/**
 * Query evaluation for the wire test server: filters and pipelines through mingo, sorting in
 * mongod's BSON order (`compareBsonValues`), and projections that keep raw bytes when they can.
 * Documents that pass through untouched are returned as their stored bytes.
 */
import { BSON } from 'bson';
import { Query, aggregate, find as mingoFind } from 'mingo';
import { documentFromElements, elementBytes, rawElements } from './bson-raw.js';
import { CommandError } from './errors.js';
import { StoredDoc } from './store.js';
import { type Doc, compareBsonValues, sortKeyValue } from './values.js';

/** A result item: a stored document (raw bytes kept) or a computed one. */
export type Item = StoredDoc | Doc;

function isStored(x: Item): x is StoredDoc {
  return x instanceof StoredDoc;
}

/** The encoded bytes of a result item. */
export function itemBytes(x: Item): Uint8Array {
  return isStored(x) ? x.raw : BSON.serialize(x as Doc);
}

function plainOf(x: Item): Doc {
  return isStored(x) ? x.plain : (x as Doc);
}

function typedOf(x: Item): Doc {
  return isStored(x) ? x.typed : (x as Doc);
}

/** A predicate for a find/count/update/delete filter. */
export function matcher(filter: unknown): (x: Item) => boolean {
  if (!filter || typeof filter !== 'object' || !Object.keys(filter).length) return () => true;
  let q: Query;
  try {
    q = new Query(filter as Doc);
  } catch (e) {
    throw new CommandError(2, (e as Error).message);
  }
  return (x) => q.test(plainOf(x));
}

/** Sort in mongod order; ties keep natural (insertion) order. `$natural: -1` reverses it. */
export function sortItems<T extends Item>(items: T[], sort: unknown): T[] {
  if (!sort || typeof sort !== 'object') return items;
  const spec = Object.entries(sort as Doc);
  if (!spec.length) return items;
  if (spec.length === 1 && spec[0]![0] === '$natural') return Number(spec[0]![1]) < 0 ? [...items].reverse() : items;
  const keys = spec
    .filter(([, dir]) => typeof dir === 'number' || typeof dir === 'string')
    .map(([path, dir]) => ({ path, desc: dir === -1 || dir === 'desc' || dir === 'descending' }));
  const decorated = items.map((item, i) => ({
    item,
    i,
    vals: keys.map((k) => (k.path === '_id' && isStored(item) ? item.id : sortKeyValue(typedOf(item), k.path, k.desc))),
  }));
  decorated.sort((a, b) => {
    for (let k = 0; k < keys.length; k++) {
      const c = compareBsonValues(a.vals[k], b.vals[k]);
      if (c !== 0) return keys[k]!.desc ? -c : c;
    }
    return a.i - b.i;
  });
  return decorated.map((d) => d.item);
}

function isSimpleProjection(p: Doc): boolean {
  return Object.entries(p).every(
    ([k, v]) => !k.includes('.') && !k.startsWith('$') && (v === 0 || v === 1 || v === true || v === false),
  );
}

/**
 * Apply a projection. Simple top-level inclusion/exclusion filters the raw elements (exact
 * bytes kept); anything else goes through mingo.
 */
export function projectItem(x: Item, projection: unknown): Item {
  if (!projection || typeof projection !== 'object' || !Object.keys(projection).length) return x;
  const p = projection as Doc;
  if (isStored(x) && isSimpleProjection(p)) {
    const nonId = Object.entries(p).filter(([k]) => k !== '_id');
    // {_id: 1} alone is an inclusion projection too: mongod returns the _id only.
    const inclusion = nonId.some(([, v]) => v === 1 || v === true) || (nonId.length === 0 && (p._id === 1 || p._id === true));
    const exclusion = nonId.some(([, v]) => v === 0 || v === false);
    if (inclusion && exclusion) {
      const [field] = nonId.find(([, v]) => v === 0 || v === false)!;
      throw new CommandError(31254, `Cannot do exclusion on field ${field} in inclusion projection`);
    }
    const idShown = !(p._id === 0 || p._id === false);
    const keep = (name: string) =>
      name === '_id' ? idShown : inclusion ? p[name] === 1 || p[name] === true : !(name in p);
    const els = rawElements(x.raw);
    return new StoredDoc(documentFromElements(els.filter((e) => keep(e.name)).map((e) => elementBytes(x.raw, e))), x.idKey);
  }
  const out = mingoFind([plainOf(x)], {}, p as Doc).all()[0];
  return (out ?? {}) as Doc;
}

const NATIVE_STAGES = new Set(['$match', '$sort', '$skip', '$limit']);

/**
 * Run an aggregation pipeline. Leading $match/$sort/$skip/$limit stages run natively so the
 * stored bytes survive; the first other stage hands the rest of the pipeline to mingo.
 */
export function runPipeline(source: Item[], pipeline: Doc[]): Item[] {
  let items = source;
  for (let i = 0; i < pipeline.length; i++) {
    const stage = pipeline[i]!;
    const [name] = Object.keys(stage);
    if (!name) throw new CommandError(40323, 'A pipeline stage specification object must contain exactly one field.');
    if (!NATIVE_STAGES.has(name)) {
      try {
        return aggregate(items.map(plainOf), pipeline.slice(i)) as Doc[];
      } catch (e) {
        if (e instanceof CommandError) throw e;
        throw new CommandError(2, (e as Error).message);
      }
    }
    const arg = stage[name];
    if (name === '$match') items = items.filter(matcher(arg));
    else if (name === '$sort') items = sortItems(items, arg);
    else if (name === '$skip') items = items.slice(Number(arg));
    else if (name === '$limit') items = items.slice(0, Number(arg));
  }
  return items;
}
