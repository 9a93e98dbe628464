import type { CommandFactory } from '../context.js';
import { printJson } from '../context.js';
import { paint } from '../io.js';

export const logCommand: CommandFactory = (ctx) => ({
  command: 'log [ref]',
  describe: 'List snapshots, newest first',
  builder: (y) =>
    y
      .positional('ref', { type: 'string', describe: 'Start from this commit, tag or branch (default HEAD)' })
      .option('n', { alias: 'max-count', type: 'number', describe: 'Show at most N entries' })
      .example('$0 log -n 5', 'the last five snapshots'),
  handler: async (args) => {
    const entries = await ctx.core.log({ repo: args.repo, ref: args.ref, n: args.n });
    if (args.json) return printJson(ctx, entries);
    const c = paint(ctx.io);
    for (const e of entries) {
      const tags = e.tags.length ? ` ${c.cyan(`(tag: ${e.tags.join(', tag: ')})`)}` : '';
      ctx.io.stdout(`${c.yellow(e.commit.slice(0, 7))}${tags} ${e.subject}\n`);
      const counts = e.snapshot
        ? `${e.collections ?? '?'} collections, ${e.documents ?? '?'} documents${e.source ? ` from ${e.source}` : ''}`
        : 'no snapshot';
      ctx.io.stdout(`        ${c.dim(`${e.date}  ${counts}`)}\n`);
    }
  },
});
