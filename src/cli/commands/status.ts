/** `dbsnap status`: argv -> core status() (the database against HEAD) -> per-collection counts; exit 1 when not clean. */
import type { CommandFactory } from '../context.js';
import { defineCommand, describeDetection, detectionArgs, detectionOptions, printJson, requireUri } from '../context.js';
import { paint } from '../io.js';
import { withProgress } from '../progress.js';
import { keyMaterial } from '../key-material.js';

export const statusCommand: CommandFactory = (ctx) => defineCommand({
  command: 'status',
  describe: 'Summarize changes in the live database since HEAD (exit 1 if any)',
  builder: (y) =>
    detectionOptions(y)
      .option('key-file', { type: 'string', describe: 'Key for sensitive fields (else DBSNAP_KEY)' })
      .example('$0 status || echo "uncommitted changes"', 'use in scripts and CI'),
  handler: async (args) => {
    const s = await withProgress(ctx.io, !args.quiet && !args.json, (progress) =>
      ctx.core.status({
        repo: args.repo,
        uri: requireUri(args),
        db: args.db,
        key: keyMaterial(args, ctx.io.env),
        ...detectionArgs(args),
        onProgress: progress.onProgress,
        signal: ctx.io.signal,
      }),
    );
    ctx.exitCode = s.clean ? 0 : 1;
    if (args.json) {
      const { diff: _d, ...rest } = s;
      return printJson(ctx, rest);
    }
    if (args.quiet) return;
    const c = paint(ctx.io);
    const how = s.detection ? c.dim(`  ${describeDetection(s.detection)}\n`) : '';
    if (s.clean) {
      ctx.io.stdout(`nothing changed since ${s.against}\n${how}`);
      return;
    }
    ctx.io.stdout(`changes since ${s.against}:\n`);
    for (const x of s.collections) {
      if (x.status === 'unchanged') continue;
      const parts = [];
      if (x.status === 'added') parts.push('new collection');
      if (x.status === 'removed') parts.push('dropped');
      if (x.added) parts.push(c.green(`${x.added} added`));
      if (x.removed) parts.push(c.red(`${x.removed} removed`));
      if (x.changed) parts.push(c.yellow(`${x.changed} changed`));
      if (x.indexes) parts.push(`${x.indexes} index change${x.indexes === 1 ? '' : 's'}`);
      if (x.options) parts.push(`${x.options} option change${x.options === 1 ? '' : 's'}`);
      ctx.io.stdout(`  ${x.name}: ${parts.join(', ')}\n`);
    }
    ctx.io.stdout(how);
  },
});
