/** `dbsnap switch`: argv -> core switchBranch() (move HEAD and the work tree) -> one line, or JSON. */
import type { CommandFactory } from '../context.js';
import { defineCommand, printJson } from '../context.js';

export const switchCommand: CommandFactory = (ctx) => defineCommand({
  command: 'switch <name> [start]',
  describe: 'Check out a branch (in a clone, its files follow; uncommitted changes are refused)',
  builder: (y) =>
    y
      .positional('name', { type: 'string', describe: 'Branch to switch to' })
      .positional('start', { type: 'string', describe: 'With --create: where the branch starts (default HEAD)' })
      .option('create', { alias: 'c', type: 'boolean', default: false, describe: 'Create the branch first' })
      .example('$0 switch --create data/price-fix', 'start a branch for a data change')
      .example('$0 switch main', 'back to main'),
  handler: async (args) => {
    const r = await ctx.core.switchBranch({ repo: args.repo, name: args.name!, create: args.create, startPoint: args.start });
    if (args.json) return printJson(ctx, r);
    if (!args.quiet) ctx.io.stdout(`Switched to ${r.created ? 'a new ' : ''}branch '${r.branch}'${r.commit ? ` (${r.commit.slice(0, 7)})` : ''}\n`);
  },
});
