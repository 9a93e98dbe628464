/**
 * git's index file (`.git/index`, the staging area) as native git reads it. dbsnap reads
 * versions 2, 3 and 4 and always writes version 2 without extensions: the cached trees and
 * the untracked cache are optional, and git rebuilds them when it needs them. A split or sparse
 * index is refused rather than half-understood. See git's Documentation/gitformat-index.txt.
 */
import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { InvalidArgumentError } from '../errors/index.js';

export interface IndexEntry {
  path: string;
  oid: string;
  /** 0o100644, 0o100755, 0o120000 (symlink) or 0o160000 (submodule). */
  mode: number;
  /** 0 normally; 1-3 for the sides of an unresolved merge conflict. */
  stage: number;
  ctimeS: number;
  ctimeNs: number;
  mtimeS: number;
  mtimeNs: number;
  dev: number;
  ino: number;
  uid: number;
  gid: number;
  size: number;
}

const SIGNATURE = 0x44495243; // "DIRC"

/** An index entry for a file just written, from its lstat (with `bigint: true` for nanoseconds). */
export function entryFromStat(path: string, oid: string, st: Stats | import('node:fs').BigIntStats): IndexEntry {
  const ns = (ms: number | bigint, nsValue: bigint | undefined): [number, number] => {
    if (nsValue !== undefined) return [Number(nsValue / 1_000_000_000n), Number(nsValue % 1_000_000_000n)];
    const m = Number(ms);
    return [Math.floor(m / 1000), Math.round((m % 1000) * 1e6)];
  };
  const big = st as import('node:fs').BigIntStats;
  const [ctimeS, ctimeNs] = ns(st.ctimeMs, typeof big.ctimeNs === 'bigint' ? big.ctimeNs : undefined);
  const [mtimeS, mtimeNs] = ns(st.mtimeMs, typeof big.mtimeNs === 'bigint' ? big.mtimeNs : undefined);
  // git stores the low 32 bits of each field.
  const u32 = (v: number | bigint) => Number(BigInt(v) & 0xffffffffn);
  return {
    path,
    oid,
    mode: 0o100644,
    stage: 0,
    ctimeS: u32(ctimeS),
    ctimeNs,
    mtimeS: u32(mtimeS),
    mtimeNs,
    dev: u32(st.dev),
    ino: u32(st.ino),
    uid: u32(st.uid),
    gid: u32(st.gid),
    size: u32(st.size),
  };
}

/** Byte-wise path order, then stage: the order git keeps entries in. */
export function compareEntries(a: IndexEntry, b: IndexEntry): number {
  const c = Buffer.compare(Buffer.from(a.path), Buffer.from(b.path));
  return c !== 0 ? c : a.stage - b.stage;
}

/**
 * Parses an index file.
 * @throws InvalidArgumentError for a file that is not an index, a version dbsnap does not know,
 *   or a split/sparse index (whose entries live partly elsewhere).
 */
export function parseIndex(buf: Buffer, file: string): IndexEntry[] {
  const bad = (why: string) =>
    new InvalidArgumentError(`${file} is not a git index dbsnap can read (${why}); run \`git status\` once to rewrite it, then retry.`, { file });
  if (buf.length < 32 || buf.readUInt32BE(0) !== SIGNATURE) throw bad('no DIRC signature');
  const digest = createHash('sha1').update(buf.subarray(0, buf.length - 20)).digest();
  if (!digest.equals(buf.subarray(buf.length - 20))) throw bad('checksum mismatch');
  const version = buf.readUInt32BE(4);
  if (version < 2 || version > 4) throw bad(`version ${version}`);
  const count = buf.readUInt32BE(8);
  const entries: IndexEntry[] = [];
  let pos = 12;
  let previous = '';
  for (let i = 0; i < count; i++) {
    const start = pos;
    const u = (o: number) => buf.readUInt32BE(start + o);
    const flags = buf.readUInt16BE(start + 60);
    pos = start + 62;
    if (flags & 0x4000) {
      if (version < 3) throw bad('extended flags in a version 2 index');
      const extended = buf.readUInt16BE(pos);
      // skip-worktree (sparse checkout) and intent-to-add entries describe a work tree dbsnap does not manage.
      if (extended & 0x6000) throw bad('sparse checkout or intent-to-add entries');
      pos += 2;
    }
    let name: string;
    if (version === 4) {
      let strip = 0;
      let byte: number;
      let first = true;
      // git's offset varint: each continuation adds one before shifting.
      do {
        byte = buf[pos++]!;
        strip = first ? byte & 0x7f : ((strip + 1) << 7) | (byte & 0x7f);
        first = false;
      } while (byte & 0x80);
      const end = buf.indexOf(0, pos);
      const prefix = Buffer.from(previous).subarray(0, Buffer.byteLength(previous) - strip);
      name = Buffer.concat([prefix, buf.subarray(pos, end)]).toString('utf8');
      pos = end + 1;
    } else {
      const end = buf.indexOf(0, pos);
      name = buf.subarray(pos, end).toString('utf8');
      // Entries are padded with 1-8 NULs to a multiple of 8 bytes.
      pos = start + Math.ceil((end - start + 1) / 8) * 8;
    }
    previous = name;
    entries.push({
      path: name,
      oid: buf.subarray(start + 40, start + 60).toString('hex'),
      mode: u(24),
      stage: (flags >> 12) & 3,
      ctimeS: u(0),
      ctimeNs: u(4),
      mtimeS: u(8),
      mtimeNs: u(12),
      dev: u(16),
      ino: u(20),
      uid: u(28),
      gid: u(32),
      size: u(36),
    });
  }
  // Extensions: each is a 4-byte signature and a 4-byte length. Optional ones start with A-Z.
  while (pos + 8 <= buf.length - 20) {
    const sig = buf.subarray(pos, pos + 4).toString('latin1');
    if (sig === 'link' || sig === 'sdir') throw bad(sig === 'link' ? 'a split index' : 'a sparse index');
    pos += 8 + buf.readUInt32BE(pos + 4);
  }
  return entries;
}

/** Serializes entries (sorted here) as a version 2 index without extensions. */
export function formatIndex(entries: IndexEntry[]): Buffer {
  const sorted = [...entries].sort(compareEntries);
  const chunks: Buffer[] = [];
  const header = Buffer.alloc(12);
  header.writeUInt32BE(SIGNATURE, 0);
  header.writeUInt32BE(2, 4);
  header.writeUInt32BE(sorted.length, 8);
  chunks.push(header);
  for (const e of sorted) {
    const name = Buffer.from(e.path);
    const len = Math.ceil((62 + name.length + 1) / 8) * 8;
    const b = Buffer.alloc(len);
    const fields = [e.ctimeS, e.ctimeNs, e.mtimeS, e.mtimeNs, e.dev, e.ino, e.mode, e.uid, e.gid, e.size];
    fields.forEach((v, i) => b.writeUInt32BE(v >>> 0, i * 4));
    b.write(e.oid, 40, 'hex');
    b.writeUInt16BE(((e.stage & 3) << 12) | Math.min(name.length, 0xfff), 60);
    name.copy(b, 62);
    chunks.push(b);
  }
  const body = Buffer.concat(chunks);
  return Buffer.concat([body, createHash('sha1').update(body).digest()]);
}
