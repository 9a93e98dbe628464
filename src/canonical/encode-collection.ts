/**
 * One collection's document stream -> part files with counts and hashes. The same code serves
 * commit (parts become blobs), live diff and verify (parts are only hashed and compared), so a
 * database and a snapshot of it always agree byte for byte.
 */
import { createMd5, createSha256, sha256Hex } from '../crypto/hash.js';
import type { Document } from 'bson';
import { writeDocument, writeDocumentObject, partFileText } from './document-writer.js';
import { PartCutter } from './parts.js';

export interface EncodedPart {
  /** File name, e.g. `first.json`. */
  name: string;
  text: string;
  /** `text` as UTF-8 bytes (what is hashed and stored), so writers need not encode it again. */
  data: Buffer;
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
  /** What collection.json lists of each part (held until the collection is done, so kept small). */
  parts: EncodedPartSummary[];
}

export type EncodedPartSummary = Pick<EncodedPart, 'name' | 'documents' | 'bytes' | 'sha256'>;

/** Encodes a `_id`-ordered stream of raw BSON documents, handing each finished part to `onPart`. */
export async function encodeCollection(
  docs: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  opts: EncodeOptions,
  onPart: (part: EncodedPart) => Promise<void> | void,
): Promise<EncodedCollection> {
  const cutter = new PartCutter({ partBits: opts.partBits, maxPartBytes: opts.maxPartBytes });
  const whole = createSha256();
  const bson = opts.transform ? null : createMd5();
  const parts: EncodedPartSummary[] = [];
  let documents = 0;
  const writeOpts = { sortKeys: opts.sortKeys };

  const emit = async (cut: { name: string; texts: string[]; firstId: string } | null) => {
    if (!cut) return;
    const text = partFileText(cut.texts);
    const buf = Buffer.from(text, 'utf8');
    whole.update(buf);
    const part: EncodedPart = {
      name: cut.name,
      text,
      data: buf,
      documents: cut.texts.length,
      bytes: buf.length,
      sha256: sha256Hex(buf),
      firstId: cut.firstId,
    };
    parts.push({ name: part.name, documents: part.documents, bytes: part.bytes, sha256: part.sha256 });
    await onPart(part);
  };

  for await (const raw of docs) {
    bson?.update(raw);
    const source = opts.transform ? opts.transform(raw) : raw;
    const { text, idText } =
      source instanceof Uint8Array ? writeDocument(source, writeOpts) : writeDocumentObject(source, writeOpts);
    documents++;
    await emit(cutter.push(text, idText));
    opts.onDocument?.(documents);
  }
  await emit(cutter.finish());
  return { documents, sha256: whole.digestHex(), ...(bson ? { bsonMd5: bson.digestHex() } : {}), parts };
}
