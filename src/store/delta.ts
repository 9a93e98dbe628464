/**
 * Git's delta format (the data of OFS_DELTA and REF_DELTA pack entries; see gitformat-pack.txt,
 * "Deltified representation"): pure functions, no I/O.
 *
 * A delta is `<base size><result size>` (7-bit little-endian varints) then instructions: a byte
 * with the top bit set copies a range of the base (bits 0-3 say which offset bytes follow,
 * bits 4-6 which size bytes; size 0 means 0x10000), a byte 1..127 inserts that many literal bytes.
 *
 * The encoder is git's idea in small: index the base by a hash of each 16-byte block, slide a
 * rolling hash over the target, and at a hit grow the match both ways. dbsnap's parts are JSON
 * lines that change a few documents at a time, so almost every byte of a new version is a copy.
 */
import { CorruptSnapshotError } from '../errors/index.js';

const BLOCK = 16;
/** Largest copy one instruction can express with 3 size bytes; git itself emits at most 0x10000. */
const MAX_COPY = 0x10000;
const MAX_INSERT = 0x7f;
const HASH_MULT = 0x01000193;

function writeVarint(out: number[], n: number): void {
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
}

/** Multiplier^BLOCK mod 2^32, to drop the byte leaving the rolling window. */
const DROP = (() => {
  let p = 1;
  for (let i = 0; i < BLOCK; i++) p = Math.imul(p, HASH_MULT);
  return p;
})();

function blockHash(buf: Uint8Array, at: number): number {
  let h = 0;
  for (let i = 0; i < BLOCK; i++) h = (Math.imul(h, HASH_MULT) + buf[at + i]!) | 0;
  return h;
}

/**
 * The git delta that turns `base` into `target`, or null when it would not be smaller than
 * `limit` bytes (callers pass the size worth storing instead, so hopeless deltas stop early).
 */
export function createDelta(base: Uint8Array, target: Uint8Array, limit = Number.MAX_SAFE_INTEGER): Buffer | null {
  const out: number[] = [];
  writeVarint(out, base.length);
  writeVarint(out, target.length);

  // One slot per hash, the first block with that hash kept: a match grows forward from there,
  // and from the earliest occurrence it can grow furthest in repetitive text.
  const blocks = Math.floor(base.length / BLOCK);
  let bits = 4;
  while (1 << bits < blocks * 2) bits++;
  const mask = (1 << bits) - 1;
  const table = new Int32Array(1 << bits).fill(-1);
  for (let b = 0; b < blocks; b++) {
    const slot = (Math.imul(blockHash(base, b * BLOCK), 0x9e3779b1) >>> (32 - bits)) & mask;
    if (table[slot] === -1) table[slot] = b * BLOCK;
  }

  let insertStart = 0;
  const flushInsert = (end: number) => {
    while (insertStart < end) {
      const n = Math.min(MAX_INSERT, end - insertStart);
      out.push(n);
      for (let i = 0; i < n; i++) out.push(target[insertStart + i]!);
      insertStart += n;
    }
  };
  const emitCopy = (offset: number, size: number) => {
    while (size > 0) {
      const n = Math.min(MAX_COPY, size);
      let op = 0x80;
      const args: number[] = [];
      for (let i = 0; i < 4; i++) {
        const byte = (offset >>> (8 * i)) & 0xff;
        if (byte !== 0) {
          op |= 1 << i;
          args.push(byte);
        }
      }
      const sizeField = n === 0x10000 ? 0 : n;
      for (let i = 0; i < 3; i++) {
        const byte = (sizeField >>> (8 * i)) & 0xff;
        if (byte !== 0) {
          op |= 1 << (4 + i);
          args.push(byte);
        }
      }
      out.push(op, ...args);
      offset += n;
      size -= n;
    }
  };

  let p = 0;
  let h = target.length >= BLOCK ? blockHash(target, 0) : 0;
  while (p + BLOCK <= target.length) {
    const candidate = blocks > 0 ? table[(Math.imul(h, 0x9e3779b1) >>> (32 - bits)) & mask]! : -1;
    let matched = false;
    if (candidate >= 0) {
      let fwd = 0;
      while (p + fwd < target.length && candidate + fwd < base.length && target[p + fwd] === base[candidate + fwd]) fwd++;
      if (fwd >= BLOCK) {
        let back = 0;
        while (p - back > insertStart && candidate - back > 0 && target[p - back - 1] === base[candidate - back - 1]) back++;
        flushInsert(p - back);
        emitCopy(candidate - back, fwd + back);
        p += fwd;
        insertStart = p;
        matched = true;
        if (out.length >= limit) return null;
        if (p + BLOCK <= target.length) h = blockHash(target, p);
      }
    }
    if (!matched) {
      if (p + BLOCK < target.length) h = (Math.imul(h, HASH_MULT) + target[p + BLOCK]! - Math.imul(target[p]!, DROP)) | 0;
      p++;
      if (out.length + (p - insertStart) >= limit) return null;
    }
  }
  flushInsert(target.length);
  if (out.length >= limit) return null;
  return Buffer.from(out);
}

function readVarint(delta: Uint8Array, pos: { i: number }): number {
  let n = 0;
  let shift = 1;
  for (;;) {
    const byte = delta[pos.i++];
    if (byte === undefined) throw new CorruptSnapshotError('a git delta ends inside a size field; the pack is damaged.');
    n += (byte & 0x7f) * shift;
    shift *= 128;
    if (!(byte & 0x80)) return n;
  }
}

/** The size of the object a delta produces (from its header), without applying it. */
export function deltaResultSize(delta: Uint8Array): number {
  const pos = { i: 0 };
  readVarint(delta, pos);
  return readVarint(delta, pos);
}

/**
 * Applies a git delta to `base`. `what` names the object for the error message.
 * @throws CorruptSnapshotError when the delta does not fit the base or is malformed.
 */
export function applyDelta(base: Uint8Array, delta: Uint8Array, what: string): Buffer {
  const fail = (why: string): never => {
    throw new CorruptSnapshotError(`${what}: delta cannot be applied (${why}); the pack is damaged.`, { object: what });
  };
  const pos = { i: 0 };
  let baseSize: number;
  let resultSize: number;
  try {
    baseSize = readVarint(delta, pos);
    resultSize = readVarint(delta, pos);
  } catch {
    return fail('truncated header');
  }
  if (baseSize !== base.length) fail(`base is ${base.length} bytes, delta expects ${baseSize}`);
  const out = Buffer.allocUnsafe(resultSize);
  let o = 0;
  let i = pos.i;
  while (i < delta.length) {
    const op = delta[i++]!;
    if (op & 0x80) {
      let offset = 0;
      let size = 0;
      for (let b = 0; b < 4; b++) if (op & (1 << b)) offset += delta[i++]! * 2 ** (8 * b);
      for (let b = 0; b < 3; b++) if (op & (1 << (4 + b))) size += delta[i++]! << (8 * b);
      if (size === 0) size = 0x10000;
      if (i > delta.length || offset + size > base.length || o + size > resultSize) fail('copy out of range');
      out.set(base.subarray(offset, offset + size), o);
      o += size;
    } else if (op !== 0) {
      if (i + op > delta.length || o + op > resultSize) fail('insert out of range');
      out.set(delta.subarray(i, i + op), o);
      o += op;
      i += op;
    } else {
      fail('reserved instruction 0');
    }
  }
  if (o !== resultSize) fail(`produced ${o} bytes, header says ${resultSize}`);
  return out;
}
