/**
 * A TCP proxy in front of the test server that misbehaves on cue: it cuts every connection or
 * stalls it after N bytes from the server, corrupts chosen bytes of the replies, or acts when the client sends a chosen command (the first
 * key of an OP_MSG body: `insert`, `renameCollection`, `getMore` ...). Used by the fault suite to
 * play a network that drops mid-restore or a server that dies mid-read, against any server.
 *
 * Listens on 127.0.0.1 port 0 only; closes every socket on close().
 */
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface FaultPlan {
  /** Cut (destroy both sides) once this many bytes have gone from the server to the client. */
  cutAfterServerBytes?: number;
  /** Cut when the client sends this command (the request is not forwarded). */
  cutOnCommand?: string;
  /** ...only from its Nth occurrence on (1 = the first). */
  onOccurrence?: number;
  /** Instead of cutting, hold the connection open and forward nothing more. */
  stall?: boolean;
  /** Once tripped, play a dead server: every new connection is closed at once. */
  dead?: boolean;
  /**
   * Rewrite these bytes (same length) wherever they appear in a chunk from the server: a reply
   * the driver passes on but that holds invalid BSON (say a field's type byte set to 0x99).
   */
  corrupt?: { find: Buffer; replace: Buffer; /** Only in the first chunk it is found in (a reply damaged once). */ once?: boolean };
}

export interface FaultProxy {
  /** `mongodb://127.0.0.1:PORT` (add the database and `?directConnection=true` as needed). */
  uri: string;
  port: number;
  /** Change what the proxy does from now on (existing connections follow the new plan). */
  plan(p: FaultPlan): void;
  /** Commands seen so far, in order (all connections). */
  commands: string[];
  /** True once a fault has been triggered. */
  tripped(): boolean;
  close(): Promise<void>;
}

/** The command name of an OP_MSG (opcode 2013) in `buf` at `offset`, if it is one. */
function commandOf(msg: Buffer): string | undefined {
  if (msg.length < 21 || msg.readInt32LE(12) !== 2013) return undefined;
  // header (16) + flagBits (4); the first section of kind 0 holds the body document.
  if (msg[20] !== 0) return undefined;
  const doc = 21;
  const type = msg[doc + 4];
  if (type === undefined || type === 0) return undefined;
  const nameEnd = msg.indexOf(0, doc + 5);
  return nameEnd === -1 ? undefined : msg.toString('utf8', doc + 5, nameEnd);
}

/**
 * Start a proxy to `target` (`mongodb://host:port...`).
 *
 * @example
 * const proxy = await startFaultProxy(serverUri);
 * proxy.plan({ cutOnCommand: 'renameCollection' });
 * await restore({ uri: `${proxy.uri}/shop?directConnection=true`, ... }); // fails mid-swap
 * await proxy.close();
 */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const m = /^mongodb:\/\/(?:[^@/]*@)?([^/?,]+)/.exec(target);
  if (!m) throw new Error(`fault proxy: cannot take a host from ${target}`);
  const hostPort = m[1]!;
  const sep = hostPort.lastIndexOf(':');
  const host = sep === -1 ? hostPort : hostPort.slice(0, sep).replace(/^\[|\]$/g, '');
  const port = sep === -1 ? 27017 : Number(hostPort.slice(sep + 1));

  let plan: FaultPlan = {};
  let serverBytes = 0;
  let tripped = false;
  const occurrences = new Map<string, number>();
  const commands: string[] = [];
  const sockets = new Set<Socket>();
  const stalled = new Set<Socket>();

  const trip = (client: Socket, upstream: Socket) => {
    tripped = true;
    if (plan.stall) {
      stalled.add(client);
      stalled.add(upstream);
      client.pause();
      upstream.pause();
    } else {
      client.destroy();
      upstream.destroy();
    }
  };

  const server: Server = createServer((client) => {
    if (tripped && plan.dead) {
      client.destroy();
      return;
    }
    const upstream = connect({ host, port });
    sockets.add(client);
    sockets.add(upstream);
    client.on('close', () => (sockets.delete(client), upstream.destroy()));
    upstream.on('close', () => (sockets.delete(upstream), client.destroy()));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());

    // Client -> server: whole messages, so a command can be recognised before it is forwarded.
    let pending: Buffer = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      if (stalled.has(client)) return;
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 4) {
        const len = pending.readInt32LE(0);
        if (pending.length < len) break;
        const msg = pending.subarray(0, len);
        pending = pending.subarray(len);
        const cmd = commandOf(msg);
        if (cmd) {
          commands.push(cmd);
          const n = (occurrences.get(cmd) ?? 0) + 1;
          occurrences.set(cmd, n);
          if (plan.cutOnCommand === cmd && n >= (plan.onOccurrence ?? 1)) {
            trip(client, upstream);
            return;
          }
        }
        upstream.write(msg);
      }
    });
    // Server -> client: counted, cut mid-chunk when the budget runs out.
    upstream.on('data', (chunk: Buffer) => {
      if (stalled.has(upstream)) return;
      const limit = plan.cutAfterServerBytes;
      if (limit !== undefined && serverBytes + chunk.length > limit) {
        const room = Math.max(0, limit - serverBytes);
        serverBytes = limit;
        if (room > 0) client.write(chunk.subarray(0, room));
        trip(client, upstream);
        return;
      }
      serverBytes += chunk.length;
      const c = plan.corrupt;
      if (c) {
        for (let at = chunk.indexOf(c.find); at !== -1; at = chunk.indexOf(c.find, at + 1)) {
          tripped = true;
          c.replace.copy(chunk, at);
        }
        if (tripped && c.once) plan = { ...plan, corrupt: undefined };
      }
      client.write(chunk);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const listenPort = (server.address() as { port: number }).port;
  return {
    uri: `mongodb://127.0.0.1:${listenPort}`,
    port: listenPort,
    plan(p) {
      plan = p;
      tripped = false;
      serverBytes = 0;
      occurrences.clear();
    },
    commands,
    tripped: () => tripped,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
