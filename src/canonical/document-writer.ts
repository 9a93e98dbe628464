/**
 * The writer of dbsnap's document text (docs/FORMAT.md, "Document encoding"): its public face.
 * Raw BSON is walked in bson-text-walker.ts; decoded documents are serialized first.
 */
import type { Document } from 'bson';
import { serializeDocument } from './bson-serializer.js';
import { writeDocument } from './bson-text-walker.js';

export { writeDocument } from './bson-text-walker.js';
export { partFileText } from './part-file-text.js';
export { doubleText } from './scalar-text.js';

/** Options for {@link writeDocument}. */
export interface WriteDocumentOptions {
  /**
   * Write each document's keys in code-unit order instead of stored order. The `_id` field stays
   * first and its value is never reordered; a DBRef-shaped document (first stored key `$ref`) keeps
   * its stored order, because drivers only recognise a DBRef when `$ref` comes first.
   */
  sortKeys?: boolean;
}

/** The text of one top-level document and of its `_id` value. */
export interface DocumentText {
  /** The document as it appears inside a part file: starts with `  {`, ends with `  }`. */
  text: string;
  /** One-line text of the `_id` value, exactly as after `"_id": ` in `text`; '' when there is no `_id`. */
  idText: string;
}

/**
 * Same as {@link writeDocument}, from a decoded document (as decoded with `promoteValues: false`:
 * Int32/Double/Long wrappers). Plain JS numbers that are integers in int32 range are written as
 * Int32, other numbers as Double; bigint as Int64; `undefined` as the BSON Undefined type.
 *
 * @example
 * writeDocumentObject({ _id: new ObjectId('68a72cf14b78eb31b9af9e45'), qty: 5 }).idText;
 * // '{"$oid": "68a72cf14b78eb31b9af9e45"}'
 */
export function writeDocumentObject(doc: Document, opts?: WriteDocumentOptions): DocumentText {
  return writeDocument(serializeDocument(doc), opts);
}
