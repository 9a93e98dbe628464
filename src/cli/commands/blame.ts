/** `dbsnap blame`: argv -> core blame() -> the text, Markdown or JSON blame renderer. */
import { renderBlameJson, renderBlameMarkdown, renderBlameText } from '../../diff/index.js';
import type { CommandFactory } from '../context.js';
import { defineCommand } from '../context.js';
import { chalkPainter } from '../painter.js';

export const blameCommand: CommandFactory = (ctx) => defineCommand({
  command: 'blame <collection> <id> [ref]',
  describe: 'Show, for each field of a document, the commit that last changed it',
  builder: (y) =>
    y
      .positional('collection', { type: 'string', describe: 'Collection name' })
      .positional('id', { type: 'string', describe: 'The _id: 24 hex digits (ObjectId), a number, a string, or Extended JSON' })
      .positional('ref', { type: 'string', describe: 'Snapshot to start from (default HEAD)' })
      .option('deep', { type: 'boolean', default: false, describe: 'Nested fields (inside embedded documents) one by one' })
      .option('format', { choices: ['text', 'markdown', 'json'] as const, default: 'text', describe: 'Output format' })
      .example('$0 blame products 5f146e002c9cc04162000010', 'who changed which field of a product, and when')
      .example("$0 blame users '{\"$numberLong\": \"7\"}' --deep", 'an Int64 _id, nested fields too'),
  handler: async (args) => {
    const b = await ctx.core.blame({ repo: args.repo, collection: args.collection!, id: args.id!, ref: args.ref, deep: args.deep });
    const format = args.json ? 'json' : args.format;
    const out = format === 'json' ? renderBlameJson(b) : format === 'markdown' ? renderBlameMarkdown(b) : renderBlameText(b, { painter: chalkPainter(ctx.io) });
    if (!args.quiet) ctx.io.stdout(out);
    if (!b.found) ctx.exitCode = 1;
  },
});
