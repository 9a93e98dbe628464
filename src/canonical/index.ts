/**
 * dbsnap's canonical form: BSON documents <-> the lossless, readable Extended JSON text stored in
 * part files (docs/FORMAT.md, "Document encoding"), and the BSON sort order.
 */
export {
  writeDocument,
  writeDocumentObject,
  partFileText,
  doubleText,
  type WriteDocumentOptions,
  type DocumentText,
} from './document-writer.js';
export { readPartFile, readValue } from './document-reader.js';
export { serializeDocument } from './bson-serializer.js';
export { DbPointer, OUT_OF_RANGE_DATE_MS } from './bson-special-values.js';
export { ESCAPE_KEY } from './extended-json-values.js';
export { compareBsonValues } from './bson-order.js';
