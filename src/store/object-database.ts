/**
 * The object database of a bare repository: loose objects written and read with Node's
 * crypto and zlib, packed objects (after a native `git gc` or a clone) read through
 * isomorphic-git.
 *
 * Why not isomorphic-git for everything: it hashes through `crypto.subtle`, deflates through
 * `CompressionStream` and inflates with pure-JS pako, which made a 100 MB blob cost ~3 s and
 * 550 MB RSS to write and reads 16x slower than native git.
 */
import { promises as fsp, createWriteStream } from 'node:fs';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { promisify } from 'node:util';
import * as git from 'isomorphic-git';
import { CorruptSnapshotError } from '../errors/index.js';
import { ensureDir, FILE_MODE, isErrno, pathExists, writeViaTemp } from './files.js';
import { hashObject, objectHeader, parseLooseObject, type ObjectType } from './objects.js';

const inflateAsync = promisify(zlib.inflate);
const deflateAsync = promisify(zlib.deflate);

/** Below this size the synchronous zlib call is cheaper than a thread-pool round trip. */
const SYNC_ZLIB_LIMIT = 64 * 1024;
/** Above this size the deflated object is streamed to disk instead of built in memory. */
const STREAM_WRITE_LIMIT = 8 * 1024 * 1024;
/** core.looseCompression defaults to 1 (best speed) in git too. */
const LOOSE_COMPRESSION_LEVEL = 1;

export interface StoreStats {
  blobsRead: number;
  blobsWritten: number;
  bytesWritten: number;
}

/** A loaded pack index (version 2): sorted 20-byte ids, searchable without isomorphic-git. */
interface PackIndex {
  fanout: Uint32Array;
  ids: Buffer;
}

export class ObjectDatabase {
  readonly stats: StoreStats = { blobsRead: 0, blobsWritten: 0, bytesWritten: 0 };
  private readonly objectsDir: string;
  private readonly knownFanoutDirs = new Set<string>();
  private packIndexes = new Map<string, PackIndex | null>();
  /** isomorphic-git's cache keeps parsed pack indexes between fallback reads. */
  private readonly gitCache = {};

  constructor(readonly gitdir: string) {
    this.objectsDir = path.join(gitdir, 'objects');
  }

  private loosePath(oid: string): string {
    return path.join(this.objectsDir, oid.slice(0, 2), oid.slice(2));
  }

  /**
   * True if the object exists loose or in a pack. `rescanPacks: false` trusts the pack list
   * read earlier: write() uses it because missing a pack added meanwhile (a concurrent native
   * `git gc`) only costs a duplicate loose object, while listing the pack directory for every
   * new object is a syscall per write.
   */
  async has(oid: string, rescanPacks = true): Promise<boolean> {
    if (await pathExists(this.loosePath(oid))) return true;
    return this.hasPacked(oid, rescanPacks);
  }

  private packsScanned = false;

  private async hasPacked(oid: string, rescan: boolean): Promise<boolean> {
    if (rescan || !this.packsScanned) await this.refreshPackIndexes();
    this.packsScanned = true;
    const id = Buffer.from(oid, 'hex');
    for (const idx of this.packIndexes.values()) {
      if (idx && packIndexHas(idx, id)) return true;
    }
    return false;
  }

  private async refreshPackIndexes(): Promise<void> {
    let names: string[];
    try {
      names = (await fsp.readdir(path.join(this.objectsDir, 'pack'))).filter((n) => n.endsWith('.idx'));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) names = [];
      else throw err;
    }
    const next = new Map<string, PackIndex | null>();
    for (const name of names) {
      const known = this.packIndexes.get(name);
      next.set(name, known !== undefined ? known : parsePackIndex(await fsp.readFile(path.join(this.objectsDir, 'pack', name))));
    }
    this.packIndexes = next;
  }

  /**
   * Stores an object unless it already exists; returns its id and whether it was new.
   * The file appears under its final name only when complete (temp file + rename), so a
   * killed process leaves at most a `tmp_obj_*` file behind.
   */
  async write(type: ObjectType, content: Buffer): Promise<{ oid: string; written: boolean }> {
    const oid = hashObject(type, content);
    if (await this.has(oid, false)) return { oid, written: false };
    const fanoutDir = path.join(this.objectsDir, oid.slice(0, 2));
    if (!this.knownFanoutDirs.has(fanoutDir)) {
      await ensureDir(fanoutDir);
      this.knownFanoutDirs.add(fanoutDir);
    }
    const header = objectHeader(type, content.length);
    // If a concurrent writer stores the same object meanwhile, the rename replaces identical bytes.
    await writeViaTemp(this.loosePath(oid), 'tmp_obj_', async (tmp) => {
      if (content.length > STREAM_WRITE_LIMIT) {
        // Streaming avoids holding header+content and the deflated copy in memory at once.
        await pipeline(
          Readable.from([header, content]),
          zlib.createDeflate({ level: LOOSE_COMPRESSION_LEVEL, chunkSize: 1024 * 1024 }),
          createWriteStream(tmp, { mode: FILE_MODE, flags: 'wx' }),
        );
      } else {
        const raw = Buffer.concat([header, content]);
        const deflated =
          raw.length <= SYNC_ZLIB_LIMIT
            ? zlib.deflateSync(raw, { level: LOOSE_COMPRESSION_LEVEL })
            : await deflateAsync(raw, { level: LOOSE_COMPRESSION_LEVEL });
        await fsp.writeFile(tmp, deflated, { mode: FILE_MODE, flag: 'wx' });
      }
    });
    return { oid, written: true };
  }

  /** Reads an object: loose file inflated with Node zlib, else from a pack via isomorphic-git. */
  async read(oid: string): Promise<{ type: ObjectType; content: Buffer }> {
    let compressed: Buffer | undefined;
    try {
      compressed = await fsp.readFile(this.loosePath(oid));
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
    if (compressed) {
      let raw: Buffer;
      try {
        raw =
          compressed.length <= SYNC_ZLIB_LIMIT
            ? zlib.inflateSync(compressed)
            : // One output chunk of the exact size: no chunk list plus concatenated copy at peak.
              await inflateAsync(compressed, { chunkSize: Math.max(64 * 1024, inflatedSize(compressed)) });
      } catch (err) {
        throw new CorruptSnapshotError(`git object ${oid} cannot be decompressed (${(err as Error).message}); the repository is damaged.`, { oid });
      }
      return parseLooseObject(raw, oid);
    }
    return this.readPacked(oid);
  }

  private async readPacked(oid: string): Promise<{ type: ObjectType; content: Buffer }> {
    try {
      const result = await git.readObject({ fs, gitdir: this.gitdir, oid, format: 'content', cache: this.gitCache });
      const object = result.object as Uint8Array;
      return { type: result.type as ObjectType, content: Buffer.from(object.buffer, object.byteOffset, object.byteLength) };
    } catch (err) {
      if (err instanceof git.Errors.NotFoundError) {
        throw new CorruptSnapshotError(`git object ${oid} is missing from the repository at ${this.gitdir}; it may be damaged or incomplete.`, { oid, missing: true });
      }
      throw err;
    }
  }

  /** Expands an abbreviated id (>= 4 hex digits); returns all matches (loose and packed). */
  async expand(short: string): Promise<string[]> {
    try {
      return [await git.expandOid({ fs, gitdir: this.gitdir, oid: short, cache: this.gitCache })];
    } catch (err) {
      if (err instanceof git.Errors.AmbiguousError) return (err.data as { matches: string[] }).matches;
      if (err instanceof git.Errors.NotFoundError) return [];
      throw err;
    }
  }
}

/** The inflated size of a loose object, from its header (inflates only the first bytes). */
function inflatedSize(compressed: Buffer): number {
  const head = zlib.inflateSync(compressed.subarray(0, 64), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  const nul = head.indexOf(0);
  const size = Number(head.toString('latin1', head.indexOf(0x20) + 1, nul));
  // deflate cannot expand more than ~1032:1; a header claiming more is damaged, not a reason to allocate.
  return nul > 0 && Number.isSafeInteger(size) ? Math.min(nul + 1 + size, compressed.length * 1032 + 1024) : 0;
}

function parsePackIndex(buf: Buffer): PackIndex | null {
  // Version 1 indexes (no magic) predate git 1.5.2; those packs are still read by isomorphic-git.
  if (buf.length < 8 + 256 * 4 || buf.readUInt32BE(0) !== 0xff744f63 || buf.readUInt32BE(4) !== 2) return null;
  const fanout = new Uint32Array(256);
  for (let i = 0; i < 256; i++) fanout[i] = buf.readUInt32BE(8 + i * 4);
  const count = fanout[255]!;
  const start = 8 + 256 * 4;
  return { fanout, ids: buf.subarray(start, start + count * 20) };
}

function packIndexHas(idx: PackIndex, id: Buffer): boolean {
  const first = id[0]!;
  let lo = first === 0 ? 0 : idx.fanout[first - 1]!;
  let hi = idx.fanout[first]!;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = Buffer.compare(idx.ids.subarray(mid * 20, mid * 20 + 20), id);
    if (c === 0) return true;
    if (c < 0) lo = mid + 1;
    else hi = mid;
  }
  return false;
}
