/**
 * Field-level diff of two BSON values (documents, arrays, scalars) -> FieldChange[].
 */
import { bsonEquals, fieldNames, fieldValue, hasField, typeName, type DocumentFields } from './bson-value.js';
import type { FieldChange } from './types.js';

/** Arrays longer than this are replaced whole when their lengths differ: LCS is O(n*m). */
export const ARRAY_LCS_MAX = 200;

export interface FieldDiffContext {
  encryptedMarker?: (v: unknown) => boolean;
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `parent.key`, or `parent["odd key"]` for keys a dotted path would make ambiguous. */
export function childPath(parent: string, key: string): string {
  if (IDENTIFIER.test(key)) return parent === '' ? key : `${parent}.${key}`;
  return `${parent}[${JSON.stringify(key)}]`;
}

function elementPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

function isEncrypted(ctx: FieldDiffContext, v: unknown): boolean {
  return ctx.encryptedMarker !== undefined && v !== undefined && ctx.encryptedMarker(v);
}

function pushAdded(out: FieldChange[], ctx: FieldDiffContext, path: string, v: unknown): void {
  out.push(isEncrypted(ctx, v) ? { path, kind: 'added', encrypted: true } : { path, kind: 'added', new: v });
}

function pushRemoved(out: FieldChange[], ctx: FieldDiffContext, path: string, v: unknown): void {
  out.push(isEncrypted(ctx, v) ? { path, kind: 'removed', encrypted: true } : { path, kind: 'removed', old: v });
}

/**
 * Appends to `out` the changes that turn `oldValue` into `newValue` at `path`. Equal values
 * (exact BSON equality) add nothing.
 */
export function diffValues(
  oldValue: unknown,
  newValue: unknown,
  path: string,
  out: FieldChange[],
  ctx: FieldDiffContext = {},
): void {
  if (bsonEquals(oldValue, newValue)) return;
  if (isEncrypted(ctx, oldValue) || isEncrypted(ctx, newValue)) {
    out.push({ path, kind: 'changed', encrypted: true });
    return;
  }
  const oldType = typeName(oldValue);
  const newType = typeName(newValue);
  if (oldType !== newType) {
    out.push({ path, kind: 'typeChanged', old: oldValue, new: newValue, oldType, newType });
    return;
  }
  if (oldType === 'Document') {
    diffDocumentFields(oldValue as DocumentFields, newValue as DocumentFields, path, out, ctx);
    return;
  }
  if (oldType === 'Array') {
    diffArrays(oldValue as unknown[], newValue as unknown[], path, out, ctx);
    return;
  }
  out.push({ path, kind: 'changed', old: oldValue, new: newValue });
}

/**
 * Field changes between two documents: removed fields (in old order), then per field of the new
 * document its change or addition, then `reordered` when the shared fields changed order.
 */
export function diffDocumentFields(
  oldDoc: DocumentFields,
  newDoc: DocumentFields,
  path: string,
  out: FieldChange[],
  ctx: FieldDiffContext = {},
): void {
  const oldKeys = fieldNames(oldDoc);
  const newKeys = fieldNames(newDoc);
  for (const k of oldKeys) if (!hasField(newDoc, k)) pushRemoved(out, ctx, childPath(path, k), fieldValue(oldDoc, k));
  for (const k of newKeys) {
    if (hasField(oldDoc, k)) diffValues(fieldValue(oldDoc, k), fieldValue(newDoc, k), childPath(path, k), out, ctx);
    else pushAdded(out, ctx, childPath(path, k), fieldValue(newDoc, k));
  }
  const sharedOld = oldKeys.filter((k) => hasField(newDoc, k));
  const sharedNew = newKeys.filter((k) => hasField(oldDoc, k));
  if (sharedOld.some((k, i) => k !== sharedNew[i])) {
    out.push({ path, kind: 'reordered', old: oldKeys, new: newKeys });
  }
}

function diffArrays(a: unknown[], b: unknown[], path: string, out: FieldChange[], ctx: FieldDiffContext): void {
  if (a.length === b.length) {
    for (let i = 0; i < a.length; i++) diffValues(a[i], b[i], elementPath(path, i), out, ctx);
    return;
  }
  if (a.length > ARRAY_LCS_MAX || b.length > ARRAY_LCS_MAX) {
    out.push({ path, kind: 'changed', old: a, new: b });
    return;
  }
  // LCS table over suffixes: lcs[i][j] = LCS length of a[i..] and b[j..].
  const n = a.length;
  const m = b.length;
  const lcs: Uint16Array[] = Array.from({ length: n + 1 }, () => new Uint16Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = bsonEquals(a[i], b[j]) ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  // Walk the script; a run of removals next to a run of additions is paired up element by
  // element, so `items[2].qty` changes stay visible when an item was also appended elsewhere.
  let i = 0;
  let j = 0;
  const removed: number[] = [];
  const added: number[] = [];
  const flush = () => {
    const pairs = Math.min(removed.length, added.length);
    for (let k = 0; k < pairs; k++) diffValues(a[removed[k]!], b[added[k]!], elementPath(path, added[k]!), out, ctx);
    for (let k = pairs; k < removed.length; k++) pushRemoved(out, ctx, elementPath(path, removed[k]!), a[removed[k]!]);
    for (let k = pairs; k < added.length; k++) pushAdded(out, ctx, elementPath(path, added[k]!), b[added[k]!]);
    removed.length = 0;
    added.length = 0;
  };
  while (i < n || j < m) {
    if (i < n && j < m && bsonEquals(a[i], b[j]) && lcs[i]![j] === lcs[i + 1]![j + 1]! + 1) {
      flush();
      i++;
      j++;
    } else if (j >= m || (i < n && lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      removed.push(i++);
    } else {
      added.push(j++);
    }
  }
  flush();
}
