/**
 * A part file cut into its documents' texts without decoding them (docs/FORMAT.md, "Part files").
 * Canonical text is a function of the document, so two equal texts are two equal documents: a
 * reader that only needs to know what changed decodes just the documents whose text differs.
 */
import type { Document } from 'bson';
import { readPartFile, readValue } from './document-reader.js';

/** One document of a part file as its stored text (a diff DocumentEntry whose text is known). */
export interface PartDocument {
  /** The decoded `_id`. */
  id: unknown;
  /** The document's text as stored (without the part's separators). */
  text: string;
  /** Decodes the document (once). */
  doc(): Document;
}

// Top-level documents sit at two spaces of indent; anything nested is deeper, and JSON strings
// cannot hold a raw newline, so this sequence occurs only between two top-level documents.
const SEPARATOR = '\n  },\n  {\n';
const ID_PREFIX = '    "_id": ';
const HEAD = '[\n  {\n';
const TAIL = '\n  }\n]\n';

/**
 * One document's entry from its text (`body`, the `index`th of the part `source`), or null when
 * the text does not start with its `_id` as the writer puts it.
 */
function entryOf(body: string, index: number, source: string): PartDocument | null {
  if (!body.startsWith(ID_PREFIX)) return null;
  const lineEnd = body.indexOf('\n');
  const idLine = body.slice(ID_PREFIX.length, lineEnd === -1 ? body.length : lineEnd);
  const idText = idLine.endsWith(',') ? idLine.slice(0, -1) : idLine;
  let cached: Document | undefined;
  const docSource = `${source}, document ${index}`;
  return {
    id: readValue(idText, docSource),
    text: body,
    doc: () => (cached ??= readPartFile(`${HEAD}${body}${TAIL}`, docSource)[0]!),
  };
}

/**
 * The documents of a part file as entries, or null when the text does not have the layout the
 * writer produces (then decode it whole with readPartFile).
 */
export function partEntries(partText: string, source: string): PartDocument[] | null {
  if (partText === '[]\n') return [];
  if (!partText.startsWith(HEAD) || !partText.endsWith(TAIL)) return null;
  const inner = partText.slice(HEAD.length, partText.length - TAIL.length);
  const out: PartDocument[] = [];
  let start = 0;
  for (let index = 0; start <= inner.length; index++) {
    const end = inner.indexOf(SEPARATOR, start);
    const entry = entryOf(inner.slice(start, end === -1 ? inner.length : end), index, source);
    if (!entry) return null;
    out.push(entry);
    if (end === -1) break;
    start = end + SEPARATOR.length;
  }
  return out;
}

/** A part file's bytes and the name its errors give it. */
export interface PartBytes {
  bytes: Buffer;
  source: string;
}

const SEPARATOR_BYTES = Buffer.from(SEPARATOR);
const HEAD_BYTES = Buffer.from(HEAD);
const TAIL_BYTES = Buffer.from(TAIL);

/**
 * Where each document's text starts and ends in a part file's bytes (the same cut partEntries
 * makes of its text), or null when the bytes are not laid out as the writer lays them out.
 */
function documentSpans(b: Buffer): { starts: number[]; ends: number[] } | null {
  const end = b.length - TAIL_BYTES.length;
  if (end < HEAD_BYTES.length || b.compare(HEAD_BYTES, 0, HEAD_BYTES.length, 0, HEAD_BYTES.length) !== 0) return null;
  if (b.compare(TAIL_BYTES, 0, TAIL_BYTES.length, end, b.length) !== 0) return null;
  const starts: number[] = [];
  const ends: number[] = [];
  let start = HEAD_BYTES.length;
  for (;;) {
    const sep = b.indexOf(SEPARATOR_BYTES, start);
    starts.push(start);
    if (sep === -1 || sep + SEPARATOR_BYTES.length > end) {
      ends.push(end);
      return { starts, ends };
    }
    ends.push(sep);
    start = sep + SEPARATOR_BYTES.length;
  }
}

/**
 * Two versions of one part file (the same name on both sides of a diff) as entries of only the
 * documents that lie between their common first and last documents. Documents whose bytes are
 * equal, in the same place counted from the start or from the end of both parts, are the same
 * documents with the same `_id`s on both sides: a diff would find them equal, so they are left
 * out unread. A part of a small change keeps one or two documents per side, and no text outside
 * them is decoded. Null when either file is not laid out as the writer lays it out.
 *
 * @example
 * const [before, after] = partEntryPair(oldBytes, newBytes) ?? fullEntries();
 */
export function partEntryPair(x: PartBytes, y: PartBytes): [PartDocument[], PartDocument[]] | null {
  const sx = documentSpans(x.bytes);
  const sy = documentSpans(y.bytes);
  if (!sx || !sy) return null;
  const same = (i: number, j: number): boolean =>
    sx.ends[i]! - sx.starts[i]! === sy.ends[j]! - sy.starts[j]! &&
    x.bytes.compare(y.bytes, sy.starts[j]!, sy.ends[j]!, sx.starts[i]!, sx.ends[i]!) === 0;
  const nx = sx.starts.length;
  const ny = sy.starts.length;
  let first = 0;
  while (first < nx && first < ny && same(first, first)) first++;
  let last = 0;
  while (last < nx - first && last < ny - first && same(nx - 1 - last, ny - 1 - last)) last++;
  const entries = (p: PartBytes, spans: { starts: number[]; ends: number[] }, to: number): PartDocument[] | null => {
    const out: PartDocument[] = [];
    for (let i = first; i < to; i++) {
      const entry = entryOf(p.bytes.toString('utf8', spans.starts[i], spans.ends[i]), i, p.source);
      if (!entry) return null;
      out.push(entry);
    }
    return out;
  };
  const ex = entries(x, sx, nx - last);
  const ey = entries(y, sy, ny - last);
  return ex && ey ? [ex, ey] : null;
}
