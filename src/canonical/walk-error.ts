// The walker's failure (bson-text-walker.ts): a message plus the field path, made a FormatError at the entry.
import { FormatError } from '../errors/index.js';

/**
 * A failure while walking. `path` (field names as JSON text, array indexes as digits, from the
 * document root) is filled in on the way out: each level adds its own key when the error passes
 * through it, so the walk itself keeps no path (it used to push and pop one per value).
 */
export class WalkError extends Error {
  readonly path: string[] = [];
}

/** Adds the key a failed value was written under to the error's path, and rethrows. */
export function under(key: string, err: unknown): never {
  if (err instanceof WalkError) err.path.unshift(key);
  throw err;
}

export function fail(message: string): never {
  throw new WalkError(message);
}

/** The FormatError a failed walk of the document whose `_id` text is `idText` ('' if not read yet) ends in. */
export function walkFormatError(err: WalkError, idText: string): FormatError {
  const path = err.path;
  const where = path.length > 0 ? ` at field ${path.map((k) => k.replace(/^"|"$/g, '')).join('.')}` : '';
  const id = idText ? ` {"_id": ${idText}}` : '';
  return new FormatError(`cannot write BSON document${id}${where}: ${err.message}`, { path: path.slice(), ...(idText ? { id: idText } : {}) });
}
