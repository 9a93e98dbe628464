/**
 * The objects one operation writes (a commit's parts, trees, collection.json files), stored as one
 * packfile instead of thousands of loose files. A loose object costs an inode, a temp file, a
 * rename and a fan-out directory; ~30% of a 100k-document commit's CPU went there. Git itself
 * keeps what a fetch brings in as one pack for the same reason (`fetch.unpackLimit`).
 *
 * The pack is appended to a temp file (`objects/pack/tmp_pack_*`) as objects arrive, then
 * finished: object count patched into the header, SHA-1 trailer, fsync, version-2 index (also
 * fsynced), rename of the .pack, then of the .idx (readers find packs by their .idx), fsync of
 * the directory. Callers move a ref only after that, so a crash leaves at most a temp file or an
 * unreferenced pack, never a ref to a missing object.
 *
 * A batch that ends with fewer than `minPackObjects` objects (a commit that changed a document or
 * two) writes them loose instead: a pack per small commit would leave many tiny packs for every
 * reader to search.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as zlib from 'node:zlib';
import { InternalError } from '../errors/index.js';
import { FILE_MODE, tempPathFor } from './files.js';
import { type ObjectType } from './objects.js';
import { entryHeader, PackEntryTable, TYPE_CODES } from './pack-writer.js';
import { parseEntryHeader } from './pack-file.js';

const deflateAsync = promisify(zlib.deflate);

/** Below this size the synchronous zlib call is cheaper than a thread-pool round trip. */
const SYNC_ZLIB_LIMIT = 64 * 1024;
/** Appended bytes are written to the file in pieces of about this size. */
const FLUSH_BYTES = 1024 * 1024;
/** Held objects past this many bytes start the pack whatever their number (memory stays bounded). */
const HOLD_BYTES = 4 * 1024 * 1024;
/** Same level as loose objects and gc's pack (core.compression 1: speed over size). */
const COMPRESSION_LEVEL = 1;

/** Below this many new objects a batch writes loose objects (see the measurement in docs/BENCHMARKS.md). */
export const MIN_PACK_OBJECTS = 64;

interface HeldObject {
  oid: string;
  type: ObjectType;
  content: Buffer;
}

/** Writes one object as a loose file (the object database's own writer). */
export type LooseWriter = (oid: string, type: ObjectType, content: Buffer) => Promise<void>;

export class ObjectBatch {
  /** Objects held until the batch is known to be big enough for a pack (a few: see add()). */
  private held: HeldObject[] = [];
  private heldBytes = 0;
  /** Ids of the held objects; packed ones are in the pack's index. */
  private readonly heldIds = new Set<string>();
  private pack: PackAppender | null = null;

  constructor(
    private readonly packDir: string,
    private readonly writeLoose: LooseWriter,
    private readonly minPackObjects = MIN_PACK_OBJECTS,
  ) {}

  /** True for an object added so far (held, packed or being deflated): each is stored once per batch. */
  has(oid: string): boolean {
    return this.heldIds.has(oid) || (this.pack?.has(oid) ?? false);
  }

  /** Number of objects added so far. */
  get size(): number {
    return this.heldIds.size + (this.pack?.size ?? 0);
  }

  /** Adds a new object (the caller checked it is not in the repository). */
  async add(oid: string, type: ObjectType, content: Buffer): Promise<void> {
    if (this.has(oid)) return;
    if (!this.pack) {
      this.held.push({ oid, type, content });
      this.heldIds.add(oid);
      this.heldBytes += content.length;
      if (this.held.length < this.minPackObjects && this.heldBytes < HOLD_BYTES) return;
      this.pack = PackAppender.open(this.packDir);
      const held = this.held;
      this.held = [];
      this.heldBytes = 0;
      for (const h of held) {
        // append() takes the id before its first await, so the object stays known throughout.
        const appended = this.pack.append(h.oid, h.type, h.content);
        this.heldIds.delete(h.oid);
        await appended;
      }
      return;
    }
    await this.pack.append(oid, type, content);
  }

  /** An object added to this batch, or null. */
  read(oid: string): { type: ObjectType; content: Buffer } | null {
    const held = this.heldIds.has(oid) ? this.held.find((h) => h.oid === oid) : undefined;
    if (held) return { type: held.type, content: held.content };
    return this.pack?.read(oid) ?? null;
  }

  /** Makes every added object durable and visible: the finished pack, or loose files. */
  async finish(): Promise<{ objects: number; pack: string | null }> {
    const objects = this.size;
    if (this.pack) return { objects, pack: await this.pack.finish() };
    for (const h of this.held) await this.writeLoose(h.oid, h.type, h.content);
    this.held = [];
    return { objects, pack: null };
  }

  /** Drops what was added (removes the temp pack). */
  abort(): void {
    this.held = [];
    this.pack?.abort();
  }
}

/**
 * A pack file being appended to, synchronously: a commit reads two collections at once, and
 * synchronous appends cannot interleave (nor cost a thread-pool round trip each).
 */
class PackAppender {
  private readonly pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes in the file plus pending: where the next entry starts. */
  private offset = 12;
  private fileBytes = 0;
  /** Every object appended: id, entry start, entry length, CRC-32 (see PackEntryTable). */
  private readonly entries = new PackEntryTable();
  /** Ids being deflated on the thread pool (not in `entries` yet); finish() waits for them. */
  private readonly inFlight = new Set<string>();
  private closed = false;

  private constructor(
    private readonly fd: number,
    readonly tmpPath: string,
    private readonly packDir: string,
  ) {}

  static open(packDir: string): PackAppender {
    const tmp = tempPathFor(path.join(packDir, 'x'), 'tmp_pack_');
    const fd = fs.openSync(tmp, 'wx+', FILE_MODE); // read back by read() and finish()
    const a = new PackAppender(fd, tmp, packDir);
    // The object count is patched in by finish(); until then the header says 0.
    const head = Buffer.alloc(12);
    head.write('PACK', 0, 'latin1');
    head.writeUInt32BE(2, 4);
    a.pending.push(head);
    a.pendingBytes = 12;
    return a;
  }

  has(oid: string): boolean {
    return this.inFlight.has(oid) || this.entries.find(oid) >= 0;
  }

  /** Objects appended or being deflated. */
  get size(): number {
    return this.entries.count + this.inFlight.size;
  }

  async append(oid: string, type: ObjectType, content: Buffer): Promise<void> {
    let deflated: Buffer;
    if (content.length <= SYNC_ZLIB_LIMIT) {
      deflated = zlib.deflateSync(content, { level: COMPRESSION_LEVEL });
    } else {
      // Large objects deflate on the thread pool (the other core) while the caller reads on.
      this.inFlight.add(oid);
      try {
        deflated = await deflateAsync(content, { level: COMPRESSION_LEVEL });
      } finally {
        this.inFlight.delete(oid);
      }
    }
    if (this.closed) throw new InternalError(`object ${oid} added to a finished pack`, { object: oid });
    const header = entryHeader(TYPE_CODES[type], content.length);
    const crc = zlib.crc32(deflated, zlib.crc32(header));
    this.entries.add(oid, this.offset, header.length + deflated.length, crc);
    this.pending.push(header, deflated);
    this.pendingBytes += header.length + deflated.length;
    this.offset += header.length + deflated.length;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
  }

  private flush(): void {
    if (this.pendingBytes === 0) return;
    const buf = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending, this.pendingBytes);
    this.pending.length = 0;
    this.pendingBytes = 0;
    let done = 0;
    while (done < buf.length) done += fs.writeSync(this.fd, buf, done, buf.length - done, this.fileBytes + done);
    this.fileBytes += buf.length;
  }

  read(oid: string): { type: ObjectType; content: Buffer } | null {
    const i = this.entries.find(oid);
    if (i < 0) return null;
    this.flush();
    const offset = this.entries.offset(i);
    const raw = Buffer.alloc(this.entries.length(i));
    fs.readSync(this.fd, raw, 0, raw.length, offset);
    const header = parseEntryHeader(raw, 0, offset)!;
    const type = (['', 'commit', 'tree', 'blob', 'tag'] as const)[header.typeCode] as ObjectType;
    return { type, content: zlib.inflateSync(raw.subarray(header.dataStart)) };
  }

  /** Count, trailer, index, fsyncs and renames; returns the pack's name (`pack-<sha>`). */
  async finish(): Promise<string> {
    if (this.inFlight.size > 0) throw new InternalError('pack finished while objects were still being added', { inFlight: this.inFlight.size });
    this.closed = true;
    this.flush();
    const count = Buffer.alloc(4);
    count.writeUInt32BE(this.entries.count);
    fs.writeSync(this.fd, count, 0, 4, 8);
    // The header changed after the bytes were written, so the trailer is hashed from the file
    // (from the page cache: about a millisecond per 10 MB).
    const hash = createHash('sha1');
    const chunk = Buffer.allocUnsafe(FLUSH_BYTES);
    for (let at = 0; at < this.fileBytes; ) {
      const n = fs.readSync(this.fd, chunk, 0, Math.min(chunk.length, this.fileBytes - at), at);
      if (n <= 0) throw new InternalError(`pack temp file ${this.tmpPath} is shorter than written`, { file: this.tmpPath });
      hash.update(n === chunk.length ? chunk : chunk.subarray(0, n));
      at += n;
    }
    const checksum = hash.digest();
    fs.writeSync(this.fd, checksum, 0, checksum.length, this.fileBytes);
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
    const name = `pack-${checksum.toString('hex')}`;
    const tmpIdx = tempPathFor(this.tmpPath, 'tmp_idx_');
    try {
      const idx = this.entries.index(checksum);
      const fd = fs.openSync(tmpIdx, 'wx', FILE_MODE);
      try {
        fs.writeSync(fd, idx, 0, idx.length, 0);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(this.tmpPath, path.join(this.packDir, `${name}.pack`));
      fs.renameSync(tmpIdx, path.join(this.packDir, `${name}.idx`));
    } catch (err) {
      fs.rmSync(tmpIdx, { force: true });
      fs.rmSync(this.tmpPath, { force: true });
      throw err;
    }
    syncDir(this.packDir);
    return name;
  }

  abort(): void {
    if (!this.closed) {
      this.closed = true;
      try {
        fs.closeSync(this.fd);
      } catch {
        // Already closed by a failed finish().
      }
    }
    fs.rmSync(this.tmpPath, { force: true });
  }
}

/** Makes renames in `dir` durable (a no-op where directories cannot be opened, e.g. Windows). */
function syncDir(dir: string): void {
  let fd: number;
  try {
    fd = fs.openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fs.fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on a directory; the renames are still ordered.
  } finally {
    fs.closeSync(fd);
  }
}
