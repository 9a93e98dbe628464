// The part-file text: document texts (from writeDocument) joined into one JSON array (docs/FORMAT.md).
/**
 * Joins document texts (from {@link writeDocument}) into the text of a part file: a JSON array,
 * one document per element, ending with a newline. An empty part is `[]\n`.
 *
 * @example
 * partFileText([]); // '[]\n'
 */
export function partFileText(texts: string[]): string {
  if (texts.length === 0) return '[]\n';
  return '[\n' + texts.join(',\n') + '\n]\n';
}
