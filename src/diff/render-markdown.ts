/**
 * Markdown output of a snapshot diff, shaped for a GitHub pull-request comment: a summary table,
 * then one collapsed `<details>` block per changed collection. The whole output stays within
 * `maxChars` (GitHub rejects comments over 65536 characters) by dropping whole sections and
 * saying how much was left out.
 */
import { changedCollections, countsText, documentPreview, fieldView, indexText, metaSummary } from './change-text.js';
import { shorten, valueLiteral } from './describe-value.js';
import type { CollectionDelta, DocumentChange, FieldChange, SnapshotDiff } from './types.js';

export const DEFAULT_MARKDOWN_MAX_CHARS = 65000;

/** Room kept free for the closing notes that say what was omitted. */
const NOTE_RESERVE = 200;

/**
 * `s` as an inline code span. The fence is one backtick longer than the longest backtick run
 * inside, and padded with spaces when `s` starts or ends with a backtick or a space (CommonMark
 * strips one leading and trailing space). Line breaks become spaces: a code span cannot hold one.
 */
export function codeSpan(s: string): string {
  const text = s.replace(/\r\n|\r|\n/g, ' ');
  let longest = 0;
  for (const run of text.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  const fence = '`'.repeat(longest + 1);
  const pad = /^[` ]|[` ]$/.test(text) ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** Table cells: GFM needs `\|` even inside code spans, or the pipe splits the cell. */
function tableCell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r\n|\r|\n/g, ' ');
}

/** One field change as a markdown list item. */
export function fieldItem(f: FieldChange, indent: string, prefix = ''): string {
  const v = fieldView(f);
  const label = codeSpan(prefix + v.label);
  const word = v.sign === '+' ? 'added ' : v.sign === '-' ? 'removed ' : '';
  const body = v.note ?? v.values.map(codeSpan).join(' → ');
  const typeNote = f.kind === 'typeChanged' ? ' (type changed)' : '';
  return `${indent}- ${word}${label}: ${body}${typeNote}\n`;
}

function documentBlock(d: DocumentChange): string {
  const id = codeSpan(valueLiteral(d.id));
  if (d.kind === 'added') return `- **+** ${id} added: ${codeSpan(documentPreview(d.doc))}\n`;
  if (d.kind === 'removed') return `- **−** ${id} removed: ${codeSpan(documentPreview(d.doc))}\n`;
  return `- **~** ${id}\n` + d.fields.map((f) => fieldItem(f, '  ')).join('');
}

function metaBlock(c: CollectionDelta): string {
  let s = '';
  for (const ix of c.indexes.added) s += `- index added: ${codeSpan(indexText(ix))}\n`;
  for (const ix of c.indexes.removed) s += `- index removed: ${codeSpan(indexText(ix))}\n`;
  for (const ix of c.indexes.changed) {
    s += `- index changed: ${codeSpan(ix.name)}\n` + ix.fields.map((f) => fieldItem(f, '  ')).join('');
  }
  for (const f of c.options) s += fieldItem(f, '', 'option ');
  return s === '' ? '' : s + '\n';
}

function summaryRow(c: CollectionDelta): string {
  const cells = [codeSpan(c.name), String(c.counts.added), String(c.counts.removed), String(c.counts.changed), metaSummary(c)];
  return `| ${cells.map(tableCell).join(' | ')} |\n`;
}

/** Accumulates output while it fits in a budget. */
class Budget {
  private text = '';
  constructor(private readonly limit: number) {}
  get used(): number {
    return this.text.length;
  }
  fits(s: string, reserve = NOTE_RESERVE): boolean {
    return this.text.length + s.length <= this.limit - reserve;
  }
  add(s: string, reserve = NOTE_RESERVE): boolean {
    if (!this.fits(s, reserve)) return false;
    this.text += s;
    return true;
  }
  /** Appends unconditionally: closing notes, for which NOTE_RESERVE was kept. */
  force(s: string): void {
    this.text += s;
  }
  toString(): string {
    return this.text;
  }
}

/**
 * One collection's `<details>` block, or as much of it as fits: document changes past the
 * budget are left out and counted.
 */
function addCollectionSection(out: Budget, c: CollectionDelta): 'whole' | 'partial' | 'none' {
  const meta = metaSummary(c);
  const open = `<details><summary>${escapeHtml(`${c.name}: ${countsText(c)}${meta ? ` (${meta})` : ''}`)}</summary>\n\n`;
  const close = '</details>\n\n';
  const metaText = metaBlock(c);
  const blocks = c.documents.map(documentBlock);
  const limitNote = c.truncated > 0 ? `\n_… and ${c.truncated} more changes not listed (diff limit)._\n` : '';
  const whole = open + metaText + blocks.join('') + limitNote + '\n' + close;
  if (out.add(whole)) return 'whole';

  // Partial section: it must at least open, and the close plus a note must still fit.
  const closing = (omitted: number) => `\n_… ${omitted} more changes omitted (output size limit)._\n\n` + close;
  if (!out.fits(open + metaText + closing(c.counts.added + c.counts.removed + c.counts.changed))) return 'none';
  out.add(open + metaText);
  let shown = 0;
  for (const b of blocks) {
    if (!out.add(b, NOTE_RESERVE + 100)) break;
    shown++;
  }
  out.force(closing(blocks.length - shown + c.truncated));
  return 'partial';
}

/**
 * The diff as GitHub-flavoured markdown: `### dbsnap diff FROM..TO`, a summary table
 * (collection | added | removed | changed | indexes/options), then a `<details>` block per changed
 * collection listing document and field changes with values in code spans. Never longer than
 * `maxChars` (default 65000). `stat: true` stops after the summary table.
 *
 * @example await github.createComment({ body: renderMarkdown(diff) });
 */
export function renderMarkdown(d: SnapshotDiff, opts: { maxChars?: number; stat?: boolean } = {}): string {
  const maxChars = opts.maxChars ?? DEFAULT_MARKDOWN_MAX_CHARS;
  const out = new Budget(maxChars);
  out.force(`### dbsnap diff ${escapeHtml(d.from)}..${escapeHtml(d.to)}\n\n`);
  const changed = changedCollections(d.collections);
  if (changed.length === 0) {
    out.force('No differences.\n');
    return shorten(out.toString(), maxChars);
  }

  out.add('| collection | added | removed | changed | indexes/options |\n| --- | ---: | ---: | ---: | --- |\n');
  let rows = 0;
  for (const c of changed) {
    if (!out.add(summaryRow(c))) break;
    rows++;
  }
  const t = d.totals.documents;
  const totalRow = `| **total** | ${t.added} | ${t.removed} | ${t.changed} | |\n\n`;
  if (rows < changed.length) out.force(`| _${changed.length - rows} more collections omitted_ | | | | |\n`);
  out.force(totalRow);

  if (!opts.stat) {
    let sections = 0;
    for (const c of changed) {
      const written = addCollectionSection(out, c);
      if (written !== 'none') sections++;
      if (written !== 'whole') break;
    }
    if (sections < changed.length) {
      out.force(`_${changed.length - sections} more collections omitted (output size limit)._\n`);
    }
  }
  // A maxChars smaller than the heading and notes themselves: cut, never exceed.
  return shorten(out.toString(), maxChars);
}
