/**
 * Update semantics for the wire test server: replacement documents, the common update operators
 * and pipeline-style updates. Operators work on documents decoded with exact numeric types, and
 * top-level fields an update does not touch are copied byte for byte, so an update leaves the
 * rest of a document's BSON as it was (as mongod does).
 */
import { BSON, Decimal128, Double, Int32, Long, ObjectId, Timestamp } from 'bson';
import { Query, aggregate } from 'mingo';
import { documentFromElements, elementBytes, encodeElement, prependObjectId, rawElements, withIdFirst } from './bson-raw.js';
import { CommandError } from './errors.js';
import { type Doc, MISSING, compareBsonValues, decodePlain, getPath, isBsonValue, keyString } from './values.js';

type NumKind = 0 | 1 | 2 | 3; // int32 < long < double < decimal

function numKind(v: unknown): NumKind | -1 {
  if (v instanceof Int32) return 0;
  if (v instanceof Long) return 1;
  if (v instanceof Double || typeof v === 'number') return 2;
  if (v instanceof Decimal128) return 3;
  return -1;
}

function toNumber(v: unknown): number {
  if (v instanceof Long) return v.toNumber();
  if (v instanceof Decimal128) return Number(v.toString());
  return Number((v as { valueOf(): unknown }).valueOf());
}

/** Arithmetic with mongod's result-type rules (widest type wins; int32 overflow becomes long). */
function arith(a: unknown, b: unknown, op: 'add' | 'mul', path: string): unknown {
  const ka = numKind(a);
  const kb = numKind(b);
  if (kb < 0) throw new CommandError(14, `Cannot ${op === 'add' ? 'increment' : 'multiply'} with non-numeric argument: {${path}: ${String(b)}}`);
  if (ka < 0) throw new CommandError(14, `Cannot apply $${op === 'add' ? 'inc' : 'mul'} to a value of non-numeric type. {_id: ...} has the field '${path}' of non-numeric type ${typeof a}`);
  const k = Math.max(ka, kb) as NumKind;
  if (k === 3) {
    const r = op === 'add' ? toNumber(a) + toNumber(b) : toNumber(a) * toNumber(b);
    return Decimal128.fromString(String(r));
  }
  if (k === 2) return new Double(op === 'add' ? toNumber(a) + toNumber(b) : toNumber(a) * toNumber(b));
  const x = BigInt(a instanceof Long ? a.toString() : toNumber(a));
  const y = BigInt(b instanceof Long ? b.toString() : toNumber(b));
  const r = op === 'add' ? x + y : x * y;
  if (k === 0 && r >= -(2n ** 31n) && r < 2n ** 31n) return new Int32(Number(r));
  return Long.fromBigInt(BigInt.asIntN(64, r));
}

function isDocument(v: unknown): v is Doc {
  return !!v && typeof v === 'object' && !Array.isArray(v) && !isBsonValue(v);
}

function setPath(doc: Doc, path: string, value: unknown): void {
  const segs = path.split('.');
  let cur: unknown = doc;
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i]!;
    if (seg === '$' || seg.startsWith('$[')) {
      throw new CommandError(2, `positional update operators are not supported by the wire test server: ${path}`);
    }
    const last = i === segs.length - 1;
    if (Array.isArray(cur) && /^\d+$/.test(seg)) {
      const idx = Number(seg);
      while (cur.length < idx) cur.push(null);
      if (last) cur[idx] = value;
      else {
        if (cur[idx] === undefined || cur[idx] === null) cur[idx] = {};
        cur = cur[idx];
      }
    } else if (isDocument(cur)) {
      if (last) cur[seg] = value;
      else {
        if (!(seg in cur) || cur[seg] === null) cur[seg] = {};
        cur = cur[seg];
      }
    } else {
      throw new CommandError(28, `Cannot create field '${seg}' in element {${segs.slice(0, i).join('.')}: ${String(cur)}}`);
    }
  }
}

function unsetPath(doc: Doc, path: string): void {
  const segs = path.split('.');
  let cur: unknown = doc;
  for (let i = 0; i < segs.length - 1; i++) {
    if (cur === null || typeof cur !== 'object') return;
    cur = (cur as Doc)[segs[i]!];
  }
  const last = segs[segs.length - 1]!;
  if (Array.isArray(cur) && /^\d+$/.test(last)) {
    if (Number(last) < cur.length) cur[Number(last)] = null; // $unset on an array element leaves null
  } else if (isDocument(cur)) delete cur[last];
}

function getOwn(doc: Doc, path: string): unknown {
  return getPath(doc, path);
}

function toPlain(v: unknown): unknown {
  return decodePlain(BSON.serialize({ v })).v;
}

function arrayAt(doc: Doc, path: string, op: string): unknown[] {
  const v = getOwn(doc, path);
  if (v === MISSING) return [];
  if (!Array.isArray(v)) throw new CommandError(2, `The field '${path}' must be an array but is of type ${typeof v} in document, for ${op}`);
  return v;
}

/** Apply update operators in place; returns the top-level field names that changed. */
export function applyOperators(doc: Doc, update: Doc, inserting: boolean): Set<string> {
  const touched = new Set<string>();
  const paths: string[] = [];
  for (const [op, spec] of Object.entries(update)) {
    if (!isDocument(spec)) continue;
    for (const [path, arg] of Object.entries(spec)) {
      paths.push(path);
      if (op === '$rename' && typeof arg === 'string') paths.push(arg);
    }
  }
  for (let i = 0; i < paths.length; i++) {
    for (let j = 0; j < i; j++) {
      const [a, b] = [paths[i]!, paths[j]!];
      if (a === b || a.startsWith(b + '.') || b.startsWith(a + '.')) {
        throw new CommandError(40, `Updating the path '${a}' would create a conflict at '${a.length < b.length ? a : b}'`);
      }
    }
  }
  for (const [op, spec] of Object.entries(update)) {
    if (!isDocument(spec)) throw new CommandError(9, `Modifiers operate on fields but we found type ${typeof spec} instead.`);
    for (const [path, arg] of Object.entries(spec)) {
      const top = path.split('.')[0]!;
      if (top === '_id' && op !== '$set' && op !== '$setOnInsert') {
        throw new CommandError(66, "Performing an update on the path '_id' would modify the immutable field '_id'");
      }
      touched.add(top);
      const cur = getOwn(doc, path);
      switch (op) {
        case '$set':
          setPath(doc, path, arg);
          break;
        case '$setOnInsert':
          if (inserting) setPath(doc, path, arg);
          break;
        case '$unset':
          unsetPath(doc, path);
          break;
        case '$inc':
          if (cur === MISSING) {
            arith(new Int32(0), arg, 'add', path); // validates the argument is numeric
            setPath(doc, path, arg);
          } else setPath(doc, path, arith(cur, arg, 'add', path));
          break;
        case '$mul':
          setPath(doc, path, arith(cur === MISSING ? new Int32(0) : cur, arg, 'mul', path));
          break;
        case '$min':
        case '$max': {
          const c = cur === MISSING ? 0 : compareBsonValues(arg, cur);
          if (cur === MISSING || (op === '$min' ? c < 0 : c > 0)) setPath(doc, path, arg);
          break;
        }
        case '$rename': {
          if (typeof arg !== 'string') throw new CommandError(2, `The 'to' field for $rename must be a string: ${path}: ${String(arg)}`);
          if (cur !== MISSING) {
            unsetPath(doc, path);
            setPath(doc, arg, cur);
            touched.add(arg.split('.')[0]!);
          }
          break;
        }
        case '$currentDate': {
          const asTs = isDocument(arg) && arg.$type === 'timestamp';
          setPath(doc, path, asTs ? Timestamp.fromNumber(Math.floor(Date.now() / 1000) * 2 ** 32) : new Date());
          break;
        }
        case '$push':
        case '$addToSet': {
          const arr = [...arrayAt(doc, path, op)];
          const each = isDocument(arg) && Array.isArray(arg.$each) ? (arg.$each as unknown[]) : [arg];
          if (op === '$addToSet') {
            const have = new Set(arr.map(keyString));
            for (const x of each) if (!have.has(keyString(x))) (arr.push(x), have.add(keyString(x)));
          } else {
            const pos = isDocument(arg) && arg.$position !== undefined ? toNumber(arg.$position) : arr.length;
            arr.splice(pos < 0 ? Math.max(0, arr.length + pos) : pos, 0, ...each);
            if (isDocument(arg) && arg.$slice !== undefined) {
              const n = toNumber(arg.$slice);
              const kept = n >= 0 ? arr.slice(0, n) : arr.slice(n);
              arr.length = 0;
              arr.push(...kept);
            }
          }
          setPath(doc, path, arr);
          break;
        }
        case '$pop': {
          const arr = [...arrayAt(doc, path, op)];
          if (toNumber(arg) < 0) arr.shift();
          else arr.pop();
          if (cur !== MISSING) setPath(doc, path, arr);
          break;
        }
        case '$pull':
        case '$pullAll': {
          if (cur === MISSING) break;
          const arr = arrayAt(doc, path, op);
          let keep: (x: unknown) => boolean;
          if (op === '$pullAll') {
            const drop = new Set((arg as unknown[]).map(keyString));
            keep = (x) => !drop.has(keyString(x));
          } else if (isDocument(arg)) {
            const isOps = Object.keys(arg).every((k) => k.startsWith('$'));
            const cond = new Query((isOps ? { v: toPlain(arg) } : toPlain(arg)) as Doc);
            keep = (x) => !(isOps ? cond.test({ v: toPlain(x) }) : isDocument(x) && cond.test(toPlain(x) as Doc));
          } else {
            const k = keyString(arg);
            keep = (x) => keyString(x) !== k;
          }
          setPath(doc, path, arr.filter(keep));
          break;
        }
        default:
          throw new CommandError(
            9,
            `Unknown modifier: ${op}. Expected a valid update modifier or pipeline-style update specified as an array`,
          );
      }
    }
  }
  return touched;
}

/**
 * Re-encode `doc` after an update: untouched top-level fields are copied from `origRaw` byte for
 * byte, changed ones are encoded anew, new fields follow in the order they were added.
 */
export function reencode(origRaw: Uint8Array, doc: Doc, touched: Set<string>): Uint8Array {
  const parts: Uint8Array[] = [];
  const seen = new Set<string>();
  for (const el of rawElements(origRaw)) {
    seen.add(el.name);
    if (!(el.name in doc)) continue;
    parts.push(touched.has(el.name) ? encodeElement(el.name, doc[el.name]) : elementBytes(origRaw, el));
  }
  for (const [k, v] of Object.entries(doc)) if (!seen.has(k)) parts.push(encodeElement(k, v));
  return documentFromElements(parts);
}

/** Is `u` a replacement document (no top-level `$` operator fields)? */
export function isReplacement(u: Doc): boolean {
  const keys = Object.keys(u);
  return keys.length === 0 || !keys[0]!.startsWith('$');
}

/**
 * A replacement's final bytes: the original `_id` goes first when the replacement has none;
 * a different `_id` is an ImmutableField error, as in mongod.
 */
export function replacementBytes(origRaw: Uint8Array, origId: unknown, replacementRaw: Uint8Array): Uint8Array {
  const els = rawElements(replacementRaw);
  if (els.some((e) => e.name.startsWith('$'))) {
    throw new CommandError(2, "the update operation document must not contain '$'-prefixed fields mixed with replacement fields");
  }
  const idEl = els.find((e) => e.name === '_id');
  if (idEl) {
    const newId = BSON.deserialize(replacementRaw, { promoteValues: false, bsonRegExp: true })._id;
    if (keyString(newId) !== keyString(origId)) {
      throw new CommandError(
        66,
        "After applying the update, the (immutable) field '_id' was found to have been altered",
      );
    }
    return withIdFirst(replacementRaw);
  }
  const origIdEl = rawElements(origRaw).find((e) => e.name === '_id')!;
  return documentFromElements([elementBytes(origRaw, origIdEl), ...els.map((e) => elementBytes(replacementRaw, e))]);
}

/** Apply a pipeline-style update (an array of stages) with mingo. */
export function applyPipeline(plain: Doc, pipeline: Doc[]): Uint8Array {
  const [out] = aggregate([plain], pipeline.map((s) => toPlain(s) as Doc));
  if (!out) throw new CommandError(2, 'pipeline update produced no document');
  if (keyString(out._id) !== keyString(plain._id)) {
    throw new CommandError(66, "After applying the update, the (immutable) field '_id' was found to have been altered");
  }
  return BSON.serialize(out as Doc);
}

/** The equality fields of a query, which seed an upserted document. */
export function equalityFields(q: Doc, into: Doc = {}): Doc {
  for (const [k, v] of Object.entries(q)) {
    if (k === '$and' && Array.isArray(v)) {
      for (const sub of v) equalityFields(sub as Doc, into);
      continue;
    }
    if (k.startsWith('$')) continue;
    if (isDocument(v) && Object.keys(v).some((x) => x.startsWith('$'))) {
      if ('$eq' in v) setPath(into, k, v.$eq);
      continue;
    }
    setPath(into, k, v);
  }
  return into;
}

/** Build the document an upsert inserts, with `_id` first (taken from the query or generated). */
export function upsertDocument(qTyped: Doc, uTyped: Doc | Doc[], uRaw: Uint8Array | undefined): Uint8Array {
  const seed = equalityFields(qTyped);
  if (Array.isArray(uTyped)) {
    const id = seed._id ?? new ObjectId();
    const [out] = aggregate([toPlain({ ...seed, _id: id }) as Doc], uTyped.map((s) => toPlain(s) as Doc));
    return BSON.serialize({ _id: id, ...(out as Doc) });
  }
  if (isReplacement(uTyped)) {
    const raw = uRaw ?? BSON.serialize(uTyped);
    if (rawElements(raw).some((e) => e.name === '_id')) return withIdFirst(raw);
    if (seed._id !== undefined) {
      return documentFromElements([encodeElement('_id', seed._id), raw.subarray(4, raw.length - 1)]);
    }
    return prependObjectId(raw);
  }
  applyOperators(seed, uTyped, true);
  const id = seed._id ?? new ObjectId();
  const { _id: _drop, ...rest } = seed;
  void _drop;
  return BSON.serialize({ _id: id, ...rest });
}
