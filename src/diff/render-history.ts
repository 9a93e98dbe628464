/**
 * Output of `dbsnap log --doc` (a document's history) and `dbsnap blame`, in text, markdown and
 * JSON. The field lines are the diff's own (render-text, render-markdown, render-json), so a
 * change reads the same in `diff`, `log --doc -p` and a pull-request comment.
 */
import type { BlameResult } from '../core/blame.js';
import type { DocumentHistory } from '../core/document-history.js';
import { documentPreview } from './change-text.js';
import { valueLiteral } from './describe-value.js';
import { toCanonicalEjson } from './ejson.js';
import { fieldJson } from './render-json.js';
import { codeSpan, fieldItem } from './render-markdown.js';
import { fieldLine, plainPainter, type Painter } from './render-text.js';

export interface HistoryRenderOptions {
  /** Field-level changes under each commit (`-p`). */
  patch?: boolean;
  painter?: Painter;
}

const KIND_WORD = { created: 'created', changed: 'changed', deleted: 'deleted' } as const;

/**
 * ```
 * products ObjectId 5f146e002c9cc04162000010: 2 versions
 * 85dde82 changed  2026-11-27T16:25:09.000Z  Price and stock updates
 *   price: 53.31 -> 55.98
 * 494a001 created  2026-11-27T16:25:00.000Z  Initial shop data
 * ```
 */
export function renderHistoryText(h: DocumentHistory, opts: HistoryRenderOptions = {}): string {
  const p = opts.painter ?? plainPainter;
  const id = valueLiteral(h.id);
  if (!h.found) return `${h.collection} ${id}: no version in this history\n`;
  const lines = [p.heading(`${h.collection} ${id}: ${h.versions.length} version${h.versions.length === 1 ? '' : 's'}`)];
  for (const v of h.versions) {
    lines.push(`${p.changed(v.commit.slice(0, 7))} ${KIND_WORD[v.kind].padEnd(7)}  ${p.dim(v.date)}  ${v.subject}`);
    if (!opts.patch) continue;
    if (v.kind === 'created') lines.push(p.added(`  + ${documentPreview(v.doc!)}`));
    else if (v.kind === 'changed') for (const f of v.fields!) lines.push(fieldLine(f, '  ', p));
  }
  return lines.join('\n') + '\n';
}

export function renderHistoryMarkdown(h: DocumentHistory, opts: HistoryRenderOptions = {}): string {
  const id = codeSpan(valueLiteral(h.id));
  if (!h.found) return `### ${codeSpan(h.collection)} ${id}\n\nNo version in this history.\n`;
  let s = `### ${codeSpan(h.collection)} ${id}\n\n`;
  for (const v of h.versions) {
    s += `- ${codeSpan(v.commit.slice(0, 7))} **${KIND_WORD[v.kind]}** ${v.date}: ${v.subject.replace(/[<>]/g, '')}\n`;
    if (!opts.patch) continue;
    if (v.kind === 'created') s += `  - ${codeSpan(documentPreview(v.doc!))}\n`;
    else if (v.kind === 'changed') for (const f of v.fields!) s += fieldItem(f, '  ');
  }
  return s;
}

/**
 * `{ format: "dbsnap-doc-history", version: 1, collection, id, found, versions: [{ commit, date,
 * author, subject, kind, doc?, fields? }], stats }`, values as canonical Extended JSON (the
 * field objects are those of `dbsnap diff --format json`).
 */
export function renderHistoryJson(h: DocumentHistory): string {
  return (
    JSON.stringify(
      {
        format: 'dbsnap-doc-history',
        version: 1,
        collection: h.collection,
        id: toCanonicalEjson(h.id),
        found: h.found,
        versions: h.versions.map((v) => ({
          commit: v.commit,
          date: v.date,
          author: v.author,
          subject: v.subject,
          kind: v.kind,
          ...(v.doc ? { doc: toCanonicalEjson(v.doc) } : {}),
          ...(v.fields ? { fields: v.fields.map(fieldJson) } : {}),
        })),
        stats: h.stats,
      },
      null,
      2,
    ) + '\n'
  );
}

/** `path  commit  date  value` per field, aligned; `subject` last. */
export function renderBlameText(b: BlameResult, opts: { painter?: Painter } = {}): string {
  const p = opts.painter ?? plainPainter;
  const id = valueLiteral(b.id);
  if (!b.found) return `${b.collection} ${id}: not in this snapshot\n`;
  const width = Math.max(...b.lines.map((l) => l.path.length), 4);
  const values = b.lines.map((l) => valueLiteral(l.value, 40));
  const valueWidth = Math.max(...values.map((v) => v.length));
  return (
    b.lines
      .map((l, i) => `${l.path.padEnd(width)}  ${p.changed(l.commit.slice(0, 7))} ${p.dim(l.date.slice(0, 10))}  ${values[i]!.padEnd(valueWidth)}  ${p.dim(l.subject)}`)
      .join('\n') + '\n'
  );
}

export function renderBlameMarkdown(b: BlameResult): string {
  const id = codeSpan(valueLiteral(b.id));
  if (!b.found) return `### ${codeSpan(b.collection)} ${id}\n\nNot in this snapshot.\n`;
  let s = `### ${codeSpan(b.collection)} ${id}\n\n| field | value | commit | date | message |\n| --- | --- | --- | --- | --- |\n`;
  const cell = (t: string) => t.replace(/\|/g, '\\|');
  for (const l of b.lines) {
    s += `| ${cell(codeSpan(l.path))} | ${cell(codeSpan(valueLiteral(l.value, 60)))} | ${codeSpan(l.commit.slice(0, 7))} | ${l.date.slice(0, 10)} | ${cell(l.subject.replace(/[<>]/g, ''))} |\n`;
  }
  return s;
}

export function renderBlameJson(b: BlameResult): string {
  return (
    JSON.stringify(
      {
        format: 'dbsnap-blame',
        version: 1,
        collection: b.collection,
        id: toCanonicalEjson(b.id),
        found: b.found,
        fields: b.lines.map((l) => ({ path: l.path, value: toCanonicalEjson(l.value), commit: l.commit, date: l.date, author: l.author, subject: l.subject })),
      },
      null,
      2,
    ) + '\n'
  );
}
