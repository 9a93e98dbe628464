/** `dbsnap init`: argv -> core init() (a new snapshot repository) -> one line, or JSON. */
import type { CommandFactory } from '../context.js';
import { defineCommand, printJson } from '../context.js';

export const initCommand: CommandFactory = (ctx) => defineCommand({
  command: 'init',
  describe: 'Create the snapshot repository (idempotent)',
  builder: (y) =>
    y
      .option('sort-keys', { type: 'boolean', default: false, describe: 'Write document keys sorted (see README: what it gives up)' })
      .example('$0 init', 'create ./backup-repo')
      .example('$0 init --repo /backups/shop', 'create it elsewhere'),
  handler: async (args) => {
    const r = await ctx.core.init({ repo: args.repo, config: args.sortKeys ? { sortKeys: true } : undefined });
    if (args.json) return printJson(ctx, r);
    if (!args.quiet) {
      ctx.io.stdout(
        r.created
          ? `Initialized empty dbsnap repository in ${r.repo}\n`
          : `${r.repo} is already a dbsnap repository (nothing changed)\n`,
      );
    }
  },
});
