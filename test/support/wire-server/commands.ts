/**
 * The commands the wire test server understands, answering as a MongoDB 7.0 standalone mongod
 * would (reply fields, error codes and messages). Anything else is `CommandNotFound` (59).
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import { Binary, BSON, Long, UUID } from 'bson';
import { Query } from 'mingo';
import {
  RawDocument,
  documentFromElements,
  elementBytes,
  encodeDocument,
  encodeElement,
  withIdFirst,
  rawElements,
  rawSubDocuments,
} from './bson-raw.js';
import { CommandError } from './errors.js';
import { type Item, itemBytes, matcher, projectItem, runPipeline, sortItems } from './query.js';
import { Collection, type IndexInfo, type StoredDoc, Store, indexFromSpec } from './store.js';
import {
  applyOperators,
  applyPipeline,
  isReplacement,
  reencode,
  replacementBytes,
  upsertDocument,
} from './update.js';
import { type Doc, MISSING, compareBsonValues, decodePlain, decodeTyped, getPath, isBsonValue, keyString } from './values.js';

/** The failCommand fail point, as mongod's `configureFailPoint` sets it. */
export interface FailPoint {
  /** Commands it applies to. */
  commands: string[];
  /** Matching commands to let through before failing. */
  skip: number;
  /** How many matching commands to fail (Infinity for alwaysOn). */
  times: number;
  code?: number;
  errmsg?: string;
  closeConnection?: boolean;
  errorLabels?: string[];
  appName?: string;
}

/** A server-side cursor: the remaining result documents, already encoded. */
export interface CursorState {
  ns: string;
  docs: Uint8Array[];
  pos: number;
}

/** State shared by all connections of one server. */
export interface ServerState {
  store: Store;
  cursors: Map<number, CursorState>;
  nextCursorId: number;
  failPoint?: FailPoint;
  startedAt: number;
  port: number;
  connections: { current: number; total: number };
}

/** One command invocation. */
export interface CommandContext {
  state: ServerState;
  db: string;
  name: string;
  cmd: Doc;
  body: Uint8Array;
  sequences: Map<string, Uint8Array[]>;
  connectionId: number;
  appName?: string;
}

type Handler = (ctx: CommandContext) => Doc;

const MAX_BATCH_BYTES = 16 * 1024 * 1024;
const DEFAULT_FIRST_BATCH = 101;

/** Fields every command may carry that are not command arguments. */
const GENERIC_FIELDS = new Set([
  '$db',
  'lsid',
  '$clusterTime',
  'writeConcern',
  'readConcern',
  'apiVersion',
  'apiStrict',
  'apiDeprecationErrors',
  'comment',
  'txnNumber',
  'autocommit',
  'startTransaction',
  '$readPreference',
  'maxTimeMS',
]);

function collectionName(ctx: CommandContext): string {
  const v = ctx.cmd[ctx.name];
  if (typeof v !== 'string') {
    throw new CommandError(73, `collection name has invalid type ${v === null ? 'null' : typeof v}`);
  }
  return v;
}

/** A document array argument as raw documents: from a kind-1 section or sliced out of the body. */
function rawArray(ctx: CommandContext, field: string): Uint8Array[] {
  const seq = ctx.sequences.get(field);
  if (seq) return seq;
  const el = rawElements(ctx.body).find((e) => e.name === field);
  if (!el) return [];
  if (el.type !== 0x04) throw new CommandError(14, `BSON field '${ctx.name}.${field}' is the wrong type, expected type 'array'`);
  return rawSubDocuments(ctx.body, el);
}

function requireWritable(coll: Collection | undefined): void {
  if (coll && coll.kind === 'view') {
    throw new CommandError(166, `Namespace ${coll.ns} is a view, not a collection`);
  }
}

function takeBatch(cursor: CursorState, maxCount: number): RawDocument[] {
  const out: RawDocument[] = [];
  let bytes = 0;
  while (cursor.pos < cursor.docs.length && out.length < maxCount) {
    const doc = cursor.docs[cursor.pos]!;
    if (out.length && bytes + doc.length > MAX_BATCH_BYTES) break;
    bytes += doc.length;
    out.push(new RawDocument(doc));
    cursor.pos++;
  }
  return out;
}

/** Open a cursor over encoded result documents and answer with its first batch. */
function cursorReply(
  ctx: CommandContext,
  ns: string,
  docs: Uint8Array[],
  batchSize: unknown,
  singleBatch = false,
): Doc {
  const cursor: CursorState = { ns, docs, pos: 0 };
  const size = typeof batchSize === 'number' && batchSize >= 0 ? batchSize : DEFAULT_FIRST_BATCH;
  const firstBatch = takeBatch(cursor, size);
  let id = 0;
  if (!singleBatch && cursor.pos < docs.length) {
    id = ctx.state.nextCursorId++;
    ctx.state.cursors.set(id, cursor);
  }
  return { cursor: { firstBatch, id: Long.fromNumber(id), ns }, ok: 1 };
}

/** The documents a read sees: a collection's stored documents, or a view's pipeline output. */
/**
 * Documents a filter can match. `{_id: value}` (no operators) is answered from the `_id` map, as
 * mongod answers it from the `_id` index; anything else scans.
 */
function candidates(coll: Collection, filter: unknown): StoredDoc[] {
  if (filter && typeof filter === 'object' && !Array.isArray(filter)) {
    const keys = Object.keys(filter);
    const id = (filter as Doc)._id;
    const operator =
      id !== null &&
      typeof id === 'object' &&
      !isBsonValue(id) &&
      !(id instanceof Date) &&
      Object.keys(id as Doc).some((k) => k.startsWith('$'));
    if (keys.length === 1 && keys[0] === '_id' && id !== undefined && !Array.isArray(id) && !(id instanceof RegExp) && !operator) {
      const doc = coll.docs.get(keyString(id));
      return doc ? [doc] : [];
    }
  }
  return [...coll.docs.values()];
}

function sourceItems(store: Store, db: string, name: string, depth = 0, filter?: unknown): Item[] {
  const coll = store.get(db, name);
  if (!coll) {
    if (name === 'system.views') return viewDefinitions(store, db);
    return [];
  }
  if (coll.kind !== 'view') return filter === undefined ? [...coll.docs.values()] : candidates(coll, filter);
  if (depth > 20) throw new CommandError(2, `View depth too deep or view cycle detected: ${coll.ns}`);
  const opts = decodePlain(coll.options);
  return runPipeline(sourceItems(store, db, String(opts.viewOn), depth + 1), (opts.pipeline as Doc[]) ?? []);
}

/** mongod keeps view definitions in `<db>.system.views`; synthesize its documents. */
function viewDefinitions(store: Store, db: string): Doc[] {
  return [...store.collections(db).values()]
    .filter((c) => c.kind === 'view')
    .map((c) => {
      const o = decodeTyped(c.options);
      return { _id: c.ns, viewOn: o.viewOn, pipeline: o.pipeline ?? [] };
    });
}

function hello(ctx: CommandContext, legacy: boolean): Doc {
  return {
    helloOk: true,
    ...(legacy ? { ismaster: true } : { isWritablePrimary: true }),
    maxBsonObjectSize: 16777216,
    maxMessageSizeBytes: 48000000,
    maxWriteBatchSize: 100000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: ctx.connectionId,
    minWireVersion: 0,
    maxWireVersion: 21,
    readOnly: false,
    ok: 1,
  };
}

const buildInfo: Handler = () => ({
  version: '7.0.0',
  gitVersion: '0000000000000000000000000000000000000000',
  modules: [],
  allocator: 'system',
  javascriptEngine: 'mozjs',
  sysInfo: 'deprecated',
  versionArray: [7, 0, 0, 0],
  bits: 64,
  debug: false,
  maxBsonObjectSize: 16777216,
  storageEngines: ['devnull', 'wiredTiger'],
  ok: 1,
});

function requireAdmin(ctx: CommandContext): void {
  if (ctx.db !== 'admin') throw new CommandError(13, `${ctx.name} may only be run against the admin database.`);
}

function databaseSize(store: Store, db: string): number {
  let size = 0;
  for (const c of store.collections(db).values()) for (const d of c.docs.values()) size += d.raw.length;
  return Math.max(8192, Math.ceil(size / 4096) * 4096);
}

/** mongod always has these; listDatabases shows them. */
const SYSTEM_DATABASES: Record<string, number> = { admin: 40960, config: 12288, local: 40960 };

const listDatabases: Handler = (ctx) => {
  requireAdmin(ctx);
  const names = new Set([...ctx.state.store.databases.keys(), ...Object.keys(SYSTEM_DATABASES)]);
  let dbs = [...names].sort().map((name) => ({
    name,
    sizeOnDisk: SYSTEM_DATABASES[name] ?? databaseSize(ctx.state.store, name),
    empty: false,
  }));
  if (ctx.cmd.filter) {
    const q = new Query(ctx.cmd.filter as Doc);
    dbs = dbs.filter((d) => q.test(d));
  }
  if (ctx.cmd.nameOnly) return { databases: dbs.map((d) => ({ name: d.name })), ok: 1 };
  const totalSize = dbs.reduce((n, d) => n + d.sizeOnDisk, 0);
  return { databases: dbs, totalSize, totalSizeMb: Math.floor(totalSize / 1048576), ok: 1 };
};

function collectionEntry(coll: Collection): Doc {
  if (coll.kind === 'view') {
    return { name: coll.name, type: 'view', options: new RawDocument(coll.options), info: { readOnly: true } };
  }
  const entry: Doc = {
    name: coll.name,
    type: coll.kind,
    options: new RawDocument(coll.options),
    info: { readOnly: false, uuid: coll.uuid },
  };
  if (coll.kind === 'collection') entry.idIndex = { v: 2, key: { _id: 1 }, name: '_id_' };
  return entry;
}

const listCollections: Handler = (ctx) => {
  const colls = [...ctx.state.store.collections(ctx.db).values()];
  const entries = colls.map(collectionEntry);
  if (colls.some((c) => c.kind === 'view')) {
    entries.push({
      name: 'system.views',
      type: 'collection',
      options: {},
      info: { readOnly: false, uuid: new UUID() },
      idIndex: { v: 2, key: { _id: 1 }, name: '_id_' },
    });
  }
  let selected = entries;
  if (ctx.cmd.filter && Object.keys(ctx.cmd.filter as Doc).length) {
    const q = new Query(ctx.cmd.filter as Doc);
    selected = entries.filter((e) => {
      const plain = decodePlain(encodeDocument(e));
      return q.test(plain);
    });
  }
  const docs = selected.map((e) => encodeDocument(ctx.cmd.nameOnly ? { name: e.name, type: e.type } : e));
  const cursorOpts = (ctx.cmd.cursor ?? {}) as Doc;
  return cursorReply(ctx, `${ctx.db}.$cmd.listCollections`, docs, cursorOpts.batchSize);
};

/** The command's arguments other than the command name and generic fields, as raw elements. */
function optionElements(ctx: CommandContext): Uint8Array[] {
  return rawElements(ctx.body)
    .filter((e, i) => i > 0 && !GENERIC_FIELDS.has(e.name))
    .map((e) => elementBytes(ctx.body, e));
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

const create: Handler = (ctx) => {
  const name = collectionName(ctx);
  const options = documentFromElements(optionElements(ctx));
  const existing = ctx.state.store.get(ctx.db, name);
  if (existing) {
    // Since MongoDB 7.0 `create` is idempotent when the options match (SERVER-60064).
    if (sameBytes(existing.options, options)) return { ok: 1 };
    throw new CommandError(48, `Collection ${existing.ns} already exists.`);
  }
  const opts = decodePlain(options);
  if ('viewOn' in opts) {
    if (typeof opts.viewOn !== 'string') throw new CommandError(14, "'viewOn' option must be specified as a string");
    if (opts.pipeline !== undefined && !Array.isArray(opts.pipeline)) {
      throw new CommandError(14, "'pipeline' option must be specified as an array");
    }
  }
  ctx.state.store.add(new Collection(ctx.db, name, options));
  return { ok: 1 };
};

const drop: Handler = (ctx) => {
  const name = collectionName(ctx);
  const coll = ctx.state.store.drop(ctx.db, name);
  // MongoDB 7.0 no longer reports NamespaceNotFound for a missing collection.
  if (!coll) return { ok: 1 };
  return { nIndexesWas: coll.indexes.length, ns: coll.ns, ok: 1 };
};

const dropDatabase: Handler = (ctx) => {
  const existed = ctx.state.store.databases.has(ctx.db);
  ctx.state.store.dropDatabase(ctx.db);
  return existed ? { dropped: ctx.db, ok: 1 } : { ok: 1 };
};

function splitNs(ns: unknown): [string, string] {
  if (typeof ns !== 'string' || !ns.includes('.')) throw new CommandError(73, `Invalid namespace specified '${String(ns)}'`);
  const i = ns.indexOf('.');
  return [ns.slice(0, i), ns.slice(i + 1)];
}

const renameCollection: Handler = (ctx) => {
  requireAdmin(ctx);
  const [fromDb, fromName] = splitNs(ctx.cmd.renameCollection);
  const [toDb, toName] = splitNs(ctx.cmd.to);
  const store = ctx.state.store;
  const source = store.get(fromDb, fromName);
  if (!source) throw new CommandError(26, `Source collection ${fromDb}.${fromName} does not exist`);
  if (fromDb === toDb && fromName === toName) throw new CommandError(20, "Can't rename a collection to itself");
  if (source.kind === 'view') throw new CommandError(166, `cannot rename view: ${source.ns}`);
  if (store.get(toDb, toName)) {
    if (!ctx.cmd.dropTarget) throw new CommandError(48, 'target namespace exists');
    store.drop(toDb, toName);
  }
  store.drop(fromDb, fromName);
  source.db = toDb;
  source.name = toName;
  store.add(source);
  return { ok: 1 };
};

const collMod: Handler = (ctx) => {
  const name = collectionName(ctx);
  const coll = ctx.state.store.get(ctx.db, name);
  if (!coll) throw new CommandError(26, `ns does not exist: ${ctx.db}.${name}`);
  const changes = rawElements(ctx.body).filter((e, i) => i > 0 && !GENERIC_FIELDS.has(e.name));
  const changed = new Map(changes.map((e) => [e.name, elementBytes(ctx.body, e)]));
  const parts: Uint8Array[] = [];
  for (const e of rawElements(coll.options)) {
    parts.push(changed.get(e.name) ?? elementBytes(coll.options, e));
    changed.delete(e.name);
  }
  parts.push(...changed.values());
  coll.options = documentFromElements(parts);
  return { ok: 1 };
};

const createIndexes: Handler = (ctx) => {
  const name = collectionName(ctx);
  const existing = ctx.state.store.get(ctx.db, name);
  requireWritable(existing);
  const specs = rawArray(ctx, 'indexes');
  if (!specs.length) throw new CommandError(2, 'Must specify at least one index to create');
  const { coll, created } = ctx.state.store.getOrCreate(ctx.db, name);
  const before = coll.indexes.length;
  for (const raw of specs) {
    const index = indexFromSpec(raw);
    const sameName = coll.indexes.find((i) => i.name === index.name);
    const sameKey = coll.indexes.find((i) => keyString(i.keyPattern) === keyString(index.keyPattern));
    if (sameName) {
      if (keyString(sameName.keyPattern) !== keyString(index.keyPattern)) {
        throw new CommandError(
          86,
          `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${JSON.stringify(decodePlain(index.spec))}, existing index: ${JSON.stringify(decodePlain(sameName.spec))}`,
        );
      }
      if (sameName.unique !== index.unique || sameName.sparse !== index.sparse) {
        throw new CommandError(85, `An equivalent index already exists with the same name but different options. Requested index: ${JSON.stringify(decodePlain(index.spec))}, existing index: ${JSON.stringify(decodePlain(sameName.spec))}`);
      }
      continue;
    }
    if (sameKey && sameKey.unique === index.unique && !index.partial && !sameKey.partial) {
      throw new CommandError(85, `Index already exists with a different name: ${sameKey.name}`);
    }
    coll.addIndex(index);
  }
  const after = coll.indexes.length;
  if (after === before && !created) {
    return { numIndexesBefore: before, numIndexesAfter: after, note: 'all indexes already exist', ok: 1 };
  }
  return { numIndexesBefore: before, numIndexesAfter: after, createdCollectionAutomatically: created, ok: 1 };
};

const listIndexes: Handler = (ctx) => {
  const name = collectionName(ctx);
  const coll = ctx.state.store.get(ctx.db, name);
  if (!coll) throw new CommandError(26, `ns does not exist: ${ctx.db}.${name}`);
  if (coll.kind === 'view') throw new CommandError(166, `Namespace ${coll.ns} is a view, not a collection`);
  const cursorOpts = (ctx.cmd.cursor ?? {}) as Doc;
  return cursorReply(ctx, `${ctx.db}.$cmd.listIndexes.${name}`, coll.indexes.map((i) => i.spec), cursorOpts.batchSize);
};

const dropIndexes: Handler = (ctx) => {
  const name = collectionName(ctx);
  const found = ctx.state.store.get(ctx.db, name);
  if (!found) throw new CommandError(26, `ns not found ${ctx.db}.${name}`);
  const coll = found;
  const was = coll.indexes.length;
  const target = ctx.cmd.index;
  const drop = (pick: (i: IndexInfo) => boolean, label: string) => {
    const idx = coll.indexes.find(pick);
    if (!idx) throw new CommandError(27, `index not found with name [${label}]`);
    if (idx.name === '_id_') throw new CommandError(72, 'cannot drop _id index');
    coll.indexes = coll.indexes.filter((i) => i !== idx);
  };
  if (target === '*') coll.indexes = coll.indexes.filter((i) => i.name === '_id_');
  else if (typeof target === 'string') drop((i) => i.name === target, target);
  else if (Array.isArray(target)) for (const t of target) drop((i) => i.name === t, String(t));
  else if (target && typeof target === 'object') {
    const k = keyString(decodeTyped(BSON.serialize({ k: target })).k);
    drop((i) => keyString(i.keyPattern) === k, JSON.stringify(target));
  } else throw new CommandError(2, "BSON field 'dropIndexes.index' is missing but a required field");
  return { nIndexesWas: was, ok: 1 };
};

function writeError(index: number, e: unknown): Doc {
  if (e instanceof CommandError) {
    const { keyPattern, keyValue } = e.extra;
    return { index, code: e.code, ...(keyPattern ? { keyPattern, keyValue } : {}), errmsg: e.message };
  }
  return { index, code: 1, errmsg: (e as Error).message };
}

const insert: Handler = (ctx) => {
  const name = collectionName(ctx);
  requireWritable(ctx.state.store.get(ctx.db, name));
  const docs = rawArray(ctx, 'documents');
  const ordered = ctx.cmd.ordered !== false;
  const { coll } = ctx.state.store.getOrCreate(ctx.db, name);
  let n = 0;
  const writeErrors: Doc[] = [];
  for (let i = 0; i < docs.length; i++) {
    const raw = docs[i]!;
    try {
      coll.insert(withIdFirst(raw));
      n++;
    } catch (e) {
      writeErrors.push(writeError(i, e));
      if (ordered) break;
    }
  }
  return writeErrors.length ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
};

/** 1 or -1 when `sort` is exactly `{_id: 1}` or `{_id: -1}` (what the `_id` index answers), else 0. */
function idSortDirection(sort: unknown): 1 | -1 | 0 {
  if (!sort || typeof sort !== 'object') return 0;
  const keys = Object.keys(sort);
  if (keys.length !== 1 || keys[0] !== '_id') return 0;
  const dir = (sort as Doc)._id;
  if (dir === 1 || dir === 'asc' || dir === 'ascending') return 1;
  if (dir === -1 || dir === 'desc' || dir === 'descending') return -1;
  return 0;
}

/**
 * The documents of a find before skip/limit/projection. A sort on `_id` alone walks the
 * collection's `_id` index (as mongod does) instead of sorting per query; `_id`s are unique, so
 * the order is the same a sort would give.
 */
function findItems(ctx: CommandContext, name: string): Item[] {
  const { cmd } = ctx;
  const coll = ctx.state.store.get(ctx.db, name);
  const direction = idSortDirection(cmd.sort);
  if (coll && coll.kind !== 'view' && direction !== 0) {
    let ordered: Item[];
    if (isEmptyFilter(cmd.filter)) ordered = coll.byId();
    else {
      // A point lookup ({_id: value}) yields at most one document; a scan filters the index order.
      const found = candidates(coll, cmd.filter);
      ordered = (found.length <= 1 ? found : coll.byId()).filter(matcher(cmd.filter));
    }
    return direction === 1 ? ordered : ordered.reverse();
  }
  const items = sourceItems(ctx.state.store, ctx.db, name, 0, cmd.filter).filter(matcher(cmd.filter));
  return sortItems(items, cmd.sort);
}

function isEmptyFilter(filter: unknown): boolean {
  return !filter || (typeof filter === 'object' && Object.keys(filter).length === 0);
}

const find: Handler = (ctx) => {
  const name = collectionName(ctx);
  const { cmd } = ctx;
  let items = findItems(ctx, name);
  const skip = typeof cmd.skip === 'number' ? cmd.skip : 0;
  const rawLimit = typeof cmd.limit === 'number' ? cmd.limit : 0;
  const limit = Math.abs(rawLimit);
  items = items.slice(skip, limit ? skip + limit : undefined);
  const docs = items.map((x) => itemBytes(projectItem(x, cmd.projection)));
  const singleBatch = cmd.singleBatch === true || rawLimit < 0;
  return cursorReply(ctx, `${ctx.db}.${name}`, docs, cmd.batchSize, singleBatch);
};

const getMore: Handler = (ctx) => {
  const raw = ctx.cmd.getMore;
  const id = raw instanceof Long ? raw.toNumber() : Number(raw);
  const cursor = ctx.state.cursors.get(id);
  if (!cursor) throw new CommandError(43, `cursor id ${id} not found`);
  const bs = ctx.cmd.batchSize;
  const batch = takeBatch(cursor, typeof bs === 'number' && bs > 0 ? bs : Infinity);
  const done = cursor.pos >= cursor.docs.length;
  if (done) ctx.state.cursors.delete(id);
  return { cursor: { nextBatch: batch, id: Long.fromNumber(done ? 0 : id), ns: cursor.ns }, ok: 1 };
};

const killCursors: Handler = (ctx) => {
  const killed: Long[] = [];
  const notFound: Long[] = [];
  for (const c of (ctx.cmd.cursors as unknown[]) ?? []) {
    const id = c instanceof Long ? c.toNumber() : Number(c);
    (ctx.state.cursors.delete(id) ? killed : notFound).push(Long.fromNumber(id));
  }
  return { cursorsKilled: killed, cursorsNotFound: notFound, cursorsAlive: [], cursorsUnknown: [], ok: 1 };
};

/** The new bytes of `doc` after applying `u` (replacement, operators or pipeline). */
function updatedBytes(doc: StoredDoc, u: unknown, uRaw: Uint8Array | undefined): Uint8Array {
  if (Array.isArray(u)) return applyPipeline(doc.plain, u as Doc[]);
  const uDoc = u as Doc;
  if (isReplacement(uDoc)) return replacementBytes(doc.raw, doc.typed._id, uRaw ?? BSON.serialize(uDoc));
  const typed = decodeTyped(doc.raw);
  const touched = applyOperators(typed, uDoc, false);
  if (keyString(typed._id) !== doc.idKey) {
    throw new CommandError(66, "Performing an update on the path '_id' would modify the immutable field '_id'");
  }
  return reencode(doc.raw, typed, touched);
}

function rawField(raw: Uint8Array, field: string): Uint8Array | undefined {
  const el = rawElements(raw).find((e) => e.name === field);
  return el && el.type === 0x03 ? raw.subarray(el.valueStart, el.end) : undefined;
}

const update: Handler = (ctx) => {
  const name = collectionName(ctx);
  requireWritable(ctx.state.store.get(ctx.db, name));
  const statements = rawArray(ctx, 'updates');
  const ordered = ctx.cmd.ordered !== false;
  let n = 0;
  let nModified = 0;
  const upserted: Doc[] = [];
  const writeErrors: Doc[] = [];
  for (let i = 0; i < statements.length; i++) {
    const raw = statements[i]!;
    try {
      const typed = decodeTyped(raw);
      const plain = decodePlain(raw);
      const uRaw = rawField(raw, 'u');
      if (typed.multi && !Array.isArray(typed.u) && isReplacement(typed.u as Doc)) {
        throw new CommandError(9, 'multi update is not supported for replacement-style update');
      }
      const coll = ctx.state.store.get(ctx.db, name);
      let matches = coll ? candidates(coll, plain.q).filter(matcher(plain.q)) : [];
      if (!typed.multi) matches = sortItems(matches, plain.sort).slice(0, 1);
      if (!matches.length) {
        if (typed.upsert) {
          const target = ctx.state.store.getOrCreate(ctx.db, name).coll;
          const doc = target.insert(upsertDocument((typed.q ?? {}) as Doc, typed.u as Doc, uRaw));
          upserted.push({ index: i, _id: doc.typed._id });
          n++;
        }
        continue;
      }
      for (const doc of matches) {
        const next = updatedBytes(doc, typed.u, uRaw);
        n++;
        if (!sameBytes(next, doc.raw)) {
          coll!.replace(doc, next);
          nModified++;
        }
      }
    } catch (e) {
      writeErrors.push(writeError(i, e));
      if (ordered) break;
    }
  }
  const reply: Doc = { n };
  if (upserted.length) reply.upserted = upserted;
  reply.nModified = nModified;
  if (writeErrors.length) reply.writeErrors = writeErrors;
  reply.ok = 1;
  return reply;
};

const del: Handler = (ctx) => {
  const name = collectionName(ctx);
  requireWritable(ctx.state.store.get(ctx.db, name));
  const statements = rawArray(ctx, 'deletes');
  const ordered = ctx.cmd.ordered !== false;
  let n = 0;
  const writeErrors: Doc[] = [];
  for (let i = 0; i < statements.length; i++) {
    try {
      const plain = decodePlain(statements[i]!);
      const coll = ctx.state.store.get(ctx.db, name);
      if (!coll) continue;
      let matches = candidates(coll, plain.q).filter(matcher(plain.q));
      if (Number(plain.limit) === 1) matches = matches.slice(0, 1);
      for (const doc of matches) coll.remove(doc);
      n += matches.length;
    } catch (e) {
      writeErrors.push(writeError(i, e));
      if (ordered) break;
    }
  }
  return writeErrors.length ? { n, writeErrors, ok: 1 } : { n, ok: 1 };
};

const count: Handler = (ctx) => {
  const name = collectionName(ctx);
  let items = sourceItems(ctx.state.store, ctx.db, name).filter(matcher(ctx.cmd.query));
  const skip = Number(ctx.cmd.skip ?? 0);
  const limit = Math.abs(Number(ctx.cmd.limit ?? 0));
  items = items.slice(skip, limit ? skip + limit : undefined);
  return { n: items.length, ok: 1 };
};

const aggregateCmd: Handler = (ctx) => {
  const { cmd } = ctx;
  if (!cmd.cursor && !cmd.explain) {
    throw new CommandError(9, "The 'cursor' option is required, except for aggregate with the explain argument");
  }
  if (!Array.isArray(cmd.pipeline)) throw new CommandError(14, "'pipeline' option must be specified as an array");
  let pipeline = cmd.pipeline as Doc[];
  let source: Item[];
  let ns: string;
  if (cmd.aggregate === 1) {
    const first = pipeline[0] ?? {};
    if (!('$documents' in first)) {
      throw new CommandError(73, `{aggregate: 1} is not valid for '${Object.keys(first)[0] ?? ''}'; a collection is required.`);
    }
    source = (first.$documents as Doc[]) ?? [];
    pipeline = pipeline.slice(1);
    ns = `${ctx.db}.$cmd.aggregate`;
  } else {
    const name = collectionName(ctx);
    if (pipeline.some((s) => '$out' in s || '$merge' in s)) {
      throw new CommandError(2, 'the wire test server does not support $out or $merge');
    }
    source = sourceItems(ctx.state.store, ctx.db, name);
    ns = `${ctx.db}.${name}`;
  }
  const docs = runPipeline(source, pipeline).map(itemBytes);
  const cursorOpts = (cmd.cursor ?? {}) as Doc;
  return cursorReply(ctx, ns, docs, cursorOpts.batchSize);
};

const distinct: Handler = (ctx) => {
  const name = collectionName(ctx);
  const key = ctx.cmd.key;
  if (typeof key !== 'string') throw new CommandError(14, "BSON field 'distinct.key' is the wrong type, expected type 'string'");
  const seen = new Map<string, unknown>();
  for (const item of sourceItems(ctx.state.store, ctx.db, name).filter(matcher(ctx.cmd.query))) {
    const typed = 'typed' in item ? (item as StoredDoc).typed : (item as Doc);
    const v = getPath(typed, key);
    if (v === MISSING) continue;
    for (const x of Array.isArray(v) ? v : [v]) if (!seen.has(keyString(x))) seen.set(keyString(x), x);
  }
  const values = [...seen.values()].sort(compareBsonValues);
  return { values, ok: 1 };
};

const findAndModify: Handler = (ctx) => {
  const name = collectionName(ctx);
  const store = ctx.state.store;
  requireWritable(store.get(ctx.db, name));
  const { cmd } = ctx;
  const typedCmd = decodeTyped(ctx.body);
  const coll = store.get(ctx.db, name);
  const candidates = coll ? [...coll.docs.values()].filter(matcher(cmd.query)) : [];
  const doc = sortItems(candidates, cmd.sort)[0];
  const shape = (x: StoredDoc | undefined) => (x ? new RawDocument(itemBytes(projectItem(x, cmd.fields))) : null);
  if (cmd.remove) {
    if (doc) coll!.remove(doc);
    return { lastErrorObject: { n: doc ? 1 : 0 }, value: shape(doc), ok: 1 };
  }
  if (cmd.update === undefined) throw new CommandError(9, 'Either an update or remove=true must be specified');
  const uRaw = rawField(ctx.body, 'update');
  if (doc) {
    const next = coll!.replace(doc, updatedBytes(doc, typedCmd.update, uRaw));
    return { lastErrorObject: { n: 1, updatedExisting: true }, value: shape(cmd.new ? next : doc), ok: 1 };
  }
  if (cmd.upsert) {
    const target = store.getOrCreate(ctx.db, name).coll;
    const inserted = target.insert(upsertDocument((typedCmd.query ?? {}) as Doc, typedCmd.update as Doc, uRaw));
    return {
      lastErrorObject: { n: 1, updatedExisting: false, upserted: inserted.typed._id },
      value: shape(cmd.new ? inserted : undefined),
      ok: 1,
    };
  }
  return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
};

const dbHash: Handler = (ctx) => {
  const started = Date.now();
  const wanted = Array.isArray(ctx.cmd.collections) ? new Set(ctx.cmd.collections as string[]) : undefined;
  const colls = [...ctx.state.store.collections(ctx.db).values()]
    .filter((c) => c.kind !== 'view' && !c.name.startsWith('system.') && (!wanted || wanted.has(c.name)))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const collections: Doc = {};
  const uuids: Doc = {};
  const all = createHash('md5');
  for (const c of colls) {
    // Hash in _id order so the same data gives the same hash whatever the insertion order.
    const docs = [...c.docs.values()].sort((a, b) => compareBsonValues(a.id, b.id));
    const h = createHash('md5');
    for (const d of docs) h.update(d.raw);
    const hex = h.digest('hex');
    collections[c.name] = hex;
    uuids[c.name] = c.uuid;
    all.update(c.name).update(hex);
  }
  return {
    host: `127.0.0.1:${ctx.state.port}`,
    collections,
    capped: [],
    uuids,
    md5: all.digest('hex'),
    timeMillis: Date.now() - started,
    ok: 1,
  };
};

const dbStats: Handler = (ctx) => {
  const colls = [...ctx.state.store.collections(ctx.db).values()];
  let objects = 0;
  let dataSize = 0;
  let indexes = 0;
  for (const c of colls) {
    indexes += c.indexes.length;
    for (const d of c.docs.values()) {
      objects++;
      dataSize += d.raw.length;
    }
  }
  return {
    db: ctx.db,
    collections: colls.filter((c) => c.kind !== 'view').length,
    views: colls.filter((c) => c.kind === 'view').length,
    objects,
    avgObjSize: objects ? dataSize / objects : 0,
    dataSize,
    storageSize: dataSize,
    indexes,
    indexSize: 0,
    totalSize: dataSize,
    scaleFactor: 1,
    ok: 1,
  };
};

const configureFailPoint: Handler = (ctx) => {
  requireAdmin(ctx);
  if (ctx.cmd.configureFailPoint !== 'failCommand') {
    throw new CommandError(2, `Cannot find failpoint '${String(ctx.cmd.configureFailPoint)}'`);
  }
  const mode = ctx.cmd.mode;
  const data = (ctx.cmd.data ?? {}) as Doc;
  if (mode === 'off') {
    ctx.state.failPoint = undefined;
    return { count: 0, ok: 1 };
  }
  let times = Infinity;
  let skip = 0;
  if (mode && typeof mode === 'object') {
    if ('times' in (mode as Doc)) times = Number((mode as Doc).times);
    if ('skip' in (mode as Doc)) skip = Number((mode as Doc).skip);
  } else if (mode !== 'alwaysOn') {
    throw new CommandError(2, `unknown failpoint mode: ${String(mode)}`);
  }
  ctx.state.failPoint = {
    commands: (data.failCommands as string[]) ?? [],
    skip,
    times,
    code: typeof data.errorCode === 'number' ? data.errorCode : undefined,
    closeConnection: data.closeConnection === true,
    errorLabels: data.errorLabels as string[] | undefined,
    appName: typeof data.appName === 'string' ? data.appName : undefined,
  };
  return { count: 0, ok: 1 };
};

const getParameter: Handler = (ctx) => {
  const known: Doc = {
    featureCompatibilityVersion: { version: '7.0' },
    authenticationMechanisms: ['SCRAM-SHA-1', 'SCRAM-SHA-256'],
    maxBSONDepth: 100,
    transactionLifetimeLimitSeconds: 60,
  };
  const all = ctx.cmd.getParameter === '*';
  const out: Doc = {};
  for (const k of Object.keys(all ? known : ctx.cmd)) if (k in known) out[k] = known[k];
  if (!Object.keys(out).length) throw new CommandError(72, 'no option found to get');
  return { ...out, ok: 1 };
};

const hostInfo: Handler = () => ({
  system: {
    currentTime: new Date(),
    hostname: 'localhost',
    cpuAddrSize: 64,
    memSizeMB: Math.round(os.totalmem() / 1048576),
    numCores: os.cpus().length,
    cpuArch: os.arch(),
    numaEnabled: false,
  },
  os: { type: os.type(), name: os.type(), version: os.release() },
  extra: {},
  ok: 1,
});

const serverStatus: Handler = (ctx) => {
  const uptimeMillis = Date.now() - ctx.state.startedAt;
  return {
    host: `127.0.0.1:${ctx.state.port}`,
    version: '7.0.0',
    process: 'mongod',
    pid: Long.fromNumber(process.pid),
    uptime: Math.floor(uptimeMillis / 1000),
    uptimeMillis: Long.fromNumber(uptimeMillis),
    uptimeEstimate: Long.fromNumber(Math.floor(uptimeMillis / 1000)),
    localTime: new Date(),
    connections: {
      current: ctx.state.connections.current,
      available: 1000000,
      totalCreated: ctx.state.connections.total,
    },
    ok: 1,
  };
};

/**
 * Authentication: PLAIN (the LDAP mechanism, one round trip) accepts any user and password, so
 * tests can connect with credentials in the URI and check they never reach a snapshot. SCRAM is
 * refused the way mongod refuses an unknown user.
 */
const saslStart: Handler = (ctx) => {
  if (ctx.cmd.mechanism === 'PLAIN') {
    return { conversationId: 1, done: true, payload: new Binary(Buffer.alloc(0)), ok: 1 };
  }
  throw new CommandError(18, 'Authentication failed.');
};

/** Command name -> handler. Keys are matched exactly, as mongod does. */
export const COMMANDS: Record<string, Handler> = {
  hello: (ctx) => hello(ctx, false),
  isMaster: (ctx) => hello(ctx, true),
  ismaster: (ctx) => hello(ctx, true),
  buildInfo,
  buildinfo: buildInfo,
  ping: () => ({ ok: 1 }),
  endSessions: () => ({ ok: 1 }),
  killSessions: () => ({ ok: 1 }),
  getParameter,
  hostInfo,
  serverStatus,
  whatsmyuri: () => ({ you: '127.0.0.1', ok: 1 }),
  connectionStatus: () => ({ authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] }, ok: 1 }),
  listDatabases,
  listCollections,
  create,
  drop,
  dropDatabase,
  renameCollection,
  collMod,
  createIndexes,
  listIndexes,
  dropIndexes,
  insert,
  find,
  getMore,
  killCursors,
  update,
  delete: del,
  count,
  aggregate: aggregateCmd,
  distinct,
  findAndModify,
  findandmodify: findAndModify,
  dbHash,
  dbStats,
  configureFailPoint,
  saslStart,
};

/** Checks mongod makes before running any command on a standalone. */
export function checkStandaloneLimits(cmd: Doc): void {
  if (cmd.txnNumber !== undefined || cmd.startTransaction !== undefined || cmd.autocommit !== undefined) {
    throw new CommandError(20, 'Transaction numbers are only allowed on a replica set member or mongos');
  }
  const rc = cmd.readConcern as Doc | undefined;
  if (rc && (rc.level === 'snapshot' || rc.atClusterTime !== undefined)) {
    throw new CommandError(123, 'node needs to be a replica set member to use readConcern: snapshot');
  }
}

/** Re-export for the server: encode `doc` for a reply, keeping raw documents verbatim. */
export { encodeDocument, encodeElement };
