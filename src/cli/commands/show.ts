/** `dbsnap show`: argv -> core show() -> the commit summary, its trailers and a per-collection table, or JSON. */
import { renderJson, renderStat } from '../../diff/index.js';
import type { CommandFactory } from '../context.js';
import { defineCommand, printJson } from '../context.js';
import { paint } from '../io.js';

export const showCommand: CommandFactory = (ctx) => defineCommand({
  command: 'show [ref]',
  describe: "Show one snapshot's metadata and per-collection counts",
  builder: (y) =>
    y
      .positional('ref', { type: 'string', default: 'HEAD', describe: 'Commit, tag, branch, HEAD~2 ...' })
      .option('stat', { type: 'boolean', default: false, describe: 'Also what the commit changed against its parent: counts per collection' })
      .example('$0 show v1', 'the snapshot tagged v1')
      .example('$0 show --stat', 'what the last commit changed, per collection'),
  handler: async (args) => {
    const s = await ctx.core.show({ repo: args.repo, ref: args.ref });
    // As git show --stat: against the first parent (a root commit changed everything from nothing).
    const stat = args.stat && s.parents.length ? await ctx.core.diff({ repo: args.repo, from: s.parents[0], to: s.commit, limit: 0 }) : undefined;
    if (args.json) return printJson(ctx, stat ? { ...s, stat: JSON.parse(renderJson(stat, { stat: true })) } : s);
    const c = paint(ctx.io);
    ctx.io.stdout(`${c.yellow(`commit ${s.commit}`)}${s.tags.length ? c.cyan(` (tag: ${s.tags.join(', ')})`) : ''}\n`);
    ctx.io.stdout(`Author: ${s.author}\nDate:   ${s.date}\n\n    ${s.subject}\n\n`);
    for (const [k, v] of Object.entries(s.trailers)) ctx.io.stdout(`  ${k}: ${v}\n`);
    if (stat) {
      ctx.io.stdout('\n' + renderStat(stat).split('\n').map((l) => (l ? ` ${l}` : l)).join('\n'));
      return;
    }
    if (!s.snapshot) return;
    ctx.io.stdout('\n');
    const width = Math.max(10, ...s.collections.map((x) => x.name.length));
    ctx.io.stdout(`  ${'collection'.padEnd(width)}  ${'type'.padEnd(10)} ${'documents'.padStart(10)} ${'parts'.padStart(6)} ${'indexes'.padStart(7)}\n`);
    for (const x of s.collections) {
      ctx.io.stdout(`  ${x.name.padEnd(width)}  ${x.type.padEnd(10)} ${String(x.documents).padStart(10)} ${String(x.parts).padStart(6)} ${String(x.indexes).padStart(7)}\n`);
    }
    ctx.io.stdout(`  ${'total'.padEnd(width)}  ${''.padEnd(10)} ${String(s.documents).padStart(10)}\n`);
  },
});
