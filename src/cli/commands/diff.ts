/** `dbsnap diff`: argv -> core diff() -> the text, stat, names, Markdown or JSON renderer. */
import { renderJson, renderMarkdown, renderNames, renderStat, renderText } from '../../diff/index.js';
import type { CommandFactory } from '../context.js';
import { defineCommand, detectionArgs, detectionOptions, listArg } from '../context.js';
import { chalkPainter } from '../painter.js';
import { withProgress } from '../progress.js';
import { keyMaterial } from '../key-material.js';

export const diffCommand: CommandFactory = (ctx) => defineCommand({
  command: 'diff [from] [to]',
  describe: 'Show document and field changes between snapshots or against the live database',
  builder: (y) =>
    detectionOptions(y)
      .positional('from', { type: 'string', describe: 'Snapshot to compare from (or FROM..TO); default HEAD' })
      .positional('to', { type: 'string', describe: 'Snapshot to compare to; default the live database' })
      .option('format', { choices: ['text', 'markdown', 'json'] as const, default: 'text', describe: 'Output format' })
      .option('stat', { type: 'boolean', default: false, describe: 'Counts only' })
      // No defaults: yargs' conflicts() counts a defaulted false as given.
      .option('name-only', { type: 'boolean', describe: 'Only the names of changed collections' })
      .option('name-status', { type: 'boolean', describe: 'Names of changed collections with A (new), M (changed) or D (dropped)' })
      .conflicts('name-only', 'name-status')
      .option('collections', { type: 'string', describe: 'Only these collections (a,b)' })
      .option('limit', { type: 'number', default: 100, describe: 'Most document changes shown per collection' })
      .option('max-chars', { type: 'number', describe: 'Markdown: longest output (default 65000, under GitHub\'s comment limit); the rest is counted in a "more ... omitted" line' })
      .option('exit-code', { type: 'boolean', default: false, describe: 'Exit 1 when there are differences' })
      .option('key-file', { type: 'string', describe: 'Key for sensitive fields (else DBSNAP_KEY)' })
      .example('$0 diff', 'the live database against HEAD')
      .example('$0 diff v1 HEAD', 'between two snapshots')
      .example('$0 diff main..feature --format markdown', 'a pull-request comment')
      .example('$0 diff main...feature --name-status', 'what feature changed since it branched from main'),
  handler: async (args) => {
    const names = args.nameOnly || args.nameStatus;
    const d = await withProgress(ctx.io, !args.quiet && !args.json && args.format === 'text', (progress) =>
      ctx.core.diff({
        repo: args.repo,
        from: args.from,
        to: args.to,
        uri: args.uri,
        db: args.db,
        collections: listArg(args.collections),
        limit: names ? 0 : args.limit,
        key: keyMaterial(args, ctx.io.env),
        ...detectionArgs(args),
        onProgress: progress.onProgress,
        signal: ctx.io.signal,
      }),
    );
    const format = args.json ? 'json' : args.format;
    const out =
      names && format !== 'json'
        ? renderNames(d, { status: args.nameStatus })
        : format === 'json'
        ? renderJson(d, { stat: args.stat })
        : format === 'markdown'
          ? renderMarkdown(d, { stat: args.stat, ...(args.maxChars !== undefined ? { maxChars: args.maxChars } : {}) })
          : args.stat
            ? renderStat(d)
            : renderText(d, { painter: chalkPainter(ctx.io) });
    if (out !== '') ctx.io.stdout(out.endsWith('\n') ? out : out + '\n');
    const changed = d.collections.some((c) => c.status !== 'unchanged');
    if (args.exitCode && changed) ctx.exitCode = 1;
  },
});
