/** `dbsnap relations`: argv -> core relations() (declared, inferred, accepted) -> a table or JSON. */
import type { CommandFactory } from '../context.js';
import { defineCommand, printJson } from '../context.js';
import { paint } from '../io.js';

export const relationsCommand: CommandFactory = (ctx) => defineCommand({
  command: 'relations [ref]',
  describe: 'List declared relations between collections; --infer proposes new ones from the data',
  builder: (y) =>
    y
      .positional('ref', { type: 'string', default: 'HEAD', describe: 'Snapshot to read' })
      .option('infer', { type: 'boolean', default: false, describe: 'Propose relations: fields whose values are mostly found among another collection\'s _id (or a uniquely indexed field)' })
      .option('accept', { type: 'boolean', default: false, describe: 'With --infer: add the new proposals to dbsnap.json (a new commit on HEAD)' })
      .option('min-share', { type: 'number', default: 0.9, describe: 'Share of values that must be found to propose a relation' })
      .option('sample', { type: 'number', default: 1000, describe: 'Documents sampled per collection' })
      .example('$0 relations --infer', 'propose relations from the data at HEAD')
      .example('$0 relations --infer --accept', 'and declare them, so verify checks them'),
  handler: async (args) => {
    const r = await ctx.core.relations({
      repo: args.repo,
      ref: args.ref,
      infer: args.infer || args.accept,
      accept: args.accept,
      minShare: args.minShare,
      sampleSize: args.sample,
    });
    if (args.json) return printJson(ctx, r);
    if (args.quiet) return;
    const c = paint(ctx.io);
    const out = ctx.io.stdout;
    out(`declared relations at ${c.yellow(r.commit.slice(0, 7))}:\n`);
    if (r.declared.length === 0) out(c.dim('  (none: add them to "relations" in dbsnap.json, or see dbsnap relations --infer)\n'));
    for (const d of r.declared) out(`  ${d.from} -> ${d.to}\n`);
    if (!r.proposals) return;
    out(`\nproposed from the data:\n`);
    if (r.proposals.length === 0) out(c.dim(`  (none: no field's values are mostly found among another collection's keys)\n`));
    for (const p of r.proposals) {
      const share = `${(p.matched * 100).toFixed(p.matched === 1 ? 0 : 1)}%`.padStart(6);
      out(`  ${share}  ${p.from} -> ${p.to}  ${c.dim(`(${p.values} values, ${p.distinct} distinct, e.g. ${p.sample[0]})`)}${p.declared ? c.green(' declared') : ''}\n`);
    }
    if (r.accepted) {
      out(`\naccepted ${r.accepted.relations.length} relation${r.accepted.relations.length === 1 ? '' : 's'} in commit ${c.yellow(r.accepted.commit.slice(0, 7))}\n`);
    } else if (!args.accept && r.proposals.some((p) => !p.declared)) {
      out(c.dim('\naccept them with dbsnap relations --infer --accept, or edit dbsnap.json\n'));
    }
  },
});
