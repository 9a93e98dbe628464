/**
 * The one way to read a document's `_id`: documents come back from a part file as plain objects,
 * or as a Map when a plain object could not keep their field order (see readPartFile).
 */
import type { Document } from 'bson';

/** A document's `_id`, whether it is a plain object or a Map (the reader's order-keeping form). */
export function documentId(doc: Document | Map<string, unknown>): unknown {
  return doc instanceof Map ? doc.get('_id') : (doc as Record<string, unknown>)._id;
}
