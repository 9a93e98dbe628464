/**
 * The reader of dbsnap's document text (docs/FORMAT.md, "Document encoding"): part-file text ->
 * documents whose every value has the BSON type it was stored with, with errors that name the
 * file, document, field, line and column.
 *
 * Parsing is `JSON.parse` (native, fast) followed by one walk that replaces type wrappers with BSON
 * values in place (extended-json-values.ts). JSON.parse loses one thing: JS objects list
 * integer-like keys ("0", "7") first, whatever their place in the text. A document that has such
 * a key is therefore re-parsed with a small order-keeping parser (ordered-json-parser.ts), and
 * returned as a `Map` when a plain object cannot hold its order.
 */
import type { Document } from 'bson';
import { FormatError } from '../errors/index.js';
import { documentId } from './document-id.js';
import { findDuplicateField, type DuplicateField } from './duplicate-fields.js';
import { convertValue, documentValue, NEEDS_ORDERED_PARSE, ReadError } from './extended-json-values.js';
import { jsonErrorOffset } from './json-error-position.js';
import { parseOrdered } from './ordered-json-parser.js';

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const at = jsonErrorOffset(text);
    let where = '';
    if (at >= 0) {
      const before = text.slice(0, at);
      where = ` at line ${before.split('\n').length}, column ${at - before.lastIndexOf('\n')}`;
    }
    throw new FormatError(
      `${source}: not valid JSON${where} (${(err as Error).message.split('\n')[0]}). ` +
        'The file may have been edited by hand or truncated.',
      { source },
    );
  }
}

function describeId(doc: unknown): string {
  if (typeof doc !== 'object' || doc === null) return '';
  const id = documentId(doc as Document);
  if (id === undefined) return '';
  try {
    const s = JSON.stringify(id);
    return s === undefined ? '' : ` (_id ${s.length > 80 ? s.slice(0, 77) + '...' : s})`;
  } catch {
    return '';
  }
}

function formatError(err: ReadError, source: string, index: number | undefined, raw: unknown): FormatError {
  const doc = index === undefined ? '' : ` document ${index}${describeId(raw)}`;
  const field = err.path.length > 0 ? ` field ${err.path.join('.')}` : '';
  return new FormatError(`${source}:${doc}${field}: ${err.message}`, {
    source,
    ...(index === undefined ? {} : { index }),
    path: err.path,
  });
}

function duplicateFieldError(d: DuplicateField, source: string, parsed: unknown): FormatError {
  const raw = Array.isArray(parsed) ? parsed[d.index] : undefined;
  const field = d.path.join('.');
  return new FormatError(
    `${source}: line ${d.line}, document ${d.index}${describeId(raw)}: the field name "${d.path[d.path.length - 1]}" appears twice` +
      `${d.path.length > 1 ? ` (in ${d.path.slice(0, -1).join('.')})` : ''}. dbsnap never writes that (commit refuses such documents), ` +
      'so the file was edited by hand; remove one of the two.',
    { source, index: d.index, line: d.line, path: d.path, field, duplicateField: true },
  );
}

function readDocuments(parsed: unknown, source: string): Document[] {
  if (!Array.isArray(parsed)) {
    throw new FormatError(`${source}: a part file must be a JSON array of documents`, { source });
  }
  const docs: Document[] = new Array(parsed.length);
  for (let i = 0; i < parsed.length; i++) {
    const raw = parsed[i];
    try {
      docs[i] = documentValue(raw, 'a part-file element');
    } catch (err) {
      if (err instanceof ReadError) throw formatError(err, source, i, raw);
      throw err;
    }
  }
  return docs;
}

/**
 * Parses a part file into documents: field order preserved, every value as the BSON type it was
 * stored with (Int32, Double, Long, Decimal128, Binary, ObjectId, Date, Timestamp, BSONRegExp,
 * MinKey, MaxKey, Code, BSONSymbol, null, `undefined` for Undefined, {@link DbPointer}, nested
 * documents and arrays), so that {@link serializeDocument} gives the original bytes.
 *
 * A document whose field order a plain object cannot keep (an integer-like key such as "2" after
 * a non-integer one) is returned as a `Map<string, unknown>`; `BSON.serialize` and the driver keep
 * a Map's order. Top-level documents are Maps only in that case too.
 *
 * Throws FormatError (`code === 'EFORMAT'`) naming `source`, the document index and field path;
 * also for a field name that appears twice in one object (JSON.parse would keep one silently).
 *
 * @example
 * const [doc] = readPartFile('[\n  {\n    "_id": 1\n  }\n]\n', 'users/part-0001.json');
 * doc._id; // Int32 { value: 1 }
 */
export function readPartFile(text: string, source = 'part file'): Document[] {
  const parsed = parseJson(text, source);
  const duplicate = findDuplicateField(text, parsed);
  if (duplicate) throw duplicateFieldError(duplicate, source, parsed);
  try {
    return readDocuments(parsed, source);
  } catch (err) {
    if (err !== NEEDS_ORDERED_PARSE) throw err;
  }
  return readDocuments(parseOrdered(text), source);
}

/**
 * Parses the text of one value (such as an `idText` from writeDocument) into its BSON value.
 *
 * @example
 * readValue('{"$oid": "68a72cf14b78eb31b9af9e45"}'); // ObjectId('68a72cf14b78eb31b9af9e45')
 */
export function readValue(text: string, source = 'value'): unknown {
  const parsed = parseJson(text, source);
  const read = (v: unknown) => {
    try {
      return convertValue(v);
    } catch (err) {
      if (err instanceof ReadError) throw formatError(err, source, undefined, undefined);
      throw err;
    }
  };
  try {
    return read(parsed);
  } catch (err) {
    if (err !== NEEDS_ORDERED_PARSE) throw err;
  }
  return read(parseOrdered(text));
}
