/**
 * Terminal output of a snapshot diff. Colour comes only through a Painter, so this module stays
 * free of chalk: the CLI passes a chalk painter, or plainPainter for pipes and NO_COLOR.
 */
import { changedCollections, countsText, documentPreview, fieldView, indexText, metaSummary } from './change-text.js';
import { valueLiteral } from './describe-value.js';
import type { CollectionDelta, FieldChange, SnapshotDiff } from './types.js';

/** Colours (or other decoration) for the text renderer. */
export interface Painter {
  added(s: string): string;
  removed(s: string): string;
  changed(s: string): string;
  heading(s: string): string;
  dim(s: string): string;
}

const identity = (s: string) => s;

/** A Painter that adds nothing. */
export const plainPainter: Painter = {
  added: identity,
  removed: identity,
  changed: identity,
  heading: identity,
  dim: identity,
};

function paintBySign(p: Painter, sign: '+' | '-' | '~', s: string): string {
  return sign === '+' ? p.added(s) : sign === '-' ? p.removed(s) : p.changed(s);
}

/** One field change as a text line (`  price: 17.40 -> 12.34`), coloured by its sign. */
export function fieldLine(f: FieldChange, indent: string, p: Painter, prefix = ''): string {
  const v = fieldView(f);
  const sign = v.sign === '~' ? '' : `${v.sign} `;
  const label = prefix + v.label;
  const body = v.note ?? v.values.join(' -> ');
  return paintBySign(p, v.sign, `${indent}${sign}${label}: ${body}`);
}

function collectionLines(c: CollectionDelta, p: Painter): string[] {
  const meta = metaSummary(c);
  const lines = [p.heading(`${c.name}: ${countsText(c)}${meta ? ` (${meta})` : ''}`)];
  for (const ix of c.indexes.added) lines.push(p.added(`+ index ${indexText(ix)}`));
  for (const ix of c.indexes.removed) lines.push(p.removed(`- index ${indexText(ix)}`));
  for (const ix of c.indexes.changed) {
    lines.push(p.changed(`~ index ${ix.name}`));
    for (const f of ix.fields) lines.push(fieldLine(f, '  ', p));
  }
  for (const f of c.options) lines.push(fieldLine(f, '', p, 'option '));
  for (const d of c.documents) {
    const id = valueLiteral(d.id);
    if (d.kind === 'added') lines.push(p.added(`+ ${id} ${documentPreview(d.doc)}`));
    else if (d.kind === 'removed') lines.push(p.removed(`- ${id} ${documentPreview(d.doc)}`));
    else {
      lines.push(p.changed(`~ ${id}`));
      for (const f of d.fields) lines.push(fieldLine(f, '  ', p));
    }
  }
  if (c.truncated > 0) lines.push(p.dim(`… and ${c.truncated} more`));
  return lines;
}

/**
 * The diff for a terminal: per changed collection a header (`users: 2 added, 1 removed, 3 changed`),
 * index and option changes, then `+ id {preview}` / `- id {preview}` / `~ id` with indented field lines
 * (`  address.city: "Bern" -> "Zürich"`, `  + nickname: String "bob"`). `stat: true` gives
 * renderStat's counts instead.
 *
 * @example process.stdout.write(renderText(diff, { painter: chalkPainter }));
 */
export function renderText(d: SnapshotDiff, opts: { painter?: Painter; stat?: boolean } = {}): string {
  const p = opts.painter ?? plainPainter;
  if (opts.stat) return statLines(d, p).join('\n') + '\n';
  const changed = changedCollections(d.collections);
  if (changed.length === 0) return p.dim(`no differences between ${d.from} and ${d.to}`) + '\n';
  return changed.map((c) => collectionLines(c, p).join('\n')).join('\n\n') + '\n';
}

function statLines(d: SnapshotDiff, p: Painter): string[] {
  const changed = changedCollections(d.collections);
  const width = Math.max(0, ...changed.map((c) => c.name.length));
  const lines = changed.map((c) => {
    const meta = metaSummary(c);
    const counts = [
      p.added(`${c.counts.added} added`),
      p.removed(`${c.counts.removed} removed`),
      p.changed(`${c.counts.changed} changed`),
    ].join(', ');
    return `${c.name.padEnd(width)} | ${counts}${meta ? `; ${meta}` : ''}`;
  });
  const t = d.totals;
  const n = changed.length;
  lines.push(
    p.heading(
      `${n} ${n === 1 ? 'collection' : 'collections'} changed (${t.collections.added} new, ${t.collections.removed} dropped), ` +
        `${t.documents.added} added, ${t.documents.removed} removed, ${t.documents.changed} changed documents`,
    ),
  );
  return lines;
}

/**
 * Counts only: one line per changed collection (`users | 2 added, 1 removed, 3 changed; +1 index`)
 * and a total line. For `--stat` in JSON use `renderJson(d, { stat: true })`, in markdown
 * `renderMarkdown(d, { stat: true })` (the summary table alone).
 */
export function renderStat(d: SnapshotDiff): string {
  return statLines(d, plainPainter).join('\n') + '\n';
}
