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
export async function startWireServer(opts: { port?: number } = {}): Promise<WireServer> {
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

  function execute(ctx: CommandContext): Doc {
    const handler = Object.hasOwn(COMMANDS, ctx.name) ? COMMANDS[ctx.name] : undefined;
    try {
      if (!handler) throw new CommandError(59, `no such command: '${ctx.name}'`);
      if (ctx.name !== 'hello' && ctx.name !== 'isMaster' && ctx.name !== 'ismaster') checkStandaloneLimits(ctx.cmd);
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

    function handle(msg: Buffer): boolean {
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
      if (req.moreToCome) return true;
      socket.write(
        req.opCode === OP_QUERY
          ? encodeOpReply(req.requestId, encodeDocument(reply))
          : finishOpMsgReply(req.requestId, encodeDocumentAfter(OP_MSG_BODY_OFFSET, reply)),
      );
      return true;
    }

    socket.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 4) {
        const len = pending.readInt32LE(0);
        if (len < 16 || len > 64 * 1024 * 1024) {
          socket.destroy();
          return;
        }
        if (pending.length < len) break;
        const msg = pending.subarray(0, len);
        pending = pending.subarray(len);
        if (!handle(msg)) return;
      }
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
