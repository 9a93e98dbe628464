/** `dbsnap config`: argv -> core configValue() (read, set or unset a dbsnap.json key; a change is a commit). */
import type { CommandFactory } from '../context.js';
import { defineCommand, printJson } from '../context.js';

export const configCommand: CommandFactory = (ctx) => defineCommand({
  command: 'config [key] [value]',
  describe: 'Read or change the repository config (dbsnap.json); a change is a commit',
  builder: (y) =>
    y
      .positional('key', { type: 'string', describe: 'Dotted key: relations, sensitive.users, protectedHosts, exclude ...' })
      .positional('value', { type: 'string', describe: 'New value as JSON (a bare word is a string)' })
      .option('unset', { type: 'boolean', default: false, describe: 'Remove the key' })
      .example('$0 config', 'print the whole config')
      .example('$0 config sensitive.users \'["email","address.phone"]\'', 'store these fields encrypted')
      .example('$0 config protectedHosts \'["prod.example.com"]\'', 'restore refuses these hosts without --force')
      .example('$0 config relations \'[{"from":"orders.userId","to":"users._id"}]\'', 'declare a relationship'),
  handler: async (args) => {
    const r = await ctx.core.configValue({ repo: args.repo, key: args.key, value: args.value, unset: args.unset });
    if (args.json) return printJson(ctx, r);
    if (args.value === undefined && !args.unset) {
      ctx.io.stdout(typeof r.value === 'string' ? `${r.value}\n` : `${JSON.stringify(r.value, null, 2)}\n`);
      return;
    }
    if (!args.quiet) {
      ctx.io.stdout(r.changed ? `[${r.commit!.slice(0, 7)}] ${args.unset ? 'unset' : 'set'} ${args.key}\n` : `${args.key} unchanged\n`);
    }
  },
});
