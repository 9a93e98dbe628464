/**
 * One collection's document stream -> part files with counts and hashes. The same code serves
 * commit (parts become blobs), live diff and verify (parts are only hashed and compared), so a
 * database and a snapshot of it always agree byte for byte.
 */
import { createMd5, createSha256, sha256Hex } from '../crypto/hash.js';
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
}

export interface EncodeOptions {
  partBits: number;
  maxPartBytes: number;
  sortKeys: boolean;
  /** Rewrites a decoded document before writing (field encryption); raw bytes are used when absent. */
  transform?: (doc: Uint8Array) => Document | Uint8Array;
  /** Called after each document (for progress). */
  onDocument?: (count: number) => void;
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

/** Encodes a `_id`-ordered stream of raw BSON documents, handing each finished part to `onPart`. */
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

  const text = new PartText();
  const emit = async ({ cut, buf }: FinishedPart) => {
    whole.update(buf);
    const part: EncodedPart = {
      name: cut.name,
      data: buf,
      get text() {
        return buf.toString('utf8');
      },
      documents: cut.documents,
      bytes: buf.length,
      sha256: sha256Hex(buf),
      firstId: cut.firstId,
    };
    parts.add(part);
    await onPart(part);
  };

  // Synchronous per document; only a finished part is awaited (its blob being written).
  const push = (raw: Uint8Array): FinishedPart | null => {
    bson?.update(raw);
    const source = opts.transform ? opts.transform(raw) : raw;
    const doc = writeDocumentBytes(source instanceof Uint8Array ? source : serializeDocument(source), writeOpts);
    documents++;
    const cut = cutter.push(doc.idText, doc.units);
    // A document that completes a part is the first of the next one: the part's bytes are taken
    // before this document's are added.
    const done = cut ? { cut, buf: text.finish() } : null;
    text.add(doc.bytes);
    opts.onDocument?.(documents);
    return done;
  };
  for await (const item of docs) {
    if (item instanceof Uint8Array) {
      const done = push(item);
      if (done) await emit(done);
      continue;
    }
    for (const raw of item) {
      const done = push(raw);
      if (done) await emit(done);
    }
  }
  const last = cutter.finish();
  if (last) await emit({ cut: last, buf: text.finish() });
  return { documents, sha256: whole.digestHex(), ...(bson ? { bsonMd5: bson.digestHex() } : {}), parts };
}
