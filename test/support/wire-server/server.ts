/**
 * A MongoDB wire-protocol test server: an in-memory stand-in for a MongoDB 7.0 standalone that
 * the official Node driver can talk to, for machines without a mongod binary. It keeps each
 * document's exact BSON bytes so dbsnap's lossless round-trip tests are meaningful.
 *
 * Not a database: no durability, no concurrency control beyond Node's single thread, no
 * document validation, a subset of update operators and no $out/$merge.
 */
import net from 'node:net';
import { BSON } from 'bson';
import { encodeDocument, encodeDocumentAfter } from './bson-raw.js';
import { COMMANDS, type CommandContext, type ServerState, checkStandaloneLimits } from './commands.js';
import { CommandError, codeName } from './errors.js';
import { OP_MSG_BODY_OFFSET, OP_QUERY, encodeOpReply, finishOpMsgReply, parseMessage } from './protocol.js';
import { ReplicaSet } from './replica-set.js';
import { Store } from './store.js';
import type { Doc } from './values.js';

/** How to make the server fail a command (a JS form of mongod's `failCommand` fail point). */
export interface FailCommandOptions {
  /** Command name(s) to fail, e.g. 'insert'. */
  commands: string | string[];
  /** Let this many matching commands succeed first. Default 0. */
  skip?: number;
  /** Fail this many matching commands, then turn off. Default 1; Infinity for always. */
  times?: number;
  /** Error code of the `ok: 0` reply. Default 8 (UnknownError). */
  code?: number;
  /** Error message. Default mongod's "Failing command via 'failCommand' failpoint". */
  errmsg?: string;
  /** Drop the connection instead of replying (a network error for the driver). */
  closeConnection?: boolean;
  /** errorLabels to attach (e.g. ['RetryableWriteError']). */
  errorLabels?: string[];
}

/** A running wire test server. */
export interface WireServer {
  /** `mongodb://127.0.0.1:PORT` */
  uri: string;
  port: number;
  /** Stop listening and drop every connection. */
  close(): Promise<void>;
  /** Make the next matching command(s) fail; see FailCommandOptions. */
  failCommand(opts: FailCommandOptions): void;
  /** Alias of failCommand, for readability in tests. */
  failNextCommands(opts: FailCommandOptions): void;
  /** Turn off any configured failure. */
  clearFailures(): void;
  /** The in-memory databases (for white-box assertions). */
  readonly store: Store;
  /** Replica-set mode only: the oplog, change streams and command log (see replica-set.ts). */
  readonly replicaSet?: ReplicaSet;
}

const DEFAULT_FAIL_MESSAGE = "Failing command via 'failCommand' failpoint";

/**
 * Start a wire test server on 127.0.0.1 (a random free port unless `port` is given).
 *
 * @example
 * const server = await startWireServer();
 * const client = await MongoClient.connect(server.uri);
 * server.failCommand({ commands: 'insert', skip: 2, code: 11600 });
 */
export async function startWireServer(opts: { port?: number; replicaSet?: string } = {}): Promise<WireServer> {
  const state: ServerState = {
    store: new Store(),
    cursors: new Map(),
    nextCursorId: 1 + Math.floor(Math.random() * 1e6) * 1000,
    startedAt: Date.now(),
    port: 0,
    connections: { current: 0, total: 0 },
  };
  const sockets = new Set<net.Socket>();
  let nextConnectionId = 1;
  // `replicaSet: 'rs0'` answers as the primary of a one-member replica set of that name.
  const replicaSet = opts.replicaSet ? new ReplicaSet(opts.replicaSet, state) : undefined;

  function failureFor(name: string, appName: string | undefined): Doc | 'close' | undefined {
    const fp = state.failPoint;
    if (!fp || !fp.commands.includes(name)) return undefined;
    if (fp.appName && fp.appName !== appName) return undefined;
    if (fp.skip > 0) {
      fp.skip--;
      return undefined;
    }
    fp.times--;
    if (fp.times <= 0) state.failPoint = undefined;
    if (fp.closeConnection) return 'close';
    const code = fp.code ?? 8;
    const reply: Doc = { ok: 0, errmsg: fp.errmsg ?? DEFAULT_FAIL_MESSAGE, code, codeName: codeName(code) };
    if (fp.errorLabels) reply.errorLabels = fp.errorLabels;
    return reply;
  }

  function execute(ctx: CommandContext): Doc | Promise<Doc> {
    return replicaSet ? replicaSet.execute(ctx, (c) => run(c, false)) : run(ctx, true);
  }

  function run(ctx: CommandContext, standalone: boolean): Doc {
    const handler = Object.hasOwn(COMMANDS, ctx.name) ? COMMANDS[ctx.name] : undefined;
    try {
      if (!handler) throw new CommandError(59, `no such command: '${ctx.name}'`);
      if (standalone && ctx.name !== 'hello' && ctx.name !== 'isMaster' && ctx.name !== 'ismaster') checkStandaloneLimits(ctx.cmd);
      return handler(ctx);
    } catch (e) {
      if (e instanceof CommandError) return e.toReply();
      return { ok: 0, errmsg: (e as Error).message, code: 1, codeName: codeName(1) };
    }
  }

  const server = net.createServer((socket) => {
    const connectionId = nextConnectionId++;
    let appName: string | undefined;
    sockets.add(socket);
    state.connections.current++;
    state.connections.total++;
    socket.setNoDelay(true);
    let pending: Buffer = Buffer.alloc(0);

    /** False when the connection was dropped; a promise while a reply waits (a change stream's getMore). */
    function handle(msg: Buffer): boolean | Promise<boolean> {
      let req;
      try {
        req = parseMessage(msg);
      } catch {
        socket.destroy();
        return false;
      }
      const cmd = BSON.deserialize(req.body, {
        promoteValues: true,
        bsonRegExp: false,
        fieldsAsRaw: { documents: true },
      }) as Doc;
      const name = Object.keys(cmd)[0] ?? '';
      const db = req.legacyDb ?? (typeof cmd.$db === 'string' ? cmd.$db : 'admin');
      if ((name === 'hello' || name.toLowerCase() === 'ismaster') && cmd.client) {
        const app = (cmd.client as Doc).application as Doc | undefined;
        if (app && typeof app.name === 'string') appName = app.name;
      }
      const failure = failureFor(name, appName);
      if (failure === 'close') {
        socket.destroy();
        return false;
      }
      const reply =
        failure ??
        execute({ state, db, name, cmd, body: req.body, sequences: req.sequences, connectionId, appName });
      const send = (r: Doc): boolean => {
        if (req.moreToCome || socket.destroyed) return !socket.destroyed;
        socket.write(
          req.opCode === OP_QUERY
            ? encodeOpReply(req.requestId, encodeDocument(r))
            : finishOpMsgReply(req.requestId, encodeDocumentAfter(OP_MSG_BODY_OFFSET, r)),
        );
        return true;
      };
      return reply instanceof Promise ? reply.then(send) : send(reply);
    }

    // Requests on one connection are answered in order: while a reply waits, later ones queue.
    let waiting = false;
    const drain = () => {
      while (!waiting && pending.length >= 4) {
        const len = pending.readInt32LE(0);
        if (len < 16 || len > 64 * 1024 * 1024) {
          socket.destroy();
          return;
        }
        if (pending.length < len) break;
        const msg = pending.subarray(0, len);
        pending = pending.subarray(len);
        const handled = handle(msg);
        if (handled instanceof Promise) {
          waiting = true;
          void handled.then((ok) => {
            waiting = false;
            if (ok) drain();
          });
          return;
        }
        if (!handled) return;
      }
    };
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      drain();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      sockets.delete(socket);
      state.connections.current--;
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as net.AddressInfo).port;
  state.port = port;

  const failCommand = (o: FailCommandOptions) => {
    state.failPoint = {
      commands: Array.isArray(o.commands) ? o.commands : [o.commands],
      skip: o.skip ?? 0,
      times: o.times ?? 1,
      code: o.code,
      errmsg: o.errmsg,
      closeConnection: o.closeConnection,
      errorLabels: o.errorLabels,
    };
  };

  return {
    uri: `mongodb://127.0.0.1:${port}`,
    port,
    store: state.store,
    ...(replicaSet ? { replicaSet } : {}),
    failCommand,
    failNextCommands: failCommand,
    clearFailures: () => {
      state.failPoint = undefined;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
