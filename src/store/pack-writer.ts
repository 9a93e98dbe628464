/**
 * Writing git packfiles (version 2, gitformat-pack.txt): `writePack` streams whole objects for a
 * push (memory stays at the size of the largest object; no deltas: snapshot pushes mostly add new
 * part files, and the receiving side may repack); `PackWriter` writes gc's pack with deltas and
 * its version-2 index to temp files in `objects/pack/` (an OFS_DELTA must come after its base).
 */
import { createHash, type Hash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { InternalError } from '../errors/index.js';
import { FILE_MODE, tempPathFor } from './files.js';
import { IDX_MAGIC, OFS_DELTA, REF_DELTA } from './pack-file.js';
import type { ObjectReader, ObjectToSend } from './object-walk.js';
import type { ObjectType } from './objects.js';

export const TYPE_CODES: Record<ObjectType, number> = { commit: 1, tree: 2, blob: 3, tag: 4 };
const FLUSH_BYTES = 1024 * 1024;
const deflateAsync = promisify(zlib.deflate);

/** The `<type><size>` varint that starts every pack entry. */
export function entryHeader(typeCode: number, size: number): Buffer {
  const bytes: number[] = [];
  let byte = (typeCode << 4) | (size & 0x0f);
  let rest = Math.floor(size / 16);
  while (rest > 0) {
    bytes.push(byte | 0x80);
    byte = rest & 0x7f;
    rest = Math.floor(rest / 128);
  }
  bytes.push(byte);
  return Buffer.from(bytes);
}

/** OFS_DELTA's distance to the base, in git's "minus one per continuation byte" encoding. */
export function ofsDistance(distance: number): Buffer {
  const bytes = [distance & 0x7f];
  let rest = Math.floor(distance / 128);
  while (rest > 0) {
    rest -= 1;
    bytes.unshift(0x80 | (rest & 0x7f));
    rest = Math.floor(rest / 128);
  }
  return Buffer.from(bytes);
}

/**
 * Yields the pack's bytes for `objects`; `onObject` is called after each one with the bytes
 * produced so far.
 */
export async function* writePack(source: ObjectReader, objects: ObjectToSend[], onObject?: (done: number, bytes: number) => void): AsyncGenerator<Buffer> {
  const hash = createHash('sha1');
  let bytes = 0;
  const emit = (b: Buffer): Buffer => {
    hash.update(b);
    bytes += b.length;
    return b;
  };
  const header = Buffer.alloc(12);
  header.write('PACK', 0, 'latin1');
  header.writeUInt32BE(2, 4);
  header.writeUInt32BE(objects.length, 8);
  yield emit(header);
  let done = 0;
  for (const { oid } of objects) {
    const { type, content } = await source.readObject(oid);
    yield emit(entryHeader(TYPE_CODES[type], content.length));
    yield emit(await deflateAsync(content, { level: 1 }));
    onObject?.(++done, bytes);
  }
  yield hash.digest();
}

/** One object of a pack as its index records it. */
export interface PackIndexEntry {
  id: Buffer;
  offset: number;
  crc: number;
}

/** The version-2 `.idx` of a pack holding `entries`, whose trailer is `checksum`. */
export function packIndex(entries: PackIndexEntry[], checksum: Buffer): Buffer {
  const sorted = [...entries].sort((a, b) => Buffer.compare(a.id, b.id));
  const n = sorted.length;
  const big = sorted.filter((e) => e.offset >= 0x80000000);
  const idx = Buffer.alloc(8 + 1024 + n * 28 + big.length * 8 + 40);
  idx.writeUInt32BE(IDX_MAGIC, 0);
  idx.writeUInt32BE(2, 4);
  const fanout = new Uint32Array(256);
  for (const e of sorted) fanout[e.id[0]!]!++;
  let running = 0;
  for (let i = 0; i < 256; i++) {
    running += fanout[i]!;
    idx.writeUInt32BE(running, 8 + i * 4);
  }
  const idsAt = 8 + 1024;
  const crcAt = idsAt + n * 20;
  const offAt = crcAt + n * 4;
  const bigAt = offAt + n * 4;
  let bigIndex = 0;
  sorted.forEach((e, i) => {
    e.id.copy(idx, idsAt + i * 20);
    idx.writeUInt32BE(e.crc >>> 0, crcAt + i * 4);
    if (e.offset >= 0x80000000) {
      idx.writeUInt32BE((0x80000000 | bigIndex) >>> 0, offAt + i * 4);
      idx.writeBigUInt64BE(BigInt(e.offset), bigAt + bigIndex * 8);
      bigIndex++;
    } else {
      idx.writeUInt32BE(e.offset, offAt + i * 4);
    }
  });
  const trailerAt = bigAt + big.length * 8;
  checksum.copy(idx, trailerAt);
  createHash('sha1').update(idx.subarray(0, trailerAt + 20)).digest().copy(idx, trailerAt + 20);
  return idx;
}

export class PackWriter {
  private readonly hash: Hash = createHash('sha1');
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  private offset = 12;
  private written = 0;
  private readonly entries: PackIndexEntry[] = [];
  private readonly offsets = new Map<string, number>();

  private constructor(
    private readonly fh: fsp.FileHandle,
    readonly tmpPack: string,
    private readonly count: number,
  ) {}

  /** Starts a pack of exactly `count` objects in `packDir`. */
  static async create(packDir: string, count: number): Promise<PackWriter> {
    const tmp = tempPathFor(path.join(packDir, 'x'), 'tmp_pack_');
    const fh = await fsp.open(tmp, 'wx', FILE_MODE);
    const w = new PackWriter(fh, tmp, count);
    const head = Buffer.alloc(12);
    head.write('PACK', 0, 'latin1');
    head.writeUInt32BE(2, 4);
    head.writeUInt32BE(count, 8);
    w.push(head);
    return w;
  }

  /** Where `oid`'s entry starts in this pack, if it was written. */
  offsetOf(oid: string): number | undefined {
    return this.offsets.get(oid);
  }

  private push(buf: Buffer): void {
    this.hash.update(buf);
    this.pending.push(buf);
    this.pendingBytes += buf.length;
  }

  private async flushIfFull(): Promise<void> {
    if (this.pendingBytes >= FLUSH_BYTES) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const buf = Buffer.concat(this.pending);
    this.pending.length = 0;
    this.pendingBytes = 0;
    await this.fh.write(buf, 0, buf.length);
  }

  /** Appends one entry made of `parts` (header bytes, then the zlib stream). */
  private async addEntry(oid: string, parts: Buffer[]): Promise<void> {
    if (this.offsets.has(oid)) throw new InternalError(`object ${oid} written twice to one pack`, { object: oid });
    let crc = 0;
    let length = 0;
    for (const p of parts) {
      crc = zlib.crc32(p, crc);
      length += p.length;
      this.push(p);
    }
    this.entries.push({ id: Buffer.from(oid, 'hex'), offset: this.offset, crc });
    this.offsets.set(oid, this.offset);
    this.offset += length;
    this.written++;
    await this.flushIfFull();
  }

  /** A whole object, deflated here. */
  async addObject(oid: string, type: ObjectType, content: Buffer, deflated: Buffer): Promise<void> {
    await this.addEntry(oid, [entryHeader(TYPE_CODES[type], content.length), deflated]);
  }

  /** A delta against an object already in this pack (`deflated` is the deflated delta). */
  async addDelta(oid: string, baseOid: string, deltaSize: number, deflated: Buffer): Promise<void> {
    const baseOffset = this.offsets.get(baseOid);
    if (baseOffset === undefined) throw new InternalError(`delta base ${baseOid} of ${oid} is not written yet`, { object: oid, base: baseOid });
    await this.addEntry(oid, [entryHeader(OFS_DELTA, deltaSize), ofsDistance(this.offset - baseOffset), deflated]);
  }

  /**
   * An entry copied from another pack: its type/size header and zlib stream as they were, the
   * base reference re-expressed for this pack (OFS_DELTA when the base is already here).
   */
  async addRaw(oid: string, typeCode: number, size: number, compressed: Buffer, baseOid?: string): Promise<void> {
    if (typeCode !== OFS_DELTA && typeCode !== REF_DELTA) {
      await this.addEntry(oid, [entryHeader(typeCode, size), compressed]);
      return;
    }
    const baseOffset = this.offsets.get(baseOid!);
    if (baseOffset !== undefined) {
      await this.addEntry(oid, [entryHeader(OFS_DELTA, size), ofsDistance(this.offset - baseOffset), compressed]);
    } else {
      await this.addEntry(oid, [entryHeader(REF_DELTA, size), Buffer.from(baseOid!, 'hex'), compressed]);
    }
  }

  /**
   * Writes the trailer and the index, syncs both to disk; returns the temp paths and the pack
   * name (`pack-<sha>`) they should be renamed to.
   */
  async finish(): Promise<{ tmpPack: string; tmpIdx: string; name: string; packBytes: number }> {
    if (this.written !== this.count) throw new InternalError(`pack announced ${this.count} objects, got ${this.written}`, { announced: this.count, written: this.written });
    const checksum = this.hash.digest();
    this.pending.push(checksum);
    this.pendingBytes += checksum.length;
    await this.flush();
    await this.fh.sync();
    await this.fh.close();

    const idx = packIndex(this.entries, checksum);
    const tmpIdx = tempPathFor(this.tmpPack, 'tmp_idx_');
    const fh = await fsp.open(tmpIdx, 'wx', FILE_MODE);
    try {
      await fh.write(idx, 0, idx.length);
      await fh.sync();
    } finally {
      await fh.close();
    }
    return { tmpPack: this.tmpPack, tmpIdx, name: `pack-${checksum.toString('hex')}`, packBytes: this.offset + 20 };
  }

  /** Removes the temp pack after a failure (the index is written only by finish()). */
  async abort(): Promise<void> {
    await this.fh.close().catch(() => {});
    await fsp.rm(this.tmpPack, { force: true });
  }
}
