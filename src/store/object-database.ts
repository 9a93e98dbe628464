/**
 * The object database of a bare repository: loose objects written and read with Node's
 * crypto and zlib; packed objects (after `dbsnap gc`, a native `git gc` or a clone) read
 * through their version-2 index with the same zlib (pack-file.ts). Only packs with an index
 * older than version 2 (git < 1.5.2) still go through isomorphic-git.
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
import { CorruptSnapshotError, InternalError } from '../errors/index.js';
import { ensureDir, FILE_MODE, isErrno, pathExists, writeFileViaTempSync, writeViaTemp } from './files.js';
import { hashObject, objectHeader, parseLooseObject, type ObjectType } from './objects.js';
import { IDX_MAGIC, PackFile } from './pack-file.js';
import { ObjectBatch } from './object-batch.js';
import { loadGit } from './isomorphic-git.js';

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

export class ObjectDatabase {
  readonly stats: StoreStats = { blobsRead: 0, blobsWritten: 0, bytesWritten: 0 };
  readonly objectsDir: string;
  private readonly knownFanoutDirs = new Set<string>();
  /** Pack name (`pack-<sha>.idx`) -> its reader; null for an index older than version 2. */
  private packs = new Map<string, PackFile | null>();
  private packsScanned = false;
  /** isomorphic-git's cache keeps parsed version-1 pack indexes between fallback reads. */
  private readonly gitCache = {};
  /** While set, new objects go into one pack (see object-batch.ts) instead of loose files. */
  private batch: ObjectBatch | null = null;
  /**
   * Loose objects per fan-out directory, listed once while a batch is open: a commit's first
   * write into a directory lists it, the next ones look the name up instead of a `stat` per new
   * object. It lives only as long as the batch, so objects removed later (gc, prune) are never
   * taken for present.
   */
  private looseListing: Map<string, Set<string>> | null = null;

  constructor(readonly gitdir: string) {
    this.objectsDir = path.join(gitdir, 'objects');
  }

  private loosePath(oid: string): string {
    return path.join(this.objectsDir, oid.slice(0, 2), oid.slice(2));
  }

  /**
   * True if the object exists loose or in a pack. `rescanPacks: false` trusts the pack list
   * read earlier: write() uses it because missing a pack added meanwhile (a concurrent
   * `gc`) only costs a duplicate loose object, while listing the pack directory for every
   * new object is a syscall per write.
   */
  async has(oid: string, rescanPacks = true): Promise<boolean> {
    if (this.batch?.has(oid)) return true;
    if (!this.packsScanned) await this.refreshPacks();
    const id = Buffer.from(oid, 'hex');
    if (this.packedIn(id)) return true;
    if (await pathExists(this.loosePath(oid))) return true;
    if (!rescanPacks) return false;
    // A concurrent gc may have moved the object from loose into a new pack just now.
    await this.refreshPacks();
    return this.packedIn(id) !== null;
  }

  private packedIn(id: Buffer): PackFile | null {
    for (const pack of this.packs.values()) if (pack && pack.has(id)) return pack;
    return null;
  }

  /** Re-lists objects/pack: new packs are opened, vanished ones dropped, known ones kept. */
  async refreshPacks(): Promise<void> {
    let names: string[];
    try {
      names = (await fsp.readdir(path.join(this.objectsDir, 'pack'))).filter((n) => /^pack-[0-9a-f]{40}\.idx$/.test(n)).sort();
    } catch (err) {
      if (isErrno(err, 'ENOENT')) names = [];
      else throw err;
    }
    const next = new Map<string, PackFile | null>();
    for (const name of names) {
      const known = this.packs.get(name);
      if (known !== undefined) {
        next.set(name, known);
        continue;
      }
      const idxPath = path.join(this.objectsDir, 'pack', name);
      let head: Buffer;
      try {
        head = await fsp.readFile(idxPath);
      } catch (err) {
        if (isErrno(err, 'ENOENT')) continue; // removed by a concurrent gc
        throw err;
      }
      next.set(name, head.length >= 8 && head.readUInt32BE(0) === IDX_MAGIC && head.readUInt32BE(4) === 2 ? await PackFile.fromIndex(idxPath, head) : null);
    }
    for (const [name, pack] of this.packs) if (!next.has(name)) await pack?.close();
    this.packs = next;
    this.packsScanned = true;
  }

  /** The readers of the version-2 packs, after a fresh scan. */
  async packFiles(): Promise<PackFile[]> {
    await this.refreshPacks();
    return [...this.packs.values()].filter((p): p is PackFile => p !== null);
  }

  /** Names (`pack-<sha>`) of every pack, including old-index ones dbsnap does not read itself. */
  packNames(): string[] {
    return [...this.packs.keys()].map((n) => n.slice(0, -'.idx'.length));
  }

  /** Closes open pack files (a gc is about to delete them, or the caller is done). */
  async close(): Promise<void> {
    for (const pack of this.packs.values()) await pack?.close();
    this.packs = new Map();
    this.packsScanned = false;
  }

  /** Ids of every loose object (temp files and stray names skipped). */
  async looseObjectIds(): Promise<string[]> {
    const out: string[] = [];
    let dirs: string[];
    try {
      dirs = await fsp.readdir(this.objectsDir);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return out;
      throw err;
    }
    for (const dir of dirs.filter((d) => /^[0-9a-f]{2}$/.test(d)).sort()) {
      let names: string[];
      try {
        names = await fsp.readdir(path.join(this.objectsDir, dir));
      } catch (err) {
        if (isErrno(err, 'ENOENT') || isErrno(err, 'ENOTDIR')) continue;
        throw err;
      }
      for (const n of names) if (/^[0-9a-f]{38}$/.test(n)) out.push(dir + n);
    }
    return out;
  }

  /** Deletes a loose object (one that is safely in a pack). */
  async removeLoose(oid: string): Promise<void> {
    await fsp.rm(this.loosePath(oid), { force: true });
  }

  /** Removes empty fan-out directories (after a gc moved their objects into a pack). */
  async removeEmptyFanoutDirs(): Promise<void> {
    for (const dir of await fsp.readdir(this.objectsDir)) {
      if (!/^[0-9a-f]{2}$/.test(dir)) continue;
      try {
        await fsp.rmdir(path.join(this.objectsDir, dir));
        this.knownFanoutDirs.delete(path.join(this.objectsDir, dir));
      } catch (err) {
        // Not empty (a temp file, an unreachable object left loose) or a writer just used it.
        if (!isErrno(err, 'ENOTEMPTY') && !isErrno(err, 'EEXIST') && !isErrno(err, 'ENOENT')) throw err;
      }
    }
  }

  /**
   * Stores an object unless it already exists; returns its id and whether it was new.
   * The file appears under its final name only when complete (temp file + rename), so a
   * killed process leaves at most a `tmp_obj_*` file behind.
   */
  async write(type: ObjectType, content: Buffer): Promise<{ oid: string; written: boolean }> {
    const oid = hashObject(type, content);
    if (!this.packsScanned) await this.refreshPacks();
    if (this.batch?.has(oid)) return { oid, written: false };
    // The same check as has(oid, false), without a thread-pool round trip (see writeFileViaTempSync).
    if (this.packedIn(Buffer.from(oid, 'hex')) || this.looseExists(oid)) return { oid, written: false };
    if (this.batch) {
      await this.batch.add(oid, type, content);
      return { oid, written: true };
    }
    await this.writeLooseObject(oid, type, content);
    return { oid, written: true };
  }

  /** True if the object is stored loose: a stat, or in a batch the listing of its fan-out directory. */
  private looseExists(oid: string): boolean {
    if (!this.looseListing) return fs.statSync(this.loosePath(oid), { throwIfNoEntry: false }) !== undefined;
    const fanout = oid.slice(0, 2);
    let names = this.looseListing.get(fanout);
    if (!names) {
      try {
        names = new Set(fs.readdirSync(path.join(this.objectsDir, fanout)));
      } catch (err) {
        if (!isErrno(err, 'ENOENT') && !isErrno(err, 'ENOTDIR')) throw err;
        names = new Set();
      }
      this.looseListing.set(fanout, names);
    }
    return names.has(oid.slice(2));
  }

  /**
   * From now until finishBatch(), new objects are collected into one packfile (or, if they turn
   * out to be few, loose files) that becomes visible only when finished. Whoever moves a ref to
   * them must finish the batch first.
   */
  startBatch(minPackObjects?: number): void {
    if (this.batch) throw new InternalError('an object batch is already open', {});
    this.batch = new ObjectBatch(path.join(this.objectsDir, 'pack'), (oid, type, content) => this.writeLooseObject(oid, type, content), minPackObjects);
    this.looseListing = new Map();
  }

  /** Writes the open batch's objects durably (no-op without one); returns the pack's name if it made one. */
  async finishBatch(): Promise<{ objects: number; pack: string | null }> {
    const batch = this.batch;
    if (!batch) return { objects: 0, pack: null };
    this.batch = null;
    this.looseListing = null;
    try {
      const done = await batch.finish();
      if (done.pack) await this.refreshPacks();
      return done;
    } catch (err) {
      batch.abort();
      throw err;
    }
  }

  /** Drops the open batch's objects (an operation failed before referencing them). */
  abortBatch(): void {
    this.batch?.abort();
    this.batch = null;
    this.looseListing = null;
  }

  private async writeLooseObject(oid: string, type: ObjectType, content: Buffer): Promise<void> {
    const fanoutDir = path.join(this.objectsDir, oid.slice(0, 2));
    if (!this.knownFanoutDirs.has(fanoutDir)) {
      await ensureDir(fanoutDir);
      this.knownFanoutDirs.add(fanoutDir);
    }
    try {
      await this.writeLoose(oid, type, content);
    } catch (err) {
      // A gc (ours or native git's) removed the fan-out directory after packing its objects.
      if (!isErrno(err, 'ENOENT')) throw err;
      await ensureDir(fanoutDir);
      await this.writeLoose(oid, type, content);
    }
  }

  private async writeLoose(oid: string, type: ObjectType, content: Buffer): Promise<void> {
    const header = objectHeader(type, content.length);
    // If a concurrent writer stores the same object meanwhile, the rename replaces identical bytes.
    if (header.length + content.length <= SYNC_ZLIB_LIMIT) {
      const deflated = zlib.deflateSync(Buffer.concat([header, content]), { level: LOOSE_COMPRESSION_LEVEL });
      writeFileViaTempSync(this.loosePath(oid), 'tmp_obj_', deflated);
      return;
    }
    await writeViaTemp(this.loosePath(oid), 'tmp_obj_', async (tmp) => {
      if (content.length > STREAM_WRITE_LIMIT) {
        // Streaming avoids holding header+content and the deflated copy in memory at once.
        await pipeline(
          Readable.from([header, content]),
          zlib.createDeflate({ level: LOOSE_COMPRESSION_LEVEL, chunkSize: 1024 * 1024 }),
          createWriteStream(tmp, { mode: FILE_MODE, flags: 'wx' }),
        );
      } else {
        const deflated = await deflateAsync(Buffer.concat([header, content]), { level: LOOSE_COMPRESSION_LEVEL });
        await fsp.writeFile(tmp, deflated, { mode: FILE_MODE, flag: 'wx' });
      }
    });
  }

  /**
   * Reads an object: from a pack when an index lists it (an in-memory lookup), else the loose
   * file, else, after re-listing the packs (a concurrent gc may just have packed it), a new pack.
   */
  async read(oid: string): Promise<{ type: ObjectType; content: Buffer }> {
    const batched = this.batch?.read(oid);
    if (batched) return batched;
    if (!this.packsScanned) await this.refreshPacks();
    const id = Buffer.from(oid, 'hex');
    const packed = await this.readFromPacks(oid, id);
    if (packed) return packed;
    const loose = await this.readLoose(oid);
    if (loose) return loose;
    await this.refreshPacks();
    const late = await this.readFromPacks(oid, id);
    if (late) return late;
    if ([...this.packs.values()].includes(null)) return this.readOldPack(oid);
    throw new CorruptSnapshotError(`git object ${oid} is missing from the repository at ${this.gitdir}; it may be damaged or incomplete.`, { oid, missing: true });
  }

  private async readFromPacks(oid: string, id: Buffer): Promise<{ type: ObjectType; content: Buffer } | null> {
    const pack = this.packedIn(id);
    if (!pack) return null;
    try {
      return await pack.read(oid, (base) => this.read(base));
    } catch (err) {
      // The pack was deleted by a concurrent gc before we opened it; its objects are in a newer one.
      if (!isErrno(err, 'ENOENT')) throw err;
      await this.refreshPacks();
      const again = this.packedIn(id);
      return again && again !== pack ? again.read(oid, (base) => this.read(base)) : null;
    }
  }

  private async readLoose(oid: string): Promise<{ type: ObjectType; content: Buffer } | null> {
    let compressed: Buffer;
    try {
      // Synchronous: an asynchronous readFile is four thread-pool round trips (open, fstat, read,
      // close), which cost more CPU than reading a part of a few kilobytes and left verify's
      // main thread idle ~40% of the time waiting for them.
      compressed = fs.readFileSync(this.loosePath(oid));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return null;
      throw err;
    }
    let raw: Buffer;
    try {
      // One output chunk of the exact size: no list of 16 KB chunks to concatenate (that copy
      // was most of the time a part took to inflate) and no second copy at peak.
      const size = inflatedSize(compressed);
      raw =
        compressed.length <= SYNC_ZLIB_LIMIT
          ? zlib.inflateSync(compressed, { chunkSize: Math.max(zlib.constants.Z_MIN_CHUNK, size) })
          : await inflateAsync(compressed, { chunkSize: Math.max(64 * 1024, size) });
    } catch (err) {
      throw new CorruptSnapshotError(`git object ${oid} cannot be decompressed (${(err as Error).message}); the repository is damaged.`, { oid, file: this.loosePath(oid) });
    }
    return parseLooseObject(raw, oid);
  }

  private async readOldPack(oid: string): Promise<{ type: ObjectType; content: Buffer }> {
    const git = await loadGit();
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
    const prefix = short.toLowerCase();
    await this.refreshPacks();
    const found = new Set<string>();
    for (const pack of this.packs.values()) if (pack) for (const oid of pack.idsWithPrefix(prefix)) found.add(oid);
    try {
      for (const n of await fsp.readdir(path.join(this.objectsDir, prefix.slice(0, 2)))) {
        const oid = prefix.slice(0, 2) + n;
        if (/^[0-9a-f]{40}$/.test(oid) && oid.startsWith(prefix)) found.add(oid);
      }
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw err;
    }
    if ([...this.packs.values()].includes(null)) {
      const git = await loadGit();
      try {
        found.add(await git.expandOid({ fs, gitdir: this.gitdir, oid: prefix, cache: this.gitCache }));
      } catch (err) {
        if (err instanceof git.Errors.AmbiguousError) for (const m of (err.data as { matches: string[] }).matches) found.add(m);
        else if (!(err instanceof git.Errors.NotFoundError)) throw err;
      }
    }
    return [...found].sort();
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
