/**
 * A `collections` list given by a caller: present means "only these", so an empty one (from
 * `--collections ''` or `--collections ,`) is a mistake, never "all of them".
 */
import { InvalidArgumentError } from '../errors/index.js';

/**
 * Throws InvalidArgumentError when `names` is given but names nothing, or holds a blank name.
 *
 * @example
 * checkCollectionNames(opts.collections, 'commit'); // undefined passes; [] and [''] throw
 */
export function checkCollectionNames(names: readonly string[] | undefined, command: string): void {
  if (names === undefined) return;
  if (names.length === 0 || names.some((n) => typeof n !== 'string' || n.trim() === '')) {
    throw new InvalidArgumentError(
      `dbsnap ${command}: --collections names no collection (an empty name or list); name them (a,b) or leave the option out to take every collection.`,
      { collections: [...names] },
    );
  }
}
