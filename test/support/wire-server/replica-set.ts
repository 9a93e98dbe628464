/**
 * Replica-set mode of the wire test server: a single-member replica set (primary) with an
 * in-memory oplog of the server's own writes, cluster times on every reply, snapshot reads that
 * report `atClusterTime`, and change streams (`aggregate` with `$changeStream`, `getMore`
 * returning events and a postBatchResumeToken). Enough for dbsnap's "nothing changed since the
 * last snapshot" detection to run end to end without a mongod.
 *
 * What it is not: there is no MVCC (a snapshot read sees the current data), no transactions, and
 * update/delete events carry no documentKey. As on a real server, DDL other than drop, rename and
 * dropDatabase (create, createIndexes, collMod, dropIndexes) is not shown by a change stream that
 * did not ask for `showExpandedEvents`.
 *
 * A `startAtOperationTime` older than the oplog's first entry is accepted silently here (no
 * ChangeStreamHistoryLost): a real server does not always refuse it either (SERVER-50903), which
 * is why dbsnap checks the oplog's first entry before trusting a stream.
 */
import { Binary, Long, ObjectId, Timestamp } from 'bson';
import { RawDocument, rawElements, rawSubDocuments } from './bson-raw.js';
import type { CommandContext, ServerState } from './commands.js';
import { CommandError } from './errors.js';
import { idOf } from './store.js';
import type { Doc } from './values.js';

export type OplogOperation = 'insert' | 'update' | 'delete' | 'drop' | 'rename' | 'dropDatabase' | 'noop';

/** One write as the oplog keeps it. */
export interface OplogEntry {
  ts: Timestamp;
  op: OplogOperation;
  wall: Date;
  db: string;
  coll?: string;
  /** rename: the new namespace. */
  to?: { db: string; coll: string };
  documentKey?: Doc;
  fullDocument?: Uint8Array;
  /** noop: why it was written. */
  msg?: string;
}

interface ChangeStreamCursor {
  db: string;
  /** A collection-level stream; absent for a database-level one. */
  coll?: string;
  /** Events strictly after this time are returned next. */
  after: Timestamp;
  /** Set once an invalidate was returned: the cursor then ends. */
  invalidated: boolean;
}

type Run = (ctx: CommandContext) => Doc;

/** Longest a getMore on a change stream waits for a write before answering with an empty batch. */
const MAX_AWAIT_MS = 1000;

/** Commands whose successful replies say which writes happened. */
const WRITE_COMMANDS = new Set(['insert', 'update', 'delete', 'findAndModify', 'findandmodify', 'drop', 'dropDatabase', 'renameCollection']);

export class ReplicaSet {
  /** The oplog, oldest entry first. */
  oplog: OplogEntry[] = [];
  /** Every command run, in order (name, database, collection), for assertions such as "no find on orders". */
  readonly commandLog: { name: string; db: string; coll?: string; limit?: number }[] = [];
  private last = new Timestamp({ t: 0, i: 0 });
  private readonly streams = new Map<number, ChangeStreamCursor>();
  private waiters = new Set<() => void>();

  constructor(
    readonly setName: string,
    private readonly state: ServerState,
  ) {
    this.append({ op: 'noop', db: '', msg: 'initiating set' });
  }

  /** The latest cluster time (the last oplog entry's). */
  get clusterTime(): Timestamp {
    return this.last;
  }

  /** The oplog's first entry: how far back a change stream can see. */
  get oplogStart(): Timestamp {
    return this.oplog[0]!.ts;
  }

  /**
   * Drops every entry, as a capped oplog does when it wraps: the first entry becomes a no-op
   * written now, so a change stream can no longer see anything before this moment.
   */
  truncateOplog(): void {
    this.oplog = [];
    this.append({ op: 'noop', db: '', msg: 'oplog truncated' });
  }

  /** Runs a command as a replica-set primary would; may wait (a getMore on a change stream). */
  execute(ctx: CommandContext, run: Run): Doc | Promise<Doc> {
    const named = ctx.name === 'getMore' ? ctx.cmd.collection : ctx.cmd[ctx.name];
    const coll = typeof named === 'string' ? named : undefined;
    const limit = typeof ctx.cmd.limit === 'number' ? ctx.cmd.limit : undefined;
    this.commandLog.push({ name: ctx.name, db: ctx.db, ...(coll ? { coll } : {}), ...(limit !== undefined ? { limit } : {}) });
    let reply: Doc | Promise<Doc>;
    try {
      if (ctx.cmd.startTransaction !== undefined || ctx.cmd.autocommit !== undefined) {
        throw new CommandError(20, 'the wire test server has no transactions');
      }
      reply = this.dispatch(ctx, run);
    } catch (e) {
      if (!(e instanceof CommandError)) throw e;
      reply = e.toReply();
    }
    return reply instanceof Promise ? reply.then((r) => this.stamp(r)) : this.stamp(reply);
  }

  private dispatch(ctx: CommandContext, run: Run): Doc | Promise<Doc> {
    switch (ctx.name) {
      case 'hello':
      case 'isMaster':
      case 'ismaster':
        return this.hello(run(ctx));
      case 'find':
        if (ctx.db === 'local' && ctx.cmd.find === 'oplog.rs') return this.findOplog(ctx);
        return this.atClusterTime(ctx, run(ctx));
      case 'aggregate': {
        const first = (Array.isArray(ctx.cmd.pipeline) ? (ctx.cmd.pipeline as Doc[])[0] : undefined) ?? {};
        if ('$changeStream' in first) return this.openStream(ctx, first.$changeStream as Doc);
        return this.atClusterTime(ctx, run(ctx));
      }
      case 'getMore': {
        const id = Number(ctx.cmd.getMore instanceof Long ? ctx.cmd.getMore.toNumber() : ctx.cmd.getMore);
        const stream = this.streams.get(id);
        return stream ? this.streamGetMore(ctx, id, stream) : run(ctx);
      }
      case 'killCursors':
        for (const c of (ctx.cmd.cursors as unknown[]) ?? []) this.streams.delete(Number(c instanceof Long ? c.toNumber() : c));
        return run(ctx);
      case 'serverStatus': {
        const r = run(ctx);
        r.repl = { setName: this.setName, isWritablePrimary: true, primary: this.host, me: this.host };
        if (ctx.cmd.oplog) r.oplog = { latestOptime: this.last, earliestOptime: this.oplogStart };
        return r;
      }
      case 'replSetGetStatus':
        return this.replSetGetStatus();
      default: {
        const r = run(ctx);
        if (r.ok === 1 && WRITE_COMMANDS.has(ctx.name)) this.recordWrites(ctx, r);
        return r;
      }
    }
  }

  private get host(): string {
    return `127.0.0.1:${this.state.port}`;
  }

  private hello(r: Doc): Doc {
    if (r.ok !== 1) return r;
    const opTime = { ts: this.last, t: Long.fromNumber(1) };
    const wall = new Date(this.last.t * 1000);
    return {
      ...r,
      hosts: [this.host],
      setName: this.setName,
      setVersion: 1,
      secondary: false,
      primary: this.host,
      me: this.host,
      electionId: new ObjectId('7fffffff0000000000000001'),
      lastWrite: { opTime, lastWriteDate: wall, majorityOpTime: opTime, majorityWriteDate: wall },
    };
  }

  /** Every reply of a replica-set member carries the cluster time and the operation time. */
  private stamp(r: Doc): Doc {
    r.operationTime = this.last;
    r.$clusterTime = { clusterTime: this.last, signature: { hash: new Binary(Buffer.alloc(20)), keyId: Long.fromNumber(0) } };
    return r;
  }

  /** A snapshot read reports the time it read at (the driver pins the session to it). */
  private atClusterTime(ctx: CommandContext, r: Doc): Doc {
    const rc = ctx.cmd.readConcern as Doc | undefined;
    if (r.ok === 1 && rc?.level === 'snapshot' && r.cursor) {
      (r.cursor as Doc).atClusterTime = rc.atClusterTime instanceof Timestamp ? rc.atClusterTime : this.last;
    }
    return r;
  }

  private replSetGetStatus(): Doc {
    const opTime = { ts: this.last, t: Long.fromNumber(1) };
    return {
      set: this.setName,
      date: new Date(),
      myState: 1,
      term: Long.fromNumber(1),
      optimes: { lastCommittedOpTime: opTime, appliedOpTime: opTime, durableOpTime: opTime },
      members: [{ _id: 0, name: this.host, health: 1, state: 1, stateStr: 'PRIMARY', optime: opTime, self: true }],
      ok: 1,
    };
  }

  /** `local.oplog.rs` in `$natural` order (or reversed with `sort: {$natural: -1}`), honouring `limit`. */
  private findOplog(ctx: CommandContext): Doc {
    const sort = ctx.cmd.sort as Doc | undefined;
    let docs = this.oplog.map((e) => ({
      ts: e.ts,
      t: Long.fromNumber(1),
      op: e.op === 'noop' ? 'n' : e.op === 'insert' ? 'i' : e.op === 'update' ? 'u' : e.op === 'delete' ? 'd' : 'c',
      ns: e.coll ? `${e.db}.${e.coll}` : e.db ? `${e.db}.$cmd` : '',
      wall: e.wall,
      o: e.msg ? { msg: e.msg } : (e.documentKey ?? {}),
    }));
    if (sort && Number(sort.$natural) < 0) docs = docs.reverse();
    const limit = Math.abs(Number(ctx.cmd.limit ?? 0));
    if (limit) docs = docs.slice(0, limit);
    return { cursor: { firstBatch: docs, id: Long.fromNumber(0), ns: 'local.oplog.rs' }, ok: 1 };
  }

  private openStream(ctx: CommandContext, spec: Doc): Doc {
    const db = ctx.db;
    const coll = typeof ctx.cmd.aggregate === 'string' ? ctx.cmd.aggregate : undefined;
    let after: Timestamp;
    const token = (spec.resumeAfter ?? spec.startAfter) as Doc | undefined;
    if (spec.startAtOperationTime instanceof Timestamp) {
      const s = spec.startAtOperationTime;
      // Inclusive: events at exactly that time are returned.
      after = s.i > 0 ? new Timestamp({ t: s.t, i: s.i - 1 }) : new Timestamp({ t: Math.max(0, s.t - 1), i: 0xffffffff });
    } else if (token) {
      const ts = tokenTime(token);
      if (!ts) throw new CommandError(9, 'KeyString format error: the resume token is not one this server wrote');
      if (compare(ts, this.oplogStart) < 0) {
        throw new CommandError(286, 'Resume of change stream was not possible, as the resume point may no longer be in the oplog.');
      }
      after = ts;
    } else {
      after = this.last;
    }
    const id = this.state.nextCursorId++;
    this.streams.set(id, { db, coll, after, invalidated: false });
    // An empty first batch; its postBatchResumeToken is where the stream stands (not past events still to come).
    const at = compare(after, this.last) >= 0 ? this.last : after;
    return {
      cursor: { firstBatch: [], postBatchResumeToken: resumeToken(at), id: Long.fromNumber(id), ns: `${db}.${coll ?? '$cmd.aggregate'}` },
      ok: 1,
    };
  }

  private streamGetMore(ctx: CommandContext, id: number, stream: ChangeStreamCursor): Doc | Promise<Doc> {
    const ns = `${stream.db}.${stream.coll ?? '$cmd.aggregate'}`;
    const answer = (): Doc => {
      const limit = typeof ctx.cmd.batchSize === 'number' && ctx.cmd.batchSize > 0 ? ctx.cmd.batchSize : Infinity;
      const batch: Doc[] = [];
      for (const e of this.oplog) {
        if (batch.length >= limit || stream.invalidated) break;
        if (compare(e.ts, stream.after) <= 0) continue;
        stream.after = e.ts;
        const events = this.eventsFor(e, stream);
        batch.push(...events);
      }
      const done = stream.invalidated;
      if (done) this.streams.delete(id);
      // How far the stream has read: the last event, or the latest oplog entry when it is caught up.
      const caughtUp = compare(stream.after, this.last) >= 0;
      const pbrt = caughtUp ? resumeToken(this.last) : resumeToken(stream.after);
      return { cursor: { nextBatch: batch, postBatchResumeToken: pbrt, id: Long.fromNumber(done ? 0 : id), ns }, ok: 1 };
    };
    const first = answer();
    const wait = Math.min(MAX_AWAIT_MS, Number(ctx.cmd.maxTimeMS ?? 0));
    if ((first.cursor as Doc & { nextBatch: Doc[] }).nextBatch.length || !wait || stream.invalidated) return first;
    // An empty batch: wait (up to maxTimeMS, as awaitData does) for a write, then answer again.
    return new Promise<Doc>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve(this.streams.has(id) ? answer() : first);
      };
      const timer = setTimeout(done, wait);
      this.waiters.add(done);
    });
  }

  /** The change events one oplog entry produces for a stream (none when it is not in scope). */
  private eventsFor(e: OplogEntry, stream: ChangeStreamCursor): Doc[] {
    if (e.op === 'noop' || e.db !== stream.db) return [];
    if (stream.coll && e.coll !== stream.coll) return [];
    const base: Doc = { _id: resumeToken(e.ts), operationType: e.op, clusterTime: e.ts, wallTime: e.wall };
    if (e.op === 'dropDatabase') {
      stream.invalidated = true;
      return [
        { ...base, ns: { db: e.db } },
        { _id: resumeToken(e.ts, 1), operationType: 'invalidate', clusterTime: e.ts, wallTime: e.wall },
      ];
    }
    const ev: Doc = { ...base, ns: { db: e.db, coll: e.coll } };
    if (e.documentKey) ev.documentKey = e.documentKey;
    if (e.fullDocument) ev.fullDocument = new RawDocument(e.fullDocument);
    if (e.to) ev.to = e.to;
    return [ev];
  }

  private append(e: Omit<OplogEntry, 'ts' | 'wall'>): void {
    const t = Math.floor(Date.now() / 1000);
    this.last = t > this.last.t ? new Timestamp({ t, i: 1 }) : new Timestamp({ t: this.last.t, i: this.last.i + 1 });
    this.oplog.push({ ...e, ts: this.last, wall: new Date() });
    for (const w of [...this.waiters]) w();
  }

  /** Writes a successful write command made, one oplog entry per document (as mongod logs them). */
  private recordWrites(ctx: CommandContext, r: Doc): void {
    const db = ctx.db;
    const coll = ctx.cmd[ctx.name] as string;
    const n = Number(r.n ?? 0);
    switch (ctx.name) {
      case 'insert': {
        const el = rawElements(ctx.body).find((x) => x.name === 'documents');
        const docs = ctx.sequences.get('documents') ?? (el ? rawSubDocuments(ctx.body, el) : []);
        for (let k = 0; k < n; k++) {
          const raw = docs[k];
          this.append({ op: 'insert', db, coll, ...(raw ? { documentKey: { _id: idOf(raw) }, fullDocument: raw } : {}) });
        }
        return;
      }
      case 'update':
        for (let k = 0; k < Number(r.nModified ?? 0); k++) this.append({ op: 'update', db, coll });
        for (const u of (r.upserted as Doc[]) ?? []) this.append({ op: 'insert', db, coll, documentKey: { _id: u._id } });
        return;
      case 'delete':
        for (let k = 0; k < n; k++) this.append({ op: 'delete', db, coll });
        return;
      case 'findAndModify':
      case 'findandmodify': {
        const le = (r.lastErrorObject ?? {}) as Doc;
        if (!Number(le.n)) return;
        this.append({ op: ctx.cmd.remove ? 'delete' : le.updatedExisting ? 'update' : 'insert', db, coll });
        return;
      }
      case 'drop':
        if (r.ns) this.append({ op: 'drop', db, coll });
        return;
      case 'dropDatabase':
        if (r.dropped) this.append({ op: 'dropDatabase', db });
        return;
      case 'renameCollection': {
        const [fromDb, fromColl] = splitNs(String(ctx.cmd.renameCollection));
        const [toDb, toColl] = splitNs(String(ctx.cmd.to));
        this.append({ op: 'rename', db: fromDb, coll: fromColl, to: { db: toDb, coll: toColl } });
      }
    }
  }
}

function compare(a: Timestamp, b: Timestamp): number {
  return a.t - b.t || a.i - b.i;
}

function splitNs(ns: string): [string, string] {
  const i = ns.indexOf('.');
  return [ns.slice(0, i), ns.slice(i + 1)];
}

/**
 * A resume token as mongod writes them: `_data` is a hex KeyString whose first value is the
 * event's cluster time (type byte 0x82, then seconds and ordinal, big-endian).
 */
export function resumeToken(ts: Timestamp, extra = 0): Doc {
  const hex = (n: number) => n.toString(16).toUpperCase().padStart(8, '0');
  return { _data: `82${hex(ts.t)}${hex(ts.i)}2B04${extra ? '01' : '00'}04` };
}

function tokenTime(token: Doc): Timestamp | null {
  const data = token._data;
  if (typeof data !== 'string' || !/^82[0-9a-fA-F]{16}/.test(data)) return null;
  return new Timestamp({ t: parseInt(data.slice(2, 10), 16), i: parseInt(data.slice(10, 18), 16) });
}
