/** `dbsnap drill`: argv -> core drill() (restore into a scratch database, verify, drop, record) -> the drill report. */
import type { CommandFactory } from '../context.js';
import { defineCommand, printJson, requireUri } from '../context.js';
import { paint } from '../io.js';
import { withProgress } from '../progress.js';
import { keyMaterial } from '../key-material.js';

export const drillCommand: CommandFactory = (ctx) => defineCommand({
  command: 'drill [ref]',
  describe: 'Restore drill: restore a snapshot into a scratch database, verify it, drop it, record the result',
  builder: (y) =>
    y
      .positional('ref', { type: 'string', describe: 'Snapshot to drill (default HEAD)' })
      .option('history', { type: 'boolean', default: false, describe: 'List the recorded drills (of REF if given) instead of running one' })
      .option('force', { type: 'boolean', default: false, describe: 'Drill on a host listed in protectedHosts' })
      .option('key-file', { type: 'string', describe: 'File holding the key for encrypted fields (else DBSNAP_KEY)' })
      .example('$0 drill', 'drill HEAD on the source server (database <db>_dbsnap_drill_<time>)')
      .example('$0 drill v1 --uri mongodb://scratch-host/shop', 'drill a tag on another server')
      .example('$0 drill --history', 'every recorded drill'),
  handler: async (args) => {
    const c = paint(ctx.io);
    if (args.history) {
      const list = await ctx.core.drillHistory({ repo: args.repo, ref: args.ref });
      if (args.json) return printJson(ctx, list);
      if (!list.length) {
        if (!args.quiet) ctx.io.stdout('no drills recorded\n');
        return;
      }
      for (const d of list) {
        const result = d.ok ? c.green('ok    ') : c.red('FAILED');
        ctx.io.stdout(`${d.time} ${result} ${c.yellow(d.commit.slice(0, 7))} ${d.ref}: ${d.collections} collections, ${d.documents} documents, ${d.durationMs} ms${d.error ? ` (${d.error})` : ''}\n`);
      }
      return;
    }
    const r = await withProgress(ctx.io, !args.quiet && !args.json, (progress) =>
      ctx.core.drill({
        repo: args.repo,
        ref: args.ref,
        uri: requireUri(args),
        db: args.db,
        force: args.force,
        key: keyMaterial(args, ctx.io.env),
        onProgress: progress.onProgress,
        signal: ctx.io.signal,
      }),
    );
    if (!r.ok) ctx.exitCode = 1;
    if (args.json) return printJson(ctx, r);
    const where = `${r.database} (${r.droppedScratch ? 'dropped again' : c.red('NOT dropped: drop it by hand')})`;
    if (r.ok) {
      if (!args.quiet) ctx.io.stdout(`drill ok: ${r.ref} (${r.commit.slice(0, 7)}) restored into ${where}, ${r.collections} collections, ${r.documents} documents read back and identical; ${r.durationMs} ms\n`);
    } else {
      ctx.io.stderr(`drill FAILED: ${r.ref} (${r.commit.slice(0, 7)}) into ${where}: ${r.error}\n`);
    }
    if (!args.quiet) ctx.io.stdout(c.dim(`recorded in refs/notes/dbsnap-drills (git log --notes=dbsnap-drills)\n`));
  },
});
