/**
 * Repacking: every object of the repository (loose objects and existing packs) into one new
 * pack, new objects stored as deltas against the same path's version in the parent commit.
 *
 * One pack, not one more pack per run: git requires a delta's base to be in the same pack, so
 * an hourly snapshot's parts could only be deltified against last hour's parts if those are in
 * the new pack too. The entries of the biggest old pack (normally the last repack's) are copied
 * as they are (no re-inflating, no new delta search), so a repack costs the new objects plus a
 * copy of that pack, and then the verifying read of the new pack. The new objects are the loose
 * ones and those of the other packs: a commit writes its objects as a pack of their own
 * (object-batch.ts), whole, so they are searched for deltas like loose objects are.
 *
 * Safety: copied entries must match their old index's CRC; the pack and its index are written
 * to temp files, synced, every new object read back and re-hashed, and only then renamed into
 * place, pack first (git and dbsnap find packs through their .idx). Old packs and loose objects
 * are deleted last, and only those whose every object is in the new pack. Readers that had them open keep reading (POSIX unlink);
 * readers that had listed them re-list the pack directory on a miss (see ObjectDatabase.read).
 */
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { promisify } from 'node:util';
import { CorruptSnapshotError, InternalError } from '../errors/index.js';
import { createDelta } from './delta.js';
import { isErrno, pathExists } from './files.js';
import type { ObjectDatabase } from './object-database.js';
import { hashObject, parseCommit, parseTree } from './objects.js';
import { OFS_DELTA, PackFile, parsePackIndex, REF_DELTA } from './pack-file.js';
import { PackWriter } from './pack-writer.js';

const deflateAsync = promisify(zlib.deflate);

/** git's pack.depth default: no object is more than this many deltas away from a whole one. */
const MAX_DEPTH = 50;
/** How many older versions of a path are tried as base when the newest is at MAX_DEPTH. */
const WINDOW = 10;
/** A delta is kept only if it is at most this fraction of the object (else it is stored whole). */
const MAX_DELTA_RATIO = 0.5;
/** Smaller objects (commits, tags, tiny files) are not worth a delta search. */
const MIN_DELTA_SIZE = 64;
const PACK_COMPRESSION_LEVEL = zlib.constants.Z_DEFAULT_COMPRESSION;

export interface RepackProgress {
  phase: 'counting' | 'deltas' | 'writing' | 'verifying' | 'cleaning';
  done: number;
  total: number;
}

export interface RepackResult {
  /** False when there was nothing to do (no loose objects and at most one pack; that pack's entries were checked against its index CRCs). */
  packed: boolean;
  /** `pack-<sha>` of the pack now holding everything (null when nothing was done and no pack exists). */
  pack: string | null;
  objects: number;
  /** Loose objects now in the pack, and deleted. */
  looseObjects: number;
  /** New objects (loose, or from a pack other than the reused one) stored as deltas. */
  deltas: number;
  /** Entries copied unchanged from the biggest earlier pack. */
  reusedEntries: number;
  /** Earlier packs merged into the new one and deleted. */
  packsRemoved: number;
  /** Size of `objects/` (loose files plus packs) before and after. */
  bytesBefore: number;
  bytesAfter: number;
}

/** Where an object comes from: an entry of the reused pack, or anywhere else (a new object). */
type Source = { kind: 'packed'; pack: PackFile; offset: number } | { kind: 'new' };

async function objectsDirSize(dir: string): Promise<number> {
  let total = 0;
  const walk = async (d: string): Promise<void> => {
    let names: string[];
    try {
      names = await fsp.readdir(d);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return;
      throw err;
    }
    for (const n of names) {
      const p = path.join(d, n);
      const st = await fsp.lstat(p).catch(() => null);
      if (!st) continue;
      if (st.isDirectory()) await walk(p);
      else total += st.size;
    }
  };
  await walk(dir);
  return total;
}

/**
 * For new trees and blobs (`loose`: loose, or in a pack other than the reused one), the id of
 * the same path's version in the commit's first parent ("previous version"), found by diffing
 * the trees of every new commit reachable from `tips` against its parent (only subtrees whose
 * ids differ are read).
 */
async function previousVersions(db: ObjectDatabase, tips: string[], loose: Set<string>): Promise<Map<string, string>> {
  const prev = new Map<string, string>();
  const seen = new Set<string>();
  const queue = [...tips];
  const commits: { tree: string; parentTree: string | null }[] = [];
  const treeOf = async (oid: string) => parseCommit((await db.read(oid)).content, oid).tree;
  while (queue.length > 0) {
    let oid = queue.pop()!;
    if (seen.has(oid)) continue;
    seen.add(oid);
    let obj = await db.read(oid);
    // Annotated tags point at commits (or, rarely, at other tags).
    while (obj.type === 'tag') {
      const m = /^object ([0-9a-f]{40})$/m.exec(obj.content.toString('latin1'));
      if (!m) break;
      oid = m[1]!;
      if (seen.has(oid)) break;
      seen.add(oid);
      obj = await db.read(oid);
    }
    if (obj.type !== 'commit') continue;
    // Packed commits were diffed by an earlier repack (or came from a clone): their history is done.
    if (!loose.has(oid)) continue;
    const c = parseCommit(obj.content, oid);
    commits.push({ tree: c.tree, parentTree: c.parents[0] ? await treeOf(c.parents[0]) : null });
    queue.push(...c.parents);
  }
  const diffTrees = async (older: string, newer: string): Promise<void> => {
    if (older === newer || !loose.has(newer)) return;
    if (!prev.has(newer)) prev.set(newer, older);
    const olderEntries = new Map(parseTree((await db.read(older)).content, older).map((e) => [e.name, e]));
    for (const e of parseTree((await db.read(newer)).content, newer)) {
      const o = olderEntries.get(e.name);
      if (!o || o.oid === e.oid || o.type !== e.type || e.type === 'commit') continue;
      if (e.type === 'tree') await diffTrees(o.oid, e.oid);
      else if (loose.has(e.oid) && !prev.has(e.oid)) prev.set(e.oid, o.oid);
    }
  };
  for (const c of commits) if (c.parentTree) await diffTrees(c.parentTree, c.tree);
  return prev;
}

/**
 * New objects in the order a reader of the newest snapshots wants them: each commit (newest
 * first), then its trees and blobs depth-first in tree order, which is the order diff, verify and
 * restore read parts in. Pack readers cache windows of the pack, so neighbours read together
 * cost one read. Objects no ref reaches come last.
 */
async function readingOrder(db: ObjectDatabase, tips: string[], loose: Set<string>): Promise<string[]> {
  const order: string[] = [];
  const placed = new Set<string>();
  const walkTree = async (oid: string): Promise<void> => {
    if (placed.has(oid) || !loose.has(oid)) return;
    placed.add(oid);
    order.push(oid);
    for (const e of parseTree((await db.read(oid)).content, oid)) {
      if (e.type === 'tree') await walkTree(e.oid);
      else if (e.type === 'blob' && loose.has(e.oid) && !placed.has(e.oid)) {
        placed.add(e.oid);
        order.push(e.oid);
      }
    }
  };
  const queue = [...tips];
  while (queue.length > 0) {
    const oid = queue.shift()!;
    if (placed.has(oid) || !loose.has(oid)) continue;
    const obj = await db.read(oid);
    placed.add(oid);
    order.push(oid);
    if (obj.type === 'tag') {
      const m = /^object ([0-9a-f]{40})$/m.exec(obj.content.toString('latin1'));
      if (m) queue.push(m[1]!);
    } else if (obj.type === 'commit') {
      const c = parseCommit(obj.content, oid);
      await walkTree(c.tree);
      queue.push(...c.parents);
    }
  }
  for (const oid of loose) if (!placed.has(oid)) order.push(oid);
  return order;
}

/**
 * Packs every object of the repository into one pack (see the module comment) and deletes what
 * it replaced. `tips` are the commits/tags the refs point to (for choosing delta bases only:
 * unreachable objects are packed too, never dropped).
 */
export async function repack(db: ObjectDatabase, tips: string[], onProgress?: (p: RepackProgress) => void): Promise<RepackResult> {
  const packDir = path.join(db.objectsDir, 'pack');
  const oldPacks = await db.packFiles();
  const looseIds = await db.looseObjectIds();
  const bytesBefore = await objectsDirSize(db.objectsDir);
  const nothing = { packed: false, objects: 0, looseObjects: 0, deltas: 0, reusedEntries: 0, packsRemoved: 0, bytesBefore, bytesAfter: bytesBefore };
  if (looseIds.length === 0 && oldPacks.length <= 1) {
    const only = oldPacks[0];
    // Nothing to pack, but the pack it keeps gets the same check a copied entry gets: each
    // entry's bytes against its index CRC (a damaged pack fails here, naming it).
    if (only) {
      let checked = 0;
      for (const { oid, offset, crc } of [...only.entries()].sort((a, b) => a.offset - b.offset)) {
        const { raw } = await only.rawEntry(offset);
        if (zlib.crc32(raw) >>> 0 !== crc) {
          throw new CorruptSnapshotError(`gc: pack ${only.packPath} is damaged (object ${oid} at offset ${offset} fails its CRC). Run \`git fsck\` and restore the pack from a copy or a remote.`, { file: only.packPath, oid, offset });
        }
        if (++checked % 1000 === 0 || checked === only.index.count) onProgress?.({ phase: 'verifying', done: checked, total: only.index.count });
      }
    }
    return { ...nothing, pack: only ? path.basename(only.packPath, '.pack') : null, objects: only?.index.count ?? 0 };
  }
  // A pack with a .keep file is someone's on purpose: leave it, and do not delta against it.
  const kept = new Set<PackFile>();
  for (const p of oldPacks) if (await pathExists(p.packPath.replace(/\.pack$/, '.keep'))) kept.add(p);

  // 1. Every object and where it is now: the biggest pack's entries are reused; objects found
  //    only in other packs or loose are new (deltified, written, read back and re-hashed).
  const sources = new Map<string, Source>();
  const keptIds = new Set<string>();
  for (const pack of kept) for (const { oid } of pack.entries()) keptIds.add(oid);
  let reused: PackFile | undefined;
  for (const pack of oldPacks) if (!kept.has(pack) && pack.index.count > (reused?.index.count ?? -1)) reused = pack;
  if (reused) for (const { oid, offset } of reused.entries()) if (!keptIds.has(oid)) sources.set(oid, { kind: 'packed', pack: reused, offset });
  const fresh = new Set<string>();
  /** Records `oid` as a new object unless it is already placed; true if it was added. */
  const addFresh = (oid: string): boolean => {
    if (sources.has(oid) || keptIds.has(oid)) return false;
    sources.set(oid, { kind: 'new' });
    fresh.add(oid);
    return true;
  };
  for (const pack of oldPacks) if (pack !== reused && !kept.has(pack)) for (const { oid } of pack.entries()) addFresh(oid);
  let looseObjects = 0;
  for (const oid of looseIds) if (addFresh(oid)) looseObjects++;
  onProgress?.({ phase: 'counting', done: sources.size, total: sources.size });

  // 2. Deltas for new objects against their path's previous version.
  const prev = await previousVersions(db, tips, fresh);
  const depthMemo = new Map<string, number>();
  const plannedDeltas = new Map<string, { base: string; delta: Buffer }>();
  const depthOf = async (oid: string): Promise<number> => {
    const known = depthMemo.get(oid);
    if (known !== undefined) return known;
    const src = sources.get(oid);
    let depth = 0;
    if (src?.kind === 'packed') {
      // Count the chain in the old pack from entry headers (reused entries keep their chains).
      let at = src.offset;
      for (;;) {
        const { header } = await src.pack.rawEntry(at);
        if (header.typeCode === OFS_DELTA) at = header.baseOffset!;
        else if (header.typeCode === REF_DELTA) {
          depth += 1 + (await depthOf(header.baseOid!));
          break;
        } else break;
        depth++;
      }
    } else if (src?.kind === 'new') {
      const planned = plannedDeltas.get(oid);
      depth = planned ? 1 + (await depthOf(planned.base)) : 0;
    }
    depthMemo.set(oid, depth);
    return depth;
  };
  // Oldest first, so a base's own plan (and depth) is known before its successors are planned.
  const chainOrder: string[] = [];
  const placed = new Set<string>();
  const place = (oid: string): void => {
    if (placed.has(oid)) return;
    placed.add(oid);
    const base = prev.get(oid);
    if (base !== undefined && fresh.has(base)) place(base);
    chainOrder.push(oid);
  };
  for (const oid of prev.keys()) place(oid);
  let done = 0;
  for (const oid of chainOrder) {
    onProgress?.({ phase: 'deltas', done: done++, total: chainOrder.length });
    const candidates: string[] = [];
    for (let c = prev.get(oid); c !== undefined && candidates.length < WINDOW; c = prev.get(c)) {
      if (sources.has(c)) candidates.push(c);
    }
    if (candidates.length === 0) continue;
    const target = await db.read(oid);
    if (target.content.length < MIN_DELTA_SIZE) continue;
    for (const base of candidates) {
      if ((await depthOf(base)) >= MAX_DEPTH) continue;
      const baseObj = await db.read(base);
      if (baseObj.type !== target.type) break;
      const delta = createDelta(baseObj.content, target.content, Math.floor(target.content.length * MAX_DELTA_RATIO));
      if (delta) plannedDeltas.set(oid, { base, delta });
      break;
    }
  }

  // 3. Write: the reused pack's entries in their order (bases before deltas), then new objects,
  //    whole ones before deltas and each delta after its base.
  const writer = await PackWriter.create(packDir, sources.size);
  let reusedEntries = 0;
  let deltas = 0;
  let result: Awaited<ReturnType<PackWriter['finish']>>;
  try {
    done = 0;
    const total = sources.size;
    for (const pack of oldPacks) {
      if (kept.has(pack)) continue;
      const own = [...pack.entries()].filter(({ oid }) => {
        const s = sources.get(oid);
        return s?.kind === 'packed' && s.pack === pack;
      });
      own.sort((a, b) => a.offset - b.offset);
      const oidAt = new Map<number, string>();
      for (const { oid, offset } of pack.entries()) oidAt.set(offset, oid);
      for (const { oid, offset, crc } of own) {
        const { raw, header } = await pack.rawEntry(offset);
        // The index's CRC of the entry's bytes: a damaged old pack is not copied into the new one.
        if (zlib.crc32(raw) >>> 0 !== crc) {
          throw new CorruptSnapshotError(`gc: pack ${pack.packPath} is damaged (object ${oid} at offset ${offset} fails its CRC); nothing was changed. Run \`git fsck\` and restore the pack from a copy or a remote.`, { file: pack.packPath, oid, offset });
        }
        const baseOid = header.typeCode === OFS_DELTA ? oidAt.get(header.baseOffset!) : header.baseOid;
        if ((header.typeCode === OFS_DELTA || header.typeCode === REF_DELTA) && (baseOid === undefined || !sources.has(baseOid))) {
          // A delta whose base is not going into the new pack (a kept pack's): store it whole.
          const obj = await db.read(oid);
          await writer.addObject(oid, obj.type, obj.content, await deflate(obj.content));
        } else if ((header.typeCode === OFS_DELTA || header.typeCode === REF_DELTA) && writer.offsetOf(baseOid!) === undefined) {
          // Its base comes later (a duplicate kept from another pack): the entry stays REF_DELTA.
          await writer.addRaw(oid, REF_DELTA, header.size, raw.subarray(header.dataStart), baseOid);
        } else {
          await writer.addRaw(oid, header.typeCode, header.size, raw.subarray(header.dataStart), baseOid);
        }
        reusedEntries++;
        onProgress?.({ phase: 'writing', done: ++done, total });
      }
    }
    const wholeOrder = (await readingOrder(db, tips, fresh)).filter((oid) => !plannedDeltas.has(oid));
    const deltaOrder = chainOrder.filter((oid) => plannedDeltas.has(oid));
    for (const oid of wholeOrder) {
      const obj = await db.read(oid);
      await writer.addObject(oid, obj.type, obj.content, await deflate(obj.content));
      onProgress?.({ phase: 'writing', done: ++done, total });
    }
    for (const oid of deltaOrder) {
      const { base, delta } = plannedDeltas.get(oid)!;
      if (writer.offsetOf(base) === undefined) throw new InternalError(`delta base ${base} not written before ${oid}`, { object: oid, base });
      await writer.addDelta(oid, base, delta.length, await deflate(delta));
      deltas++;
      onProgress?.({ phase: 'writing', done: ++done, total });
    }
    result = await writer.finish();
  } catch (err) {
    await writer.abort();
    throw err;
  }

  const finalPack = path.join(packDir, `${result.name}.pack`);
  const finalIdx = path.join(packDir, `${result.name}.idx`);
  try {
    // 4. Read the new objects back from the temp files (whole, or through their delta chains)
    //    and re-hash them before anything is replaced. Copied entries passed their CRC above;
    //    re-reading them would make every gc as slow as reading the whole history.
    const written = new PackFile(result.tmpPack, parsePackIndex(await fsp.readFile(result.tmpIdx), result.tmpIdx));
    try {
      let checked = 0;
      if (written.index.count !== sources.size) throw new CorruptSnapshotError(`gc: the new pack holds ${written.index.count} objects, expected ${sources.size}; nothing was changed.`, { file: result.tmpPack });
      const entries = [...written.entries()].filter((e) => fresh.has(e.oid)).sort((a, b) => a.offset - b.offset);
      for (const { oid, offset } of entries) {
        const obj = await written.readAt(offset, (base) => db.read(base), oid);
        if (hashObject(obj.type, obj.content) !== oid) {
          throw new CorruptSnapshotError(`gc: the new pack's object ${oid} reads back with a different id; nothing was changed.`, { oid, file: result.tmpPack });
        }
        if (++checked % 1000 === 0 || checked === entries.length) onProgress?.({ phase: 'verifying', done: checked, total: entries.length });
      }
    } finally {
      await written.close();
    }
    // 5. Into place: the .pack first, so an .idx never names a missing pack.
    await fsp.rename(result.tmpPack, finalPack);
    await fsp.rename(result.tmpIdx, finalIdx);
    await syncDir(packDir);
  } catch (err) {
    await fsp.rm(result.tmpPack, { force: true });
    await fsp.rm(result.tmpIdx, { force: true });
    throw err;
  }

  // 6. Delete what the new pack replaces.
  await db.close();
  let packsRemoved = 0;
  const replaced = oldPacks.filter((p) => !kept.has(p) && path.basename(p.packPath, '.pack') !== result.name);
  for (const pack of replaced) {
    const base = pack.packPath.replace(/\.pack$/, '');
    // The index first: once it is gone, no new reader finds the pack.
    for (const ext of ['.idx', '.pack', '.rev', '.bitmap', '.mtimes', '.promisor']) await fsp.rm(base + ext, { force: true });
    packsRemoved++;
    onProgress?.({ phase: 'cleaning', done: packsRemoved, total: replaced.length + looseIds.length });
  }
  let removed = 0;
  for (const oid of looseIds) {
    if (!sources.has(oid)) continue; // in a kept pack too, or not ours: leave it
    await db.removeLoose(oid);
    if (++removed % 1000 === 0) onProgress?.({ phase: 'cleaning', done: packsRemoved + removed, total: replaced.length + looseIds.length });
  }
  await db.removeEmptyFanoutDirs();
  await db.refreshPacks();
  return {
    packed: true,
    pack: result.name,
    objects: sources.size,
    looseObjects,
    deltas,
    reusedEntries,
    packsRemoved,
    bytesBefore,
    bytesAfter: await objectsDirSize(db.objectsDir),
  };
}

async function deflate(content: Buffer): Promise<Buffer> {
  return content.length <= 64 * 1024 ? zlib.deflateSync(content, { level: PACK_COMPRESSION_LEVEL }) : deflateAsync(content, { level: PACK_COMPRESSION_LEVEL });
}

/** fsync a directory so the renames in it survive a power cut (best effort where unsupported). */
async function syncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch (err) {
    if (!isErrno(err, 'EISDIR') && !isErrno(err, 'EINVAL') && !isErrno(err, 'EPERM')) throw err;
  } finally {
    await fh?.close();
  }
}
