/**
 * Wording shared by the text and markdown renderers, so both say the same thing about a change
 * and differ only in layout and escaping.
 */
import { EJSON, type Document } from 'bson';
import { describeValue, shorten, valueLiteral } from './describe-value.js';
import type { CollectionDelta, FieldChange } from './types.js';

/** A field change broken into the pieces a renderer lays out. */
export interface FieldView {
  sign: '+' | '-' | '~';
  /** Path as shown (`address.city`, `(field order)`). */
  label: string;
  /** Value descriptions: one for added/removed, old and new for changes, none for encrypted ones. */
  values: string[];
  /** Words instead of values (`encrypted value changed`). */
  note?: string;
}

/** Longest value description in text and markdown output. */
export const VALUE_MAX_LEN = 80;

export function fieldView(f: FieldChange): FieldView {
  const d = (v: unknown) => describeValue(v, VALUE_MAX_LEN);
  const lit = (v: unknown) => valueLiteral(v, VALUE_MAX_LEN);
  switch (f.kind) {
    case 'added':
      return f.encrypted
        ? { sign: '+', label: f.path, values: [], note: 'encrypted value' }
        : { sign: '+', label: f.path, values: [d(f.new)] };
    case 'removed':
      return f.encrypted
        ? { sign: '-', label: f.path, values: [], note: 'encrypted value' }
        : { sign: '-', label: f.path, values: [d(f.old)] };
    case 'changed':
      return f.encrypted
        ? { sign: '~', label: f.path, values: [], note: 'encrypted value changed' }
        : { sign: '~', label: f.path, values: [lit(f.old), lit(f.new)] };
    case 'typeChanged':
      return { sign: '~', label: f.path, values: [d(f.old), d(f.new)] };
    case 'reordered': {
      const names = (v: unknown) => (v as string[]).join(', ');
      const label = f.path === '' ? '(field order)' : `${f.path} (field order)`;
      return { sign: '~', label, values: [names(f.old), names(f.new)] };
    }
  }
}

/** `2 added, 1 removed, 3 changed`. */
export function countsText(c: CollectionDelta): string {
  return `${c.counts.added} added, ${c.counts.removed} removed, ${c.counts.changed} changed`;
}

function plural(n: number, word: string, many = `${word}s`): string {
  return `${n} ${n === 1 ? word : many}`;
}

/** Non-document changes in a few words (`+1 index, 2 option changes`), '' when there are none. */
export function metaSummary(c: CollectionDelta): string {
  const parts: string[] = [];
  if (c.status === 'added') parts.push(c.type.new === 'collection' ? 'new collection' : `new ${c.type.new}`);
  if (c.status === 'removed') parts.push(c.type.old === 'collection' ? 'dropped' : `dropped ${c.type.old}`);
  if (c.type.old && c.type.new && c.type.old !== c.type.new) parts.push(`type ${c.type.old} -> ${c.type.new}`);
  const ix = c.indexes;
  if (ix.added.length) parts.push(`+${plural(ix.added.length, 'index', 'indexes')}`);
  if (ix.removed.length) parts.push(`-${plural(ix.removed.length, 'index', 'indexes')}`);
  if (ix.changed.length) parts.push(`~${plural(ix.changed.length, 'index', 'indexes')}`);
  if (c.options.length) parts.push(plural(c.options.length, 'option change'));
  return parts.join(', ');
}

/** `email_1 {"email":1} {"unique":true}`: name, key, then the other options in relaxed EJSON. */
export function indexText(ix: Document): string {
  const { name, key, v: _version, ...rest } = ix;
  const keyText = EJSON.stringify(key ?? {}, { relaxed: true });
  const restText = Object.keys(rest).length ? ' ' + EJSON.stringify(rest, { relaxed: true }) : '';
  return `${String(name)} ${keyText}${restText}`;
}

/**
 * One line showing an added or removed document without its `_id` (already on the line), in
 * relaxed Extended JSON, cut at `maxLen`.
 */
export function documentPreview(doc: Document, maxLen = 100): string {
  const { _id, ...rest } = doc;
  return shorten(EJSON.stringify(rest, { relaxed: true }), maxLen);
}

/** Collections that have something to show, in name order. */
export function changedCollections(collections: CollectionDelta[]): CollectionDelta[] {
  return collections.filter((c) => c.status !== 'unchanged');
}
