/**
 * The mongodump `--archive` format (specified in the MongoDB Database Tools' source,
 * common/archive/spec.md):
 *
 *   magic 0x8199e26d (little-endian int32)
 *   header document {concurrent_collections, version: "0.1", server_version, tool_version}
 *   one document per collection {db, collection, metadata: <metadata.json text>, size, type}
 *   0xffffffff
 *   then, interleaved: {db, collection, EOF: false, CRC: 0} + documents + 0xffffffff
 *                and  {db, collection, EOF: true, CRC: <CRC-64/ECMA of the namespace's documents>} + 0xffffffff
 *
 * Pure: bytes in, namespaces out (and back).
 */
import { BSON, Int32, Long } from 'bson';
import { BsonStreamError, documentLength } from './bson-stream.js';

export const ARCHIVE_MAGIC = 0x8199e26d;
const TERMINATOR = 0xffffffff;

export interface ArchiveNamespace {
  db: string;
  collection: string;
  /** The metadata.json text from the prelude ('' when absent). */
  metadata: string;
  /** Collection type from the prelude (collection, view, timeseries), '' when absent. */
  type: string;
  documents: Buffer[];
}

export interface Archive {
  header: { version?: string; server_version?: string; tool_version?: string };
  namespaces: ArchiveNamespace[];
}

// CRC-64 as Go's hash/crc64 with the ECMA table computes it (reflected, init and xorout ~0).
const CRC_TABLE = (() => {
  const poly = 0xc96c5795d7870f42n;
  const t = new BigUint64Array(256);
  for (let i = 0; i < 256; i++) {
    let c = BigInt(i);
    for (let k = 0; k < 8; k++) c = c & 1n ? (c >> 1n) ^ poly : c >> 1n;
    t[i] = c;
  }
  return t;
})();

/** Streaming CRC-64/ECMA (Go `crc64.New(crc64.MakeTable(crc64.ECMA))`). */
export class Crc64 {
  private crc = 0xffffffffffffffffn;
  update(data: Uint8Array): this {
    // Split into two 32-bit halves: BigInt per byte is slow, numbers are fast.
    let lo = Number(this.crc & 0xffffffffn);
    let hi = Number(this.crc >> 32n);
    for (let i = 0; i < data.length; i++) {
      const e = CRC_TABLE[(lo ^ data[i]!) & 0xff]!;
      lo = ((lo >>> 8) | ((hi & 0xff) << 24)) >>> 0;
      hi = hi >>> 8;
      lo = (lo ^ Number(e & 0xffffffffn)) >>> 0;
      hi = (hi ^ Number(e >> 32n)) >>> 0;
    }
    this.crc = (BigInt(hi) << 32n) | BigInt(lo);
    return this;
  }
  digest(): bigint {
    return this.crc ^ 0xffffffffffffffffn;
  }
}

function readDoc(buf: Buffer, at: number): { doc: Record<string, unknown>; next: number } {
  const len = documentLength(buf, at);
  try {
    return { doc: BSON.deserialize(buf.subarray(at, at + len), { promoteLongs: false }), next: at + len };
  } catch (err) {
    throw new BsonStreamError(`unreadable BSON document (${(err as Error).message})`, at);
  }
}

function isTerminator(buf: Buffer, at: number): boolean {
  return buf.length - at >= 4 && buf.readUInt32LE(at) === TERMINATOR;
}

/** Whether `buf` starts like a mongodump archive. */
export function isArchive(buf: Buffer): boolean {
  return buf.length >= 4 && buf.readUInt32LE(0) === ARCHIVE_MAGIC;
}

/**
 * Parses a whole (uncompressed) archive. Throws {@link BsonStreamError} with the byte offset of
 * the first structural problem, including a namespace whose CRC does not match its documents.
 */
export function readArchive(buf: Buffer): Archive {
  if (!isArchive(buf)) throw new BsonStreamError('not a mongodump archive (no magic number 0x8199e26d)', 0);
  let at = 4;
  const h = readDoc(buf, at);
  at = h.next;
  const byName = new Map<string, ArchiveNamespace>();
  const namespaces: ArchiveNamespace[] = [];
  const key = (db: string, c: string) => `${db}\u0000${c}`;
  while (!isTerminator(buf, at)) {
    const m = readDoc(buf, at);
    const d = m.doc;
    const ns: ArchiveNamespace = {
      db: String(d.db ?? ''),
      collection: String(d.collection ?? ''),
      metadata: typeof d.metadata === 'string' ? d.metadata : '',
      type: typeof d.type === 'string' ? d.type : '',
      documents: [],
    };
    namespaces.push(ns);
    byName.set(key(ns.db, ns.collection), ns);
    at = m.next;
  }
  at += 4;
  const crcs = new Map<ArchiveNamespace, Crc64>();
  const ended = new Set<ArchiveNamespace>();
  while (at < buf.length) {
    const headerAt = at;
    const h2 = readDoc(buf, at);
    at = h2.next;
    const db = String(h2.doc.db ?? '');
    const collection = String(h2.doc.collection ?? '');
    let ns = byName.get(key(db, collection));
    if (!ns) {
      // Data without prelude metadata (the oplog, or a tool that wrote none): keep it, typeless.
      ns = { db, collection, metadata: '', type: '', documents: [] };
      namespaces.push(ns);
      byName.set(key(db, collection), ns);
    }
    let crc = crcs.get(ns);
    if (!crc) crcs.set(ns, (crc = new Crc64()));
    if (h2.doc.EOF === true) {
      const expected = BigInt.asUintN(64, (h2.doc.CRC as Long | undefined)?.toBigInt?.() ?? BigInt(Number(h2.doc.CRC ?? 0)));
      const actual = crc.digest();
      if (expected !== 0n && expected !== actual) {
        throw new BsonStreamError(`CRC of ${db}.${collection} does not match its documents (archive says ${expected.toString(16)}, documents give ${actual.toString(16)})`, headerAt);
      }
      ended.add(ns);
    } else {
      while (!isTerminator(buf, at)) {
        if (at >= buf.length) throw new BsonStreamError(`truncated: the block of ${db}.${collection} has no terminator`, at);
        const len = documentLength(buf, at);
        const doc = buf.subarray(at, at + len);
        crc.update(doc);
        ns.documents.push(doc);
        at += len;
      }
    }
    if (!isTerminator(buf, at)) throw new BsonStreamError(`truncated: the block of ${db}.${collection} has no terminator`, at);
    at += 4;
  }
  for (const ns of namespaces) {
    if (ns.documents.length > 0 && !ended.has(ns)) {
      throw new BsonStreamError(`truncated: ${ns.db}.${ns.collection} has no end-of-collection block`, buf.length);
    }
  }
  return { header: h.doc as Archive['header'], namespaces };
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

/**
 * Writes an archive mongorestore reads: every namespace's metadata in the prelude, then its
 * documents in one block and its end-of-collection block with the CRC. Views get metadata only.
 */
export function writeArchive(archive: Archive): Buffer {
  const out: Buffer[] = [u32(ARCHIVE_MAGIC)];
  out.push(
    Buffer.from(
      BSON.serialize({
        concurrent_collections: new Int32(1),
        version: archive.header.version ?? '0.1',
        server_version: archive.header.server_version ?? '0.0.0',
        tool_version: archive.header.tool_version ?? '',
      }),
    ),
  );
  for (const ns of archive.namespaces) {
    const size = ns.documents.reduce((n, d) => n + d.length, 0);
    out.push(Buffer.from(BSON.serialize({ db: ns.db, collection: ns.collection, metadata: ns.metadata, size: new Int32(Math.min(size, 0x7fffffff)), type: ns.type })));
  }
  out.push(u32(TERMINATOR));
  for (const ns of archive.namespaces) {
    if (ns.type === 'view') continue;
    const crc = new Crc64();
    if (ns.documents.length > 0) {
      out.push(Buffer.from(BSON.serialize({ db: ns.db, collection: ns.collection, EOF: false, CRC: Long.fromInt(0) })));
      for (const d of ns.documents) {
        crc.update(d);
        out.push(d);
      }
      out.push(u32(TERMINATOR));
    }
    out.push(Buffer.from(BSON.serialize({ db: ns.db, collection: ns.collection, EOF: true, CRC: Long.fromBigInt(BigInt.asIntN(64, crc.digest())) })));
    out.push(u32(TERMINATOR));
  }
  return Buffer.concat(out);
}
