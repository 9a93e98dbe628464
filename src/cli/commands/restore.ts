/**
 * `dbsnap restore`: argv -> core restore(), asking before anything is replaced -> the plan,
 * what was restored and verified, dangling references, or JSON.
 */
import type { RestorePlan, RestoreResult } from '../../core/restore.js';
import { ConfirmationRequiredError, InvalidArgumentError } from '../../errors/index.js';
import type { CommandFactory } from '../context.js';
import { defineCommand, listArg, printJson, requireUri } from '../context.js';
import type { CliIO } from '../io.js';
import { paint } from '../io.js';
import { withProgress } from '../progress.js';
import { keyMaterial } from '../key-material.js';

export const restoreCommand: CommandFactory = (ctx) => defineCommand({
  command: 'restore [ref]',
  describe: 'Restore a snapshot (commit, tag or branch) into a database, safely',
  builder: (y) =>
    y
      .positional('ref', { type: 'string', describe: 'Snapshot to restore: commit, tag, branch or safety ref' })
      .option('collections', { type: 'string', describe: 'Restore only these collections (a,b)' })
      .option('mode', { choices: ['replace', 'merge'] as const, default: 'replace' as const, describe: 'replace: swap whole collections in; merge: upsert documents by _id' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'Print the plan and change nothing' })
      .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'Do not ask before replacing collections (needed without a terminal)' })
      .option('backup', { type: 'boolean', default: true, describe: 'Commit what will be replaced to a safety ref first (--no-backup skips it)' })
      .option('force', { type: 'boolean', default: false, describe: 'Restore into a host listed in protectedHosts' })
      .option('key-file', { type: 'string', describe: 'File holding the key for encrypted fields (else DBSNAP_KEY)' })
      .option('read-back', { type: 'boolean', default: false, describe: "Verify by reading every document back, even where the server's collection hash would do" })
      .option('server-hashes', {
        type: 'boolean',
        describe: 'Verify loaded collections with dbHash (it blocks writes on the target database while it runs); default: only on a server on this machine, or serverHashes in dbsnap.json',
      })
      .option('mask', { type: 'boolean', default: false, describe: 'Restore sensitive fields as pseudonyms' })
      .option('cleanup', { type: 'boolean', default: false, describe: 'Restore nothing: drop the temporary collections an interrupted restore left in the database' })
      .example('$0 restore v1 --dry-run', 'show what restoring tag v1 would change')
      .example('$0 restore HEAD~1 --db shop_copy --yes', 'restore into another database without asking')
      .example('$0 restore v1 --collections orders --mode merge', 'put back the orders of v1, keeping newer ones')
      .example('$0 restore --cleanup --db shop', 'remove what an interrupted restore left in shop'),
  handler: async (args) => {
    if (args.cleanup) {
      const c = await ctx.core.cleanupRestore({ uri: requireUri(args), db: args.db });
      if (args.json) return printJson(ctx, c);
      if (!args.quiet) {
        ctx.io.stdout(
          c.dropped.length
            ? `dropped ${c.dropped.length} temporary collection${c.dropped.length === 1 ? '' : 's'} left by an interrupted restore in ${c.database}: ${c.dropped.join(', ')}\n`
            : `no temporary collections in ${c.database}; nothing to clean up\n`,
        );
      }
      return;
    }
    const ref = args.ref;
    if (!ref) throw new InvalidArgumentError('name the snapshot to restore (a commit, tag or branch), or pass --cleanup.');
    const r: RestoreResult = await withProgress(ctx.io, !args.quiet && !args.json, (progress) =>
      ctx.core.restore({
        repo: args.repo,
        ref,
        uri: requireUri(args),
        db: args.db,
        collections: listArg(args.collections),
        mode: args.mode,
        dryRun: args.dryRun,
        backup: args.backup,
        force: args.force,
        key: keyMaterial(args, ctx.io.env),
        mask: args.mask,
        readBack: args.readBack,
        ...(args.serverHashes !== undefined ? { useServerHashes: args.serverHashes } : {}),
        confirm: args.yes ? undefined : confirmer(ctx.io, () => progress.stop()),
        onProgress: progress.onProgress,
        signal: ctx.io.signal,
      }),
    );
    if (args.json) return printJson(ctx, r);
    for (const d of r.dangling) {
      const examples = d.examples.map((e) => String(e)).join(', ');
      ctx.io.stderr(`warning: ${d.relation}: ${d.dangling} restored document${d.dangling === 1 ? '' : 's'} point${d.dangling === 1 ? 's' : ''} at nothing in ${r.database} (e.g. _id ${examples})\n`);
    }
    for (const w of r.warnings) ctx.io.stderr(`warning: ${w}\n`);
    if (args.quiet) return;
    if (r.dryRun) {
      ctx.io.stdout(planText(r.plan, ctx.io));
      ctx.io.stdout('dry run: nothing was changed\n');
      return;
    }
    if (r.cleanedUp.length) ctx.io.stdout(`dropped ${r.cleanedUp.length} temporary collection${r.cleanedUp.length === 1 ? '' : 's'} left by an interrupted restore\n`);
    if (r.safetySnapshot) {
      ctx.io.stdout(`safety snapshot: ${r.safetySnapshot.ref} (restore it with: dbsnap restore ${r.safetySnapshot.ref} --db ${r.database})\n`);
    }
    for (const c of r.restored) {
      const kept = c.kept !== undefined ? ` restored, ${c.kept} other document${c.kept === 1 ? '' : 's'} kept` : '';
      ctx.io.stdout(`  ${c.action.padEnd(7)} ${c.name}${c.type === 'view' ? ' [view]' : `: ${c.documents} documents${kept}`}\n`);
    }
    ctx.io.stdout(`${r.summary}\n`);
  },
});

/**
 * Without --yes: on a terminal show the plan and ask; without one refuse before anything is
 * touched (a script must say --yes explicitly).
 */
function confirmer(io: CliIO, beforeAsking: () => void): (plan: RestorePlan) => Promise<boolean> {
  return async (plan) => {
    if (!io.confirm) {
      throw new ConfirmationRequiredError(
        `restore would replace ${plan.affected.join(', ')} in ${plan.database} and there is no terminal to ask on; pass --yes to confirm (or --dry-run to see the plan).`,
        { affected: plan.affected },
      );
    }
    beforeAsking();
    io.stderr(planText(plan, io));
    return io.confirm(`Replace ${plan.affected.length} collection${plan.affected.length === 1 ? '' : 's'} in ${plan.database}?`);
  };
}

/** The plan as lines a person reads before saying yes. */
export function planText(plan: RestorePlan, io: CliIO): string {
  const c = paint(io);
  const lines = [`restore ${plan.ref} (${plan.commit.slice(0, 7)}) into ${plan.database}, mode ${plan.mode}:`];
  for (const p of plan.collections) {
    const now = p.existingDocuments === undefined ? '' : c.dim(` (now ${p.existingDocuments})`);
    const word = p.action === 'replace' ? c.yellow('replace') : p.action === 'merge' ? c.yellow('merge  ') : c.green('create ');
    lines.push(`  ${word} ${p.name}: ${p.documents} documents, ${p.indexes} index${p.indexes === 1 ? '' : 'es'}${now}`);
  }
  for (const v of plan.views) lines.push(`  ${v.action === 'replace' ? c.yellow('replace') : c.green('create ')} view ${v.name} on ${v.viewOn}`);
  if (plan.dropped.length) {
    lines.push(`  ${c.red('drops')}: ${plan.dropped.map((d) => (d.type === 'view' ? `${d.name} (view)` : `${d.name} (${d.documents} documents)`)).join(', ')}`);
  }
  if (plan.untouched.length) lines.push(c.dim(`  left as they are: ${plan.untouched.join(', ')}`));
  return lines.join('\n') + '\n';
}
