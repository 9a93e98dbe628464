/**
 * Git object encoding and decoding (pure functions, no I/O).
 *
 * dbsnap formats trees, commits and tags itself rather than through isomorphic-git: it is a
 * few lines each, avoids isomorphic-git's slow Web-Crypto/CompressionStream path, and lets
 * the tests pin the exact bytes. The formats are git's own (see gitformat-*.txt in git's
 * docs); the tests cross-check every id against native git.
 */
import { createHash } from 'node:crypto';
import { CorruptSnapshotError, InvalidArgumentError } from '../errors/index.js';

export type ObjectType = 'blob' | 'tree' | 'commit' | 'tag';

/** An identity with a timestamp, as in a commit's author line. */
export interface GitIdentity {
  name: string;
  email: string;
  /** Seconds since the Unix epoch. */
  timestamp: number;
  /**
   * Minutes, with the sign of `Date#getTimezoneOffset` (isomorphic-git's convention):
   * `-120` means `+0200`, `300` means `-0500`.
   */
  timezoneOffset: number;
}

export interface TreeEntry {
  mode: string;
  name: string;
  oid: string;
  type: 'blob' | 'tree' | 'commit';
}

export interface ParsedCommit {
  tree: string;
  parents: string[];
  author: GitIdentity;
  committer: GitIdentity;
  message: string;
}

export interface ParsedTag {
  object: string;
  type: ObjectType;
  tag: string;
  tagger?: GitIdentity;
  message: string;
}

export const EMPTY_TREE_OID = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';
const OID_RE = /^[0-9a-f]{40}$/;

export function isOid(value: string): boolean {
  return OID_RE.test(value);
}

export function toBuffer(content: Uint8Array | string): Buffer {
  if (typeof content === 'string') return Buffer.from(content, 'utf8');
  return Buffer.isBuffer(content) ? content : Buffer.from(content.buffer, content.byteOffset, content.byteLength);
}

/** The `<type> <size>\0` prefix git hashes and stores in front of every object. */
export function objectHeader(type: ObjectType, size: number): Buffer {
  return Buffer.from(`${type} ${size}\0`, 'latin1');
}

/** The object id git computes for `content` stored as `type` (hashes header + content without copying). */
export function hashObject(type: ObjectType, content: Uint8Array): string {
  return createHash('sha1').update(objectHeader(type, content.byteLength)).update(content).digest('hex');
}

/**
 * Splits an inflated loose object into type and content. `content` is a view, not a copy.
 */
export function parseLooseObject(raw: Buffer, oid: string): { type: ObjectType; content: Buffer } {
  const nul = raw.indexOf(0);
  const space = raw.indexOf(0x20);
  if (nul < 0 || space < 0 || space > nul) {
    throw new CorruptSnapshotError(`git object ${oid} has no valid header; the repository is damaged.`, { oid });
  }
  const type = raw.toString('latin1', 0, space);
  const size = Number(raw.toString('latin1', space + 1, nul));
  const content = raw.subarray(nul + 1);
  if (!['blob', 'tree', 'commit', 'tag'].includes(type) || size !== content.length) {
    throw new CorruptSnapshotError(
      `git object ${oid} is damaged (header says ${type} of ${size} bytes, found ${content.length} bytes).`,
      { oid, type, size, actual: content.length },
    );
  }
  return { type: type as ObjectType, content };
}

/**
 * Git sorts tree entries by name bytes, comparing a subtree's name as if it ended in '/'.
 * So blob `a.b` sorts before tree `a` ('.' 0x2e < '/' 0x2f), and tree `a` sorts before blob
 * `a0` ('/' < '0'), although a plain string sort would put `a` first in both cases.
 */
export function compareTreeEntryNames(a: { name: Buffer; isTree: boolean }, b: { name: Buffer; isTree: boolean }): number {
  const len = Math.min(a.name.length, b.name.length);
  const c = Buffer.compare(a.name.subarray(0, len), b.name.subarray(0, len));
  if (c !== 0) return c;
  const ca = a.name.length > len ? a.name[len]! : a.isTree ? 0x2f : 0;
  const cb = b.name.length > len ? b.name[len]! : b.isTree ? 0x2f : 0;
  return ca - cb;
}

/**
 * Serialises one tree level; entries may come in any order. Written into one buffer: a parts
 * tree has tens of thousands of entries, and four small Buffers each cost more than the tree.
 */
export function formatTree(entries: { mode: string; name: string; oid: string }[]): Buffer {
  let sorted: { mode: string; name: string; oid: string }[];
  if (entries.every((e) => /^[\x00-\x7f]*$/.test(e.name))) {
    // ASCII: code-unit order is byte order; a tree sorts as if its name ended in "/" (git's rule).
    const keyed = entries.map((e) => ({ key: e.mode === '40000' ? `${e.name}/` : e.name, e }));
    keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    sorted = keyed.map((k) => k.e);
  } else {
    const prepared = entries.map((e) => ({ e, nameBytes: Buffer.from(e.name, 'utf8'), isTree: e.mode === '40000' }));
    prepared.sort((a, b) => compareTreeEntryNames({ name: a.nameBytes, isTree: a.isTree }, { name: b.nameBytes, isTree: b.isTree }));
    sorted = prepared.map((p) => p.e);
  }
  let size = 0;
  for (const e of sorted) size += e.mode.length + 1 + Buffer.byteLength(e.name, 'utf8') + 1 + 20;
  const out = Buffer.alloc(size);
  let at = 0;
  for (const e of sorted) {
    at += out.write(`${e.mode} `, at, 'latin1');
    at += out.write(e.name, at, 'utf8');
    out[at++] = 0;
    const written = out.write(e.oid, at, 20, 'hex');
    if (written !== 20) throw new InvalidArgumentError(`tree entry ${e.name}: "${e.oid}" is not a full object id.`, { name: e.name });
    at += written;
  }
  return out;
}

/**
 * Walks a raw tree object's entries: `each` gets where the entry starts (its mode), the space
 * after the mode and the NUL after the name; the 20-byte id follows the NUL.
 * @throws CorruptSnapshotError for a truncated or malformed tree.
 */
function eachTreeEntry(content: Buffer, oid: string, each: (start: number, space: number, nul: number) => void): void {
  let i = 0;
  while (i < content.length) {
    const space = content.indexOf(0x20, i);
    const nul = content.indexOf(0, space + 1);
    if (space < 0 || nul < 0 || nul + 21 > content.length) {
      throw new CorruptSnapshotError(`git tree ${oid} is truncated or malformed; the repository is damaged.`, { oid });
    }
    each(i, space, nul);
    i = nul + 21;
  }
}

const TREE_MODE = Buffer.from('40000');
const SUBMODULE_MODE = Buffer.from('160000');

/** What the entry whose mode is `content[start, space)` is: its mode without leading zeros is 40000 for a tree, 160000 for a submodule, anything else a blob. */
function entryType(content: Buffer, start: number, space: number): TreeEntry['type'] {
  while (start < space && content[start] === 0x30) start++;
  if (content.compare(TREE_MODE, 0, TREE_MODE.length, start, space) === 0) return 'tree';
  if (content.compare(SUBMODULE_MODE, 0, SUBMODULE_MODE.length, start, space) === 0) return 'commit';
  return 'blob';
}

export function parseTree(content: Buffer, oid: string): TreeEntry[] {
  const entries: TreeEntry[] = [];
  eachTreeEntry(content, oid, (i, space, nul) => {
    // Native git writes tree modes without a leading zero ("40000"); normalise old "040000".
    const mode = content.toString('latin1', i, space).replace(/^0+/, '');
    const name = content.toString('utf8', space + 1, nul);
    const entryOid = content.toString('hex', nul + 1, nul + 21);
    entries.push({ mode, name, oid: entryOid, type: entryType(content, i, space) });
  });
  return entries;
}

/**
 * A tree's file entries looked up by name over the tree object's own bytes: an offset per entry,
 * no object or string per entry (a collection's parts tree holds ~100,000). Subtrees and
 * submodules are left out. Git sorts a tree's files by the bytes of their names.
 */
export class TreeIndex {
  /** Per file entry: where its name starts, its NUL. */
  private readonly names: Uint32Array;
  private readonly nuls: Uint32Array;
  readonly size: number;

  constructor(
    private readonly content: Buffer,
    oid: string,
  ) {
    const names: number[] = [];
    const nuls: number[] = [];
    eachTreeEntry(content, oid, (i, space, nul) => {
      if (entryType(content, i, space) !== 'blob') return;
      names.push(space + 1);
      nuls.push(nul);
    });
    this.names = Uint32Array.from(names);
    this.nuls = Uint32Array.from(nuls);
    this.size = names.length;
    for (let j = 1; j < this.size; j++) {
      if (content.compare(content, this.names[j]!, this.nuls[j]!, this.names[j - 1]!, this.nuls[j - 1]!) >= 0) {
        // Not sorted as git sorts (a tree written by hand): look names up in a map instead.
        this.byName = new Map();
        for (let k = 0; k < this.size; k++) this.byName.set(content.toString('utf8', this.names[k]!, this.nuls[k]!), k);
        break;
      }
    }
  }

  /** Set only for a tree whose files are not in git's order. */
  private byName: Map<string, number> | null = null;

  /** Index of the file `name`, or -1. */
  find(name: string): number {
    if (this.byName) return this.byName.get(name) ?? -1;
    // Names dbsnap gives parts are ASCII: compared by code unit, no Buffer per lookup.
    let ascii = true;
    for (let k = 0; k < name.length; k++) if (name.charCodeAt(k) > 0x7f) ascii = false;
    const key = ascii ? name : Buffer.from(name, 'utf8');
    let lo = 0;
    let hi = this.size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.compareName(mid, key);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Entry `i`'s name against `key` (an ASCII string or UTF-8 bytes), by bytes. */
  private compareName(i: number, key: string | Buffer): number {
    const content = this.content;
    const start = this.names[i]!;
    const n = this.nuls[i]! - start;
    const m = Math.min(n, key.length);
    if (typeof key === 'string') {
      for (let k = 0; k < m; k++) {
        const d = content[start + k]! - key.charCodeAt(k);
        if (d !== 0) return d;
      }
    } else {
      for (let k = 0; k < m; k++) {
        const d = content[start + k]! - key[k]!;
        if (d !== 0) return d;
      }
    }
    return n - key.length;
  }

  /** The name of entry `i`. */
  name(i: number): string {
    return this.content.toString('utf8', this.names[i]!, this.nuls[i]!);
  }

  /** True when entries `i` of this index and `j` of `other` name the same blob id. */
  sameOid(i: number, other: TreeIndex, j: number): boolean {
    const a = this.nuls[i]! + 1;
    const b = other.nuls[j]! + 1;
    return this.content.compare(other.content, b, b + 20, a, a + 20) === 0;
  }

  /** The blob id of entry `i` as hex. */
  oid(i: number): string {
    const at = this.nuls[i]! + 1;
    return this.content.toString('hex', at, at + 20);
  }
}

function checkIdentity(who: GitIdentity, role: string): void {
  if (/[<>\n\0]/.test(who.name) || /[<>\n\0]/.test(who.email)) {
    throw new InvalidArgumentError(`${role} name and email must not contain '<', '>', newlines or NUL (got "${who.name} <${who.email}>").`, { role });
  }
  if (!Number.isInteger(who.timestamp) || !Number.isInteger(who.timezoneOffset) || Math.abs(who.timezoneOffset) >= 100 * 60) {
    throw new InvalidArgumentError(`${role} timestamp must be whole seconds and timezoneOffset whole minutes (got ${who.timestamp}, ${who.timezoneOffset}).`, { role });
  }
}

export function formatIdentity(who: GitIdentity): string {
  // Date#getTimezoneOffset sign: positive offsets are west of UTC, i.e. "-hhmm" in git.
  const offset = -who.timezoneOffset;
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${who.name} <${who.email}> ${who.timestamp} ${sign}${hh}${mm}`;
}

export function parseIdentity(line: string, oid: string): GitIdentity {
  const m = /^(.*?) ?<([^>]*)> (-?\d+) ([+-])(\d\d)(\d\d)$/.exec(line);
  if (!m) throw new CorruptSnapshotError(`git object ${oid} has a malformed identity line "${line}".`, { oid });
  const minutes = Number(m[5]) * 60 + Number(m[6]);
  return {
    name: m[1]!,
    email: m[2]!,
    timestamp: Number(m[3]),
    timezoneOffset: m[4] === '-' ? minutes : minutes === 0 ? 0 : -minutes,
  };
}

/** Git messages end with exactly the text given plus a newline, as `git commit -m` stores them. */
function normaliseMessage(message: string): string {
  return message.endsWith('\n') ? message : `${message}\n`;
}

/** The stored message minus the one trailing newline `normaliseMessage` adds. */
function denormaliseMessage(message: string): string {
  return message.endsWith('\n') ? message.slice(0, -1) : message;
}

export function formatCommit(c: { tree: string; parents: string[]; author: GitIdentity; committer?: GitIdentity; message: string }): Buffer {
  checkIdentity(c.author, 'author');
  const committer = c.committer ?? c.author;
  checkIdentity(committer, 'committer');
  for (const oid of [c.tree, ...c.parents]) {
    if (!isOid(oid)) throw new InvalidArgumentError(`commit tree/parent "${oid}" is not a full 40-hex object id.`, { oid });
  }
  let text = `tree ${c.tree}\n`;
  for (const p of c.parents) text += `parent ${p}\n`;
  text += `author ${formatIdentity(c.author)}\ncommitter ${formatIdentity(committer)}\n\n${normaliseMessage(c.message)}`;
  return Buffer.from(text, 'utf8');
}

/** Splits "header\nheader\n continuation\n\nmessage" into headers (continuations joined) and message. */
function parseHeaders(text: string): { headers: [string, string][]; message: string } {
  const end = text.indexOf('\n\n');
  const head = end < 0 ? text : text.slice(0, end);
  const message = end < 0 ? '' : text.slice(end + 2);
  const headers: [string, string][] = [];
  for (const line of head.split('\n')) {
    if (line.startsWith(' ') && headers.length > 0) {
      headers[headers.length - 1]![1] += `\n${line.slice(1)}`;
    } else if (line.length > 0) {
      const sp = line.indexOf(' ');
      headers.push(sp < 0 ? [line, ''] : [line.slice(0, sp), line.slice(sp + 1)]);
    }
  }
  return { headers, message };
}

export function parseCommit(content: Buffer, oid: string): ParsedCommit {
  const { headers, message } = parseHeaders(content.toString('utf8'));
  let tree: string | undefined;
  const parents: string[] = [];
  let author: GitIdentity | undefined;
  let committer: GitIdentity | undefined;
  for (const [key, value] of headers) {
    if (key === 'tree') tree = value;
    else if (key === 'parent') parents.push(value);
    else if (key === 'author') author = parseIdentity(value, oid);
    else if (key === 'committer') committer = parseIdentity(value, oid);
  }
  if (!tree || !author || !committer) {
    throw new CorruptSnapshotError(`git commit ${oid} lacks a tree, author or committer line; the repository is damaged.`, { oid });
  }
  return { tree, parents, author, committer, message: denormaliseMessage(message) };
}

export function formatTag(t: { object: string; type: ObjectType; tag: string; tagger: GitIdentity; message: string }): Buffer {
  checkIdentity(t.tagger, 'tagger');
  const text = `object ${t.object}\ntype ${t.type}\ntag ${t.tag}\ntagger ${formatIdentity(t.tagger)}\n\n${normaliseMessage(t.message)}`;
  return Buffer.from(text, 'utf8');
}

export function parseTag(content: Buffer, oid: string): ParsedTag {
  const { headers, message } = parseHeaders(content.toString('utf8'));
  const get = (k: string) => headers.find(([key]) => key === k)?.[1];
  const object = get('object');
  const type = get('type') as ObjectType | undefined;
  const tagger = get('tagger');
  if (!object || !type) throw new CorruptSnapshotError(`git tag ${oid} lacks an object or type line; the repository is damaged.`, { oid });
  return {
    object,
    type,
    tag: get('tag') ?? '',
    ...(tagger !== undefined ? { tagger: parseIdentity(tagger, oid) } : {}),
    message: denormaliseMessage(message),
  };
}
