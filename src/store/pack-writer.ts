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

/**
 * The entries of a pack being written, in pack order: 20-byte ids in one buffer, start, length
 * and CRC-32 in typed arrays, and an open-addressing table over the ids' first four bytes (SHA-1
 * output: uniform) to find an entry by id. About 45 bytes per object, where id strings in a Set,
 * a Map and four arrays cost ~200 (a 5M-document commit adds ~160,000 objects); no Buffer per
 * object either, which would pin an 8 KB pool slab each (measured: +56 MB at 1M documents).
 */
export class PackEntryTable {
  /** Entries added so far. */
  count = 0;
  private ids = Buffer.allocUnsafeSlow(20 * 1024);
  private offsets = new Float64Array(1024);
  private lengths = new Float64Array(1024);
  private crcs = new Uint32Array(1024);
  /** Entry number + 1 per slot, 0 = empty; at most half full. */
  private slots = new Uint32Array(2048);
  private readonly probe = Buffer.alloc(20);

  /** The entry number of `oid` (40 hex digits), or -1. */
  find(oid: string): number {
    this.probe.write(oid, 0, 20, 'hex');
    const mask = this.slots.length - 1;
    for (let s = this.probe.readUInt32BE(0) & mask; ; s = (s + 1) & mask) {
      const e = this.slots[s]!;
      if (e === 0) return -1;
      if (this.ids.compare(this.probe, 0, 20, (e - 1) * 20, e * 20) === 0) return e - 1;
    }
  }

  add(oid: string, offset: number, length: number, crc: number): void {
    if (this.count === this.offsets.length) this.grow();
    const i = this.count++;
    this.ids.write(oid, i * 20, 20, 'hex');
    this.offsets[i] = offset;
    this.lengths[i] = length;
    this.crcs[i] = crc;
    this.place(i);
  }

  offset(i: number): number {
    return this.offsets[i]!;
  }

  length(i: number): number {
    return this.lengths[i]!;
  }

  /**
   * The version-2 `.idx` of a pack holding these entries, whose trailer is `checksum`: entries
   * sorted by id through a permutation, written straight from the table (no object per entry).
   */
  index(checksum: Buffer): Buffer {
    const n = this.count;
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => this.ids.compare(this.ids, b * 20, b * 20 + 20, a * 20, a * 20 + 20));
    let big = 0;
    for (let i = 0; i < n; i++) if (this.offsets[i]! >= 0x80000000) big++;
    const idx = Buffer.alloc(8 + 1024 + n * 28 + big * 8 + 40);
    idx.writeUInt32BE(IDX_MAGIC, 0);
    idx.writeUInt32BE(2, 4);
    const fanout = new Uint32Array(256);
    for (let i = 0; i < n; i++) fanout[this.ids[i * 20]!]!++;
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
    for (let k = 0; k < n; k++) {
      const e = order[k]!;
      this.ids.copy(idx, idsAt + k * 20, e * 20, e * 20 + 20);
      idx.writeUInt32BE(this.crcs[e]! >>> 0, crcAt + k * 4);
      const offset = this.offsets[e]!;
      if (offset >= 0x80000000) {
        idx.writeUInt32BE((0x80000000 | bigIndex) >>> 0, offAt + k * 4);
        idx.writeBigUInt64BE(BigInt(offset), bigAt + bigIndex * 8);
        bigIndex++;
      } else {
        idx.writeUInt32BE(offset, offAt + k * 4);
      }
    }
    const trailerAt = bigAt + big * 8;
    checksum.copy(idx, trailerAt);
    createHash('sha1').update(idx.subarray(0, trailerAt + 20)).digest().copy(idx, trailerAt + 20);
    return idx;
  }

  private place(i: number): void {
    const mask = this.slots.length - 1;
    let s = this.ids.readUInt32BE(i * 20) & mask;
    while (this.slots[s] !== 0) s = (s + 1) & mask;
    this.slots[s] = i + 1;
  }

  private grow(): void {
    const n = this.offsets.length * 2;
    const ids = Buffer.allocUnsafeSlow(n * 20);
    this.ids.copy(ids, 0, 0, this.count * 20);
    this.ids = ids;
    const offsets = new Float64Array(n);
    offsets.set(this.offsets);
    this.offsets = offsets;
    const lengths = new Float64Array(n);
    lengths.set(this.lengths);
    this.lengths = lengths;
    const crcs = new Uint32Array(n);
    crcs.set(this.crcs);
    this.crcs = crcs;
    this.slots = new Uint32Array(n * 2);
    for (let i = 0; i < this.count; i++) this.place(i);
  }
}

export class PackWriter {
  private readonly hash: Hash = createHash('sha1');
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  private offset = 12;
  private written = 0;
  private readonly entries = new PackEntryTable();

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
    const i = this.entries.find(oid);
    return i < 0 ? undefined : this.entries.offset(i);
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
    if (this.entries.find(oid) >= 0) throw new InternalError(`object ${oid} written twice to one pack`, { object: oid });
    let crc = 0;
    let length = 0;
    for (const p of parts) {
      crc = zlib.crc32(p, crc);
      length += p.length;
      this.push(p);
    }
    this.entries.add(oid, this.offset, length, crc);
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
    const baseOffset = this.offsetOf(baseOid);
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
    const baseOffset = this.offsetOf(baseOid!);
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

    const idx = this.entries.index(checksum);
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
