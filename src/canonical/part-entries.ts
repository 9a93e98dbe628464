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

/**
 * The documents of a part file as entries, or null when the text does not have the layout the
 * writer produces (then decode it whole with readPartFile).
 */
export function partEntries(partText: string, source: string): PartDocument[] | null {
  if (partText === '[]\n') return [];
  if (!partText.startsWith('[\n  {\n') || !partText.endsWith('\n  }\n]\n')) return null;
  const inner = partText.slice(6, partText.length - 7);
  const out: PartDocument[] = [];
  let start = 0;
  for (let index = 0; start <= inner.length; index++) {
    const end = inner.indexOf(SEPARATOR, start);
    const body = inner.slice(start, end === -1 ? inner.length : end);
    if (!body.startsWith(ID_PREFIX)) return null;
    const lineEnd = body.indexOf('\n');
    const idLine = body.slice(ID_PREFIX.length, lineEnd === -1 ? body.length : lineEnd);
    const idText = idLine.endsWith(',') ? idLine.slice(0, -1) : idLine;
    let cached: Document | undefined;
    const docSource = `${source}, document ${index}`;
    out.push({
      id: readValue(idText, docSource),
      text: body,
      doc: () => (cached ??= readPartFile(`[\n  {\n${body}\n  }\n]\n`, docSource)[0]!),
    });
    if (end === -1) break;
    start = end + SEPARATOR.length;
  }
  return out;
}
