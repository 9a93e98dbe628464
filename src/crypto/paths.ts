/**
 * Field paths for sensitive data: syntax, the per-collection config, and a copy-on-write walk
 * that replaces the values a path names.
 *
 * A path is relative to a collection's documents (`email`, `address.phone`, `items.note`).
 * Segments are field names; an array met along the way is descended element by element (and
 * nested arrays likewise), so `items.note` names the `note` of every element of `items`. A
 * numeric segment is a field name like any other, never an array index: snapshots must treat
 * every element alike. The value a path ends on is replaced whole, whatever its type (an
 * array or a sub-document included).
 */
import type { Document } from 'bson';
import { InvalidArgumentError } from '../errors/index.js';

/** Validated sensitive-field config: collection name -> field paths (deduplicated, in order). */
export type SensitiveFields = Readonly<Record<string, readonly string[]>>;

/** Options for {@link validateFieldPath}. */
export interface FieldPathOptions {
  /**
   * Whether the path may start at `_id`. Encryption refuses it: snapshots are stored and
   * verified in `_id` order, which ciphertext would not keep. Masking allows it.
   */
  allowId?: boolean;
  /** Prefix for error messages, e.g. `sensitive field "users.email"`. */
  label?: string;
}

/**
 * Checks a field path's syntax and returns its segments.
 *
 * @throws InvalidArgumentError (`EINVALIDARG`) for an empty path or segment, a segment starting
 *   with `$`, a NUL character, or `_id` when not allowed.
 * @example
 * validateFieldPath('address.phone') // ['address', 'phone']
 */
export function validateFieldPath(path: string, options: FieldPathOptions = {}): string[] {
  const label = options.label ?? `field path "${path}"`;
  const fail = (why: string) =>
    new InvalidArgumentError(
      `${label}: ${why}. Field paths are field names joined by single dots, e.g. address.phone.`,
      { path },
    );
  if (typeof path !== 'string' || path.length === 0) throw fail('the path is empty');
  if (path.includes('\0')) throw fail('the path contains a NUL character');
  const segments = path.split('.');
  for (const segment of segments) {
    if (segment.length === 0) throw fail('the path has an empty segment');
    if (segment.startsWith('$')) throw fail(`segment "${segment}" starts with "$"`);
  }
  if (!options.allowId && segments[0] === '_id') {
    throw fail('_id cannot be encrypted, because snapshots are kept in _id order');
  }
  return segments;
}

/**
 * Validates the repository's sensitive-field config (`{ users: ['email', 'address.phone'] }`)
 * and returns it deduplicated.
 *
 * @throws InvalidArgumentError (`EINVALIDARG`) naming the first bad collection or path.
 * @example
 * const spec = parseSensitiveFields(repoConfig.sensitiveFields ?? {});
 */
export function parseSensitiveFields(config: unknown): SensitiveFields {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new InvalidArgumentError(
      'sensitive fields: expected an object mapping collection names to lists of field paths, ' +
        'e.g. { "users": ["email", "address.phone"] }.',
      {},
    );
  }
  const entries: [string, readonly string[]][] = [];
  for (const [collection, fields] of Object.entries(config)) {
    if (collection.length === 0 || collection.includes('\0') || collection.startsWith('$')) {
      throw new InvalidArgumentError(
        `sensitive fields: "${collection}" is not a valid collection name.`,
        { collection },
      );
    }
    if (!Array.isArray(fields) || fields.some((f) => typeof f !== 'string')) {
      throw new InvalidArgumentError(
        `sensitive fields for collection "${collection}": expected a list of field paths such as ["email"].`,
        { collection },
      );
    }
    for (const field of fields as string[]) {
      validateFieldPath(field, { label: `sensitive field "${collection}.${field}"` });
    }
    entries.push([collection, Object.freeze([...new Set(fields as string[])])]);
  }
  // fromEntries defines own properties, so a collection named "__proto__" stays data.
  return Object.freeze(Object.fromEntries(entries));
}

/**
 * The field paths configured for `collection`, or an empty list.
 *
 * @example
 * fieldsForCollection(spec, 'users') // ['email', 'address.phone']
 */
export function fieldsForCollection(spec: SensitiveFields, collection: string): readonly string[] {
  // hasOwn: a collection called "constructor" must not find Object.prototype.constructor.
  return Object.hasOwn(spec, collection) ? spec[collection]! : [];
}

/**
 * Drops duplicates and paths inside another listed path (`address.phone` when `address` is
 * listed): the outer value is replaced whole, so the inner one never needs its own pass.
 */
export function outermostPaths(paths: readonly string[]): string[] {
  const unique = [...new Set(paths)];
  return unique.filter((p) => !unique.some((q) => q !== p && p.startsWith(q + '.')));
}

/** A plain BSON document (not an array, Date, Buffer or bson wrapper such as ObjectId). */
export function isPlainDocument(value: unknown): value is Document {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return (proto === Object.prototype || proto === null) && !('_bsontype' in value);
}

/** Where a replaced value sits. */
export interface FieldSite {
  /** The configured path, array levels left out (`items.note`). */
  readonly path: string;
  /** The concrete location, array indexes included (`items.2.note`), for messages. */
  readonly location: string;
}

/**
 * Called for each value a path names. Returns the replacement; returning the value itself
 * leaves it (and its container) untouched.
 */
export type ReplaceField = (value: unknown, site: FieldSite) => unknown;

/** Decides whether the walk may descend through a value (e.g. not into encrypted markers). */
export type DescendFilter = (value: unknown) => boolean;

/**
 * Returns a copy of `doc` in which the value at each path is replaced by `replace(value)`.
 * Containers along a changed path are copied (field order kept); untouched sub-trees are
 * shared with the input, which is never mutated. Missing fields and `undefined` values are
 * skipped. Paths must already be validated.
 */
export function replaceAtPaths(
  doc: Document,
  paths: readonly string[],
  replace: ReplaceField,
  canDescend: DescendFilter = () => true,
): Document {
  let result = doc;
  for (const path of outermostPaths(paths)) {
    result = replaceInDocument(result, { path, segments: path.split('.'), replace, canDescend }, 0, '');
  }
  return result;
}

interface PathWalk {
  path: string;
  segments: string[];
  replace: ReplaceField;
  canDescend: DescendFilter;
}

function replaceInDocument(doc: Document, walk: PathWalk, depth: number, location: string): Document {
  const key = walk.segments[depth]!;
  if (!Object.hasOwn(doc, key)) return doc;
  const value = doc[key];
  if (value === undefined) return doc;
  const here = location === '' ? key : `${location}.${key}`;
  const next =
    depth === walk.segments.length - 1
      ? walk.replace(value, { path: walk.path, location: here })
      : replaceBelow(value, walk, depth + 1, here);
  return next === value ? doc : withField(doc, key, next);
}

function replaceBelow(value: unknown, walk: PathWalk, depth: number, location: string): unknown {
  if (!walk.canDescend(value)) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((element, i) => {
      const next = replaceBelow(element, walk, depth, `${location}.${i}`);
      if (next !== element) (copy ??= [...value])[i] = next;
    });
    return copy ?? value;
  }
  if (isPlainDocument(value)) return replaceInDocument(value, walk, depth, location);
  return value;
}

/** A copy of `doc` with `key` set to `value`, field order kept. */
export function withField(doc: Document, key: string, value: unknown): Document {
  const copy: Document = Object.getPrototypeOf(doc) === null ? Object.create(null) : {};
  for (const k of Object.keys(doc)) setField(copy, k, k === key ? value : doc[k]);
  return copy;
}

/** Sets a field, keeping `__proto__` an ordinary field as the bson parser does. */
export function setField(doc: Document, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(doc, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    doc[key] = value;
  }
}
