/** `dbsnap prune`: argv -> core prune() (old safety snapshots and drill records) -> what went. */
import { parseDuration } from '../../core/schedule.js';
import type { CommandFactory } from '../context.js';
import { defineCommand, printJson } from '../context.js';

export const pruneCommand: CommandFactory = (ctx) => defineCommand({
  command: 'prune',
  describe: 'Delete old safety snapshots and drill records (never a branch or a tag)',
  builder: (y) =>
    y
      .option('safety-older-than', { type: 'string', describe: 'Delete safety snapshots (refs/dbsnap/safety/*) older than DURATION (30d)' })
      .option('drills-older-than', { type: 'string', describe: "Forget drill records older than DURATION (each snapshot's newest stays)" })
      .option('dry-run', { alias: 'n', type: 'boolean', default: false, describe: 'Show what would go, change nothing' })
      .example('$0 prune --safety-older-than 30d', 'safety snapshots from restores more than 30 days ago')
      .example('$0 prune --drills-older-than 90d --dry-run', 'which drill records would be forgotten'),
  handler: async (args) => {
    const r = await ctx.core.prune({
      repo: args.repo,
      safetyOlderThanMs: args.safetyOlderThan ? parseDuration(args.safetyOlderThan, '--safety-older-than') : undefined,
      drillsOlderThanMs: args.drillsOlderThan ? parseDuration(args.drillsOlderThan, '--drills-older-than') : undefined,
      dryRun: args.dryRun,
    });
    if (args.json) return printJson(ctx, r);
    if (args.quiet) return;
    const verb = r.dryRun ? 'would delete' : 'deleted';
    for (const s of r.safety) ctx.io.stdout(`${verb} ${s.ref} (${s.commit.slice(0, 7)}, ${s.date})\n`);
    if (r.drills.length) ctx.io.stdout(`${r.dryRun ? 'would forget' : 'forgot'} ${r.drills.length} drill record${r.drills.length === 1 ? '' : 's'}\n`);
    if (!r.safety.length && !r.drills.length) ctx.io.stdout('nothing to prune\n');
  },
});
