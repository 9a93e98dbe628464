/** `dbsnap log`: argv -> core log() -> one commit summary per snapshot, newest first, or JSON; --doc: one document's history. */
import { renderHistoryJson, renderHistoryMarkdown, renderHistoryText } from '../../diff/index.js';
import { InvalidArgumentError } from '../../errors/index.js';
import type { CliContext, CommandFactory } from '../context.js';
import { defineCommand, printJson } from '../context.js';
import { paint } from '../io.js';
import { chalkPainter } from '../painter.js';
import { decorations, formatEntry, FORMAT_PLACEHOLDERS } from '../log-format.js';

export const logCommand: CommandFactory = (ctx) => defineCommand({
  command: 'log [ref]',
  describe: 'List snapshots, newest first (or, with --doc, the history of one document)',
  builder: (y) =>
    y
      .positional('ref', { type: 'string', describe: 'Start from this commit, tag or branch (default HEAD); or A..B (in B, not in A), A...B (in either, not both)' })
      .option('n', { alias: 'max-count', type: 'number', describe: 'Show at most N entries' })
      .option('doc', { type: 'string', array: true, nargs: 2, describe: 'COLLECTION ID: the commits that created, changed or deleted this document' })
      .option('patch', { alias: 'p', type: 'boolean', default: false, describe: 'With --doc: the field changes of each commit' })
      .option('oneline', { type: 'boolean', default: false, describe: 'One line per snapshot: short hash, ref names, subject' })
      .option('format', { alias: 'pretty', type: 'string', describe: 'git-style format string: %H %h %s %b %an %ae %ad %d %D %n, %(documents) %(collections) %(database); with --doc: text (default) or markdown' })
      .option('all', { type: 'boolean', default: false, describe: 'Every commit of every ref: branches, tags, safety snapshots' })
      .example('$0 log -n 5', 'the last five snapshots')
      .example('$0 log --oneline v1..HEAD', 'what came after tag v1')
      .example('$0 log --all --oneline', 'safety snapshots taken by restore included')
      .example("$0 log --format '%h %ad %(documents)'", 'hash, date and document count')
      .example('$0 log --doc products 5f146e002c9cc04162000010 -p', 'every change to one product, field by field')
      .example('$0 log --doc users 42 --format markdown', 'the same for a numeric _id, as markdown')
      .epilogue(`--format placeholders:\n${Object.entries(FORMAT_PLACEHOLDERS).map(([k, v]) => `  ${k.padEnd(15)} ${v}`).join('\n')}`),
  handler: async (args) => {
    if (args.doc !== undefined) return docHistory(ctx, { ...args, doc: args.doc });
    const entries = await ctx.core.log({ repo: args.repo, ref: args.ref, n: args.n, all: args.all });
    if (args.json) return printJson(ctx, entries);
    if (args.format !== undefined) {
      // Strip git's "format:"/"tformat:" prefixes; each entry ends with a newline, as tformat does.
      const format = String(args.format).replace(/^t?format:/, '');
      for (const e of entries) ctx.io.stdout(formatEntry(e, format) + '\n');
      return;
    }
    const c = paint(ctx.io);
    for (const e of entries) {
      const d = decorations(e, { branches: args.all });
      const names = d ? ` ${c.cyan(`(${d})`)}` : '';
      const drilled = e.drill ? ` ${e.drill.ok ? c.green(`[drill ok ${e.drill.time.slice(0, 10)}]`) : c.red(`[drill FAILED ${e.drill.time.slice(0, 10)}]`)}` : '';
      ctx.io.stdout(`${c.yellow(e.commit.slice(0, 7))}${names}${drilled} ${e.subject}\n`);
      if (args.oneline) continue;
      const counts = e.snapshot
        ? `${e.collections ?? '?'} collections, ${e.documents ?? '?'} documents${e.source ? ` from ${e.source}` : ''}`
        : 'no snapshot';
      ctx.io.stdout(`        ${c.dim(`${e.date}  ${counts}`)}\n`);
    }
  },
});

/** `log --doc COLLECTION ID`: exit 1 when the document has no version in the history (as `git log` finding nothing is not an error, but scripts want to know). */
async function docHistory(ctx: CliContext, args: { repo: string; ref?: string; n?: number; doc: string[]; patch: boolean; format?: string; json: boolean; quiet: boolean }): Promise<void> {
  const [collection, id] = args.doc.map(String);
  if (collection === undefined || id === undefined) throw new InvalidArgumentError('--doc takes two values: the collection and the _id (dbsnap log --doc users 42).');
  const format = args.json ? 'json' : (args.format ?? 'text');
  if (!['text', 'markdown', 'json'].includes(format)) throw new InvalidArgumentError(`with --doc, --format is text, markdown or json, not "${format}".`);
  const h = await ctx.core.documentHistory({ repo: args.repo, collection, id, ref: args.ref, ...(args.n !== undefined ? { n: args.n } : {}) });
  const out =
    format === 'json'
      ? renderHistoryJson(h)
      : format === 'markdown'
        ? renderHistoryMarkdown(h, { patch: args.patch })
        : renderHistoryText(h, { patch: args.patch, painter: chalkPainter(ctx.io) });
  if (!args.quiet) ctx.io.stdout(out);
  if (!h.found) ctx.exitCode = 1;
}
