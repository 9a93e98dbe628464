/**
 * One collection's document stream -> part files with counts and hashes. The same code serves
 * commit (parts become blobs), live diff and verify (parts are only hashed and compared), so a
 * database and a snapshot of it always agree byte for byte.
 */
import { createMd5, createSha256, sha256Hex, type Sha256 } from '../crypto/hash.js';
import type { Document } from 'bson';
import { serializeDocument } from './bson-serializer.js';
import { writeDocumentBytes } from './bson-text-walker.js';
import { withRoom } from './byte-buffer.js';
import type { PartEntries } from './format.js';
import { PartCutter, type CutPart } from './parts.js';

export interface EncodedPart {
  /** File name, e.g. `first.json`. */
  name: string;
  /** The part file's bytes (UTF-8 text): what is hashed and stored. */
  data: Buffer;
  /** `data` decoded, on each read (the commit path never reads it). */
  readonly text: string;
  documents: number;
  /** Byte length of the UTF-8 text. */
  bytes: number;
  sha256: string;
  /** idText of the first document. */
  firstId: string;
  /** The part's size as the cutter counts it (CutPart.units). */
  units: number;
  /** What went into the part (with `opts.known` only). */
  raw?: RawPrint;
  /** The known part this one is, taken as stored instead of encoded (with `opts.known` only). */
  reused?: KnownPart;
}

export interface EncodeOptions {
  partBits: number;
  maxPartBytes: number;
  sortKeys: boolean;
  /** Rewrites a decoded document before writing (field encryption); raw bytes are used when absent. */
  transform?: (doc: Uint8Array) => Document | Uint8Array;
  /** Called after each document (for progress). */
  onDocument?: (count: number) => void;
  /** Parts an earlier encoding made, to take as stored where the documents are the same (ignored with a transform). */
  known?: KnownParts;
}

export interface EncodedCollection {
  documents: number;
  /** SHA-256 over all part texts concatenated in order. */
  sha256: string;
  /**
   * MD5 over the documents' BSON bytes in order, as read (absent when a transform rewrote them):
   * what a server's `dbHash` reports for a collection holding exactly these documents.
   */
  bsonMd5?: string;
  /** What collection.json lists of each part, in order. */
  parts: PartSummaries;
}

export type EncodedPartSummary = Pick<EncodedPart, 'name' | 'documents' | 'bytes' | 'sha256'>;

/**
 * The parts of a collection being encoded, as collection.json will list them, held compactly
 * until the collection is done: names, counts in typed arrays, SHA-256 digests as bytes in one
 * buffer (~90 bytes per part instead of ~220 for an object with a hex string). A collection of
 * a few million documents has ~100,000 parts.
 */
export class PartSummaries implements Iterable<EncodedPartSummary> {
  private readonly names: string[] = [];
  private documents = new Uint32Array(256);
  private bytes = new Float64Array(256);
  private digests = Buffer.allocUnsafeSlow(256 * 32);

  get length(): number {
    return this.names.length;
  }

  add(part: EncodedPartSummary): void {
    const i = this.names.length;
    if (i === this.documents.length) this.grow();
    this.names.push(part.name);
    this.documents[i] = part.documents;
    this.bytes[i] = part.bytes;
    this.digests.write(part.sha256, i * 32, 32, 'hex');
  }

  name(i: number): string {
    return this.names[i]!;
  }

  get(i: number): EncodedPartSummary {
    return { name: this.names[i]!, documents: this.documents[i]!, bytes: this.bytes[i]!, sha256: this.digests.toString('hex', i * 32, i * 32 + 32) };
  }

  *[Symbol.iterator](): Iterator<EncodedPartSummary> {
    for (let i = 0; i < this.names.length; i++) yield this.get(i);
  }

  /** The parts as collection.json's entries (`parts/<name>`), made one at a time as they are read. */
  asEntries(): PartEntries {
    const list = this;
    return {
      length: list.length,
      *[Symbol.iterator]() {
        for (const p of list) yield { file: `parts/${p.name}`, documents: p.documents, bytes: p.bytes, sha256: p.sha256 };
      },
    };
  }

  private grow(): void {
    const n = this.documents.length * 2;
    const documents = new Uint32Array(n);
    documents.set(this.documents);
    this.documents = documents;
    const bytes = new Float64Array(n);
    bytes.set(this.bytes);
    this.bytes = bytes;
    const digests = Buffer.allocUnsafeSlow(n * 32);
    this.digests.copy(digests);
    this.digests = digests;
  }
}

interface FinishedPart {
  cut: CutPart;
  buf: Buffer;
  raw?: RawPrint;
  reused?: KnownPart;
}

/**
 * The text of the part being filled, as UTF-8 bytes: the document texts joined into a JSON array
 * (`[`, one document per element, `]`, a newline; see partFileText), in one reused buffer.
 */
class PartText {
  private buf = Buffer.allocUnsafeSlow(1 << 16);
  private length = 0;
  private documents = 0;

  add(doc: Uint8Array): void {
    // The document, its separator before it, and room for the closing '\n]\n'.
    this.buf = withRoom(this.buf, this.length, this.length + doc.length + 2 + 3);
    // '[\n' before the first document, ',\n' before the others.
    this.buf[this.length++] = this.documents === 0 ? 0x5b : 0x2c;
    this.buf[this.length++] = 0x0a;
    this.buf.set(doc, this.length);
    this.length += doc.length;
    this.documents++;
  }

  /** Drops what was added (the part is taken as stored instead). */
  clear(): void {
    this.length = 0;
    this.documents = 0;
  }

  /** The finished part file's bytes (a copy of their own); empties the buffer for the next part. */
  finish(): Buffer {
    const tail = this.documents === 0 ? '[]\n' : '\n]\n';
    const part = Buffer.allocUnsafe(this.length + tail.length);
    this.buf.copy(part, 0, 0, this.length);
    part.write(tail, this.length, 'latin1');
    this.length = 0;
    this.documents = 0;
    return part;
  }
}

/**
 * An `_id`-ordered stream of raw BSON documents, one at a time or a batch at a time (a server
 * reply's documents: a batch costs one step of an async iteration instead of one per document).
 */
export type RawDocuments = AsyncIterable<Uint8Array | readonly Uint8Array[]> | Iterable<Uint8Array>;

/** SHA-256 and length of a part's documents' BSON bytes, as read, in order. */
export interface RawPrint {
  bytes: number;
  sha256: string;
}

/** The running RawPrint of the part being filled. */
class RawPrinter {
  private hash = createSha256();
  private bytes = 0;

  add(doc: Uint8Array): void {
    this.hash.update(doc);
    this.bytes += doc.length;
  }

  finish(): RawPrint {
    const print = { bytes: this.bytes, sha256: this.hash.digestHex() };
    this.clear();
    return print;
  }

  clear(): void {
    this.hash = createSha256();
    this.bytes = 0;
  }
}

/**
 * A part an earlier encoding of the collection made, under the same settings: its name, what
 * went into it (RawPrint of its documents, `units` as CutPart counts them) and what came out.
 */
export interface KnownPart {
  name: string;
  documents: number;
  units: number;
  raw: RawPrint;
  /** The part file's length and SHA-256. */
  bytes: number;
  sha256: string;
  /** Where it is stored (for the caller: a blob id). */
  id: string;
  /** Reads the stored part file; encodeCollection checks it against `bytes` and `sha256`. */
  load(): Promise<Uint8Array>;
}

/** The parts an earlier encoding made, looked up in part order. */
export interface KnownParts {
  /** The known part of this name, if any. Called with names in the order the parts are cut. */
  find(name: string): KnownPart | undefined;
}

/** The state of a part being matched against a known one (see encodeCollection). */
interface Guess {
  part: KnownPart;
  /** Documents after the first (the first was encoded as usual). */
  docs: Uint8Array[];
  hash: Sha256;
  bytes: number;
  /** All of the known part's documents arrived with its bytes: the part ends if the next document starts one. */
  complete: boolean;
  /** The stored file, read while the documents arrive (null if it cannot be read). */
  stored: Promise<Uint8Array | null>;
}

/**
 * Encodes a `_id`-ordered stream of raw BSON documents, handing each finished part to `onPart`.
 *
 * With `opts.known` (and no transform), a part whose documents arrive with exactly the BSON bytes
 * of a known part of the same name is not encoded: the known part's file is read, checked against
 * its SHA-256, and handed on with `reused` set. Its first document is encoded as usual (it names
 * the part), the others are only hashed, and the document after them is encoded to see that it
 * starts the next part, as it did when the known part was cut. When anything differs, the
 * documents held back are encoded as usual: the result is always what encoding every document
 * gives.
 */
export async function encodeCollection(
  docs: RawDocuments,
  opts: EncodeOptions,
  onPart: (part: EncodedPart) => Promise<void> | void,
): Promise<EncodedCollection> {
  const cutter = new PartCutter({ partBits: opts.partBits, maxPartBytes: opts.maxPartBytes });
  const whole = createSha256();
  const bson = opts.transform ? null : createMd5();
  const parts = new PartSummaries();
  let documents = 0;
  const writeOpts = { sortKeys: opts.sortKeys };
  const known = opts.transform ? undefined : opts.known;
  const raw = known ? new RawPrinter() : null;
  let guess: Guess | null = null;

  const text = new PartText();
  const emit = async ({ cut, buf, raw: print, reused }: FinishedPart) => {
    whole.update(buf);
    const part: EncodedPart = {
      name: cut.name,
      data: buf,
      get text() {
        return buf.toString('utf8');
      },
      documents: cut.documents,
      bytes: buf.length,
      sha256: reused ? reused.sha256 : sha256Hex(buf),
      firstId: cut.firstId,
      units: cut.units,
      ...(print ? { raw: print } : {}),
      ...(reused ? { reused } : {}),
    };
    parts.add(part);
    await onPart(part);
  };

  const encode = (doc: Uint8Array) => {
    const source = opts.transform ? opts.transform(doc) : doc;
    return writeDocumentBytes(source instanceof Uint8Array ? source : serializeDocument(source), writeOpts);
  };
  // Synchronous per document; only a finished part is awaited (its blob being written).
  const place = (doc: Uint8Array, encoded: ReturnType<typeof encode>): FinishedPart | null => {
    const cut = cutter.push(encoded.idText, encoded.units);
    // A document that completes a part is the first of the next one: the part's bytes are taken
    // before this document's are added.
    const done = cut ? { cut, buf: text.finish(), ...(raw ? { raw: raw.finish() } : {}) } : null;
    text.add(encoded.bytes);
    raw?.add(doc);
    return done;
  };

  // A part just begun by `first`: if a known part has its name, hold its documents back.
  const startGuess = (first: Uint8Array) => {
    const part = known!.find(cutter.filling!.name);
    if (!part || part.documents < 1) return;
    const stored = part.load().then(
      (b) => b,
      () => null,
    );
    const g: Guess = { part, docs: [], hash: createSha256().update(first), bytes: first.length, complete: false, stored };
    guess = judge(g) ? g : null;
  };
  // Once as many documents as the known part holds have arrived, or as many bytes: same or not.
  const judge = (g: Guess): boolean => {
    const n = g.docs.length + 1;
    if (n < g.part.documents && g.bytes < g.part.raw.bytes) return true;
    g.complete = n === g.part.documents && g.bytes === g.part.raw.bytes && g.hash.digestHex() === g.part.raw.sha256;
    return g.complete;
  };
  // The documents held back are encoded after all (nothing new starts a guess among them).
  const abandon = async () => {
    const g = guess!;
    guess = null;
    for (const doc of g.docs) {
      const done = place(doc, encode(doc));
      if (done) await emit(done);
    }
  };
  // The known part's file, if it is there and is what the known part says.
  const storedFile = async (g: Guess): Promise<Buffer | null> => {
    const b = await g.stored;
    if (!b || b.length !== g.part.bytes || sha256Hex(b) !== g.part.sha256) return null;
    return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length);
  };
  // The document after a complete guess: it must start the next part, as it did after the known one.
  const settle = async (doc: Uint8Array | null) => {
    const g = guess!;
    const stored = await storedFile(g);
    if (stored) {
      const encoded = doc ? encode(doc) : null;
      if (!encoded || cutter.endsBefore(g.part.units, encoded.idText, encoded.units)) {
        guess = null;
        cutter.assume(g.part.documents, g.part.units);
        text.clear();
        raw!.clear();
        const done = encoded ? place(doc!, encoded)! : { cut: cutter.finish()!, buf: text.finish() };
        await emit({ cut: done.cut, buf: stored, raw: g.part.raw, reused: g.part });
        if (doc) startGuess(doc);
        return;
      }
    }
    await abandon();
    if (doc) await next(doc);
  };
  const next = (doc: Uint8Array): Promise<void> | void => {
    const g = guess;
    if (g && !g.complete) {
      g.docs.push(doc);
      g.hash.update(doc);
      g.bytes += doc.length;
      if (!judge(g)) return abandon();
      return;
    }
    if (g) return settle(doc);
    const done = place(doc, encode(doc));
    if (known && cutter.filling!.documents === 1) startGuess(doc);
    if (done) return emit(done);
  };

  const take = (doc: Uint8Array): Promise<void> | void => {
    bson?.update(doc);
    documents++;
    opts.onDocument?.(documents);
    return next(doc);
  };
  for await (const item of docs) {
    if (item instanceof Uint8Array) {
      const pending = take(item);
      if (pending) await pending;
      continue;
    }
    for (const doc of item) {
      const pending = take(doc);
      if (pending) await pending;
    }
  }
  if (guess) {
    if ((guess as Guess).complete) await settle(null);
    else await abandon();
  }
  if (cutter.filling) {
    const last = cutter.finish()!;
    await emit({ cut: last, buf: text.finish(), ...(raw ? { raw: raw.finish() } : {}) });
  }
  return { documents, sha256: whole.digestHex(), ...(bson ? { bsonMd5: bson.digestHex() } : {}), parts };
}
