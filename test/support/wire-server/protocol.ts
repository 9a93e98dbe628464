/**
 * MongoDB wire protocol framing: OP_MSG (2013) for every modern command and OP_QUERY (2004)
 * with its OP_REPLY (1) for the legacy handshake. Layouts follow the MongoDB Wire Protocol
 * reference and the OP_MSG specification.
 */
import { rawElements } from './bson-raw.js';

export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_COMPRESSED = 2012;
export const OP_MSG = 2013;

const CHECKSUM_PRESENT = 1 << 0;
const MORE_TO_COME = 1 << 1;

/** A parsed request: the command body plus any kind-1 document sequences, as raw bytes. */
export interface WireRequest {
  opCode: typeof OP_MSG | typeof OP_QUERY;
  requestId: number;
  /** OP_MSG moreToCome: the client expects no reply (unacknowledged write). */
  moreToCome: boolean;
  /** The kind-0 body (OP_MSG) or the query document (OP_QUERY). */
  body: Uint8Array;
  /** Kind-1 sections: identifier -> raw documents. */
  sequences: Map<string, Uint8Array[]>;
  /** OP_QUERY only: database taken from `db.$cmd`. */
  legacyDb?: string;
}

function int32(buf: Uint8Array, at: number): number {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength).getInt32(at, true);
}

/** Length of the complete message at the start of `buf`, or 0 while the header is incomplete. */
export function messageLength(buf: Uint8Array): number {
  return buf.length < 4 ? 0 : int32(buf, 0);
}

/** Parse one complete message (header included). Throws on opcodes the server does not speak. */
export function parseMessage(msg: Uint8Array): WireRequest {
  const requestId = int32(msg, 4);
  const opCode = int32(msg, 12);
  if (opCode === OP_MSG) {
    const flags = int32(msg, 16) >>> 0;
    // The checksum is optional for receivers to verify; it only shortens the sections' extent.
    const end = flags & CHECKSUM_PRESENT ? msg.length - 4 : msg.length;
    let at = 20;
    let body: Uint8Array | undefined;
    const sequences = new Map<string, Uint8Array[]>();
    while (at < end) {
      const kind = msg[at]!;
      at += 1;
      if (kind === 0) {
        const size = int32(msg, at);
        body = msg.subarray(at, at + size);
        at += size;
      } else if (kind === 1) {
        const size = int32(msg, at);
        const sectionEnd = at + size;
        let p = at + 4;
        let idEnd = p;
        while (msg[idEnd] !== 0) idEnd++;
        const identifier = new TextDecoder().decode(msg.subarray(p, idEnd));
        p = idEnd + 1;
        const docs: Uint8Array[] = [];
        while (p < sectionEnd) {
          const docSize = int32(msg, p);
          docs.push(msg.subarray(p, p + docSize));
          p += docSize;
        }
        sequences.set(identifier, docs);
        at = sectionEnd;
      } else {
        throw new Error(`unknown OP_MSG section kind ${kind}`);
      }
    }
    if (!body) throw new Error('OP_MSG without a kind-0 body');
    return { opCode, requestId, moreToCome: (flags & MORE_TO_COME) !== 0, body, sequences };
  }
  if (opCode === OP_QUERY) {
    let at = 20; // header + flags
    let nameEnd = at;
    while (msg[nameEnd] !== 0) nameEnd++;
    const fullName = new TextDecoder().decode(msg.subarray(at, nameEnd));
    at = nameEnd + 1 + 8; // numberToSkip, numberToReturn
    const size = int32(msg, at);
    let body = msg.subarray(at, at + size);
    // Legacy commands may wrap the command as { $query: {...}, $readPreference: ... }.
    const wrapped = rawElements(body).find((e) => e.name === '$query' || e.name === 'query');
    if (wrapped && wrapped.type === 0x03 && rawElements(body)[0]?.name === wrapped.name) {
      body = body.subarray(wrapped.valueStart, wrapped.end);
    }
    const db = fullName.endsWith('.$cmd') ? fullName.slice(0, -5) : fullName.split('.')[0]!;
    return { opCode, requestId, moreToCome: false, body, sequences: new Map(), legacyDb: db };
  }
  throw new Error(`unsupported opcode ${opCode}`);
}

let nextRequestId = 1;

function writeHeader(view: DataView, length: number, responseTo: number, opCode: number): void {
  view.setInt32(0, length, true);
  view.setInt32(4, nextRequestId++ & 0x7fffffff, true);
  view.setInt32(8, responseTo, true);
  view.setInt32(12, opCode, true);
}

/** Bytes before the body in an OP_MSG reply: header, flags and the section kind. */
export const OP_MSG_BODY_OFFSET = 21;

/**
 * Fill in the header of an OP_MSG reply whose body is already in place at OP_MSG_BODY_OFFSET
 * (see encodeDocumentAfter), instead of copying the body into a new message.
 */
export function finishOpMsgReply(responseTo: number, message: Uint8Array): Uint8Array {
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  writeHeader(view, message.length, responseTo, OP_MSG);
  view.setUint32(16, 0, true);
  message[20] = 0;
  return message;
}

/** An OP_MSG reply carrying one kind-0 body (no checksum: it is optional). */
export function encodeOpMsgReply(responseTo: number, body: Uint8Array): Uint8Array {
  const message = new Uint8Array(OP_MSG_BODY_OFFSET + body.length);
  message.set(body, OP_MSG_BODY_OFFSET);
  return finishOpMsgReply(responseTo, message);
}

/** An OP_REPLY answering a legacy OP_QUERY command with a single document. */
export function encodeOpReply(responseTo: number, doc: Uint8Array): Uint8Array {
  const length = 16 + 4 + 8 + 4 + 4 + doc.length;
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  writeHeader(view, length, responseTo, OP_REPLY);
  view.setInt32(16, 8, true); // AwaitCapable, as mongod sets it
  view.setBigInt64(20, 0n, true);
  view.setInt32(28, 0, true);
  view.setInt32(32, 1, true);
  out.set(doc, 36);
  return out;
}
