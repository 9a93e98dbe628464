/** `dbsnap branch`: argv -> core branch operations (list, create, delete) -> one line per branch, or JSON. */
import type { CommandFactory } from '../context.js';
import { defineCommand, printJson } from '../context.js';
import { paint } from '../io.js';
import { InvalidArgumentError } from '../../errors/index.js';

export const branchCommand: CommandFactory = (ctx) => defineCommand({
  command: 'branch [name] [start]',
  describe: 'List, create or delete branches of snapshots',
  builder: (y) =>
    y
      .positional('name', { type: 'string', describe: 'Branch to create (or delete with --delete)' })
      .positional('start', { type: 'string', describe: 'Where the new branch starts (default HEAD; origin/main works)' })
      .option('delete', { alias: 'd', type: 'boolean', default: false, describe: 'Delete the branch (refused if HEAD lacks its snapshots)' })
      .option('force', { alias: 'D', type: 'boolean', default: false, describe: 'With --delete: delete even if HEAD lacks its snapshots' })
      .example('$0 branch', 'list branches; * marks the checked-out one')
      .example('$0 branch data/price-fix', 'create a branch at HEAD')
      .example('$0 branch --delete data/price-fix', 'delete it'),
  handler: async (args) => {
    const c = paint(ctx.io);
    // Only no name at all lists: an empty name ('') is a name, and the core refuses it.
    if (args.name === undefined) {
      if (args.delete || args.force) throw new InvalidArgumentError('dbsnap branch --delete needs the name of the branch to delete.');
      const branches = await ctx.core.listBranches({ repo: args.repo });
      if (args.json) return printJson(ctx, branches);
      for (const b of branches) ctx.io.stdout(`${b.current ? '*' : ' '} ${b.current ? c.green(b.name) : b.name}\t${c.yellow(b.commit.slice(0, 7))}\n`);
      return;
    }
    if (args.delete || args.force) {
      const r = await ctx.core.deleteBranch({ repo: args.repo, name: args.name, force: args.force });
      if (args.json) return printJson(ctx, r);
      if (!args.quiet) ctx.io.stdout(`Deleted branch ${r.name} (was ${r.commit.slice(0, 7)})\n`);
      return;
    }
    const r = await ctx.core.createBranch({ repo: args.repo, name: args.name, startPoint: args.start });
    if (args.json) return printJson(ctx, r);
    if (!args.quiet) ctx.io.stdout(`Created branch ${r.name} at ${c.yellow(r.commit.slice(0, 7))}\n`);
  },
});
