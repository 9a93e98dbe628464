/** `dbsnap import`: argv -> core importBackup() (mongodump, mongoexport or JSON backups as snapshots) -> one line per snapshot, or JSON. */
import { InvalidArgumentError } from '../../errors/index.js';
import type { CommandFactory } from '../context.js';
import { defineCommand, listArg, printJson } from '../context.js';
import { paint } from '../io.js';
import { withProgress } from '../progress.js';
import { keyMaterial } from '../key-material.js';

export const importCommand: CommandFactory = (ctx) => defineCommand({
  command: 'import <paths..>',
  describe: 'Commit a backup made by other tools (mongodump, mongoexport, JSON arrays) as a snapshot, no server needed',
  builder: (y) =>
    y
      .positional('paths', { type: 'string', array: true, describe: 'mongodump directory or archive, .bson, mongoexport or JSON files, or folders of them' })
      .option('format', { type: 'string', choices: ['mongodump', 'archive', 'ejson', 'json'] as const, describe: 'Force the format instead of detecting it from the content' })
      .option('types', { type: 'string', choices: ['infer', 'keep'] as const, default: 'infer' as const, describe: 'Plain JSON: turn 24-hex strings into ObjectIds and ISO strings into dates where every value of a field is one (infer), or keep them as strings' })
      .option('message', { alias: 'm', type: 'string', describe: 'Commit message (first line)' })
      .option('date', { type: 'string', describe: 'Date of the commit (ISO 8601); default: now' })
      .option('as-history', { type: 'boolean', default: false, describe: 'One commit per path, oldest first, dated from its name (backup-2025-08-21) or its files\' times' })
      .option('collections', { type: 'string', describe: 'Import only these collections (a,b)' })
      .option('exclude', { type: 'string', describe: 'Leave these collections out (x,y)' })
      .option('allow-empty', { type: 'boolean', default: false, describe: 'Commit even if the snapshot equals HEAD' })
      .option('key-file', { type: 'string', describe: 'Key for the sensitive fields in dbsnap.json (else DBSNAP_KEY); they are stored encrypted' })
      .example('$0 import dump/', 'a mongodump directory (one database; --db picks one of several)')
      .example('$0 import shop.archive.gz', 'a mongodump --archive --gzip file')
      .example('$0 import backup/ --types infer', "a folder of JSON arrays (users.json, orders.json ...)")
      .example('$0 import backups/2025-08-* --as-history', 'a series of backups becomes history'),
  handler: async (args) => {
    let date: Date | undefined;
    if (args.date !== undefined) {
      date = new Date(String(args.date));
      if (Number.isNaN(date.getTime())) throw new InvalidArgumentError(`--date ${JSON.stringify(args.date)} is not a date; use ISO 8601, e.g. 2025-08-21T14:30:00Z.`);
    }
    const r = await withProgress(ctx.io, !args.quiet && !args.json, (progress) =>
      ctx.core.importBackup({
        repo: args.repo,
        paths: (args.paths as string[]).map(String),
        ...(args.format ? { format: args.format } : {}),
        ...(args.db ? { db: args.db } : {}),
        ...(args.message !== undefined ? { message: args.message } : {}),
        ...(date ? { date } : {}),
        asHistory: args.asHistory,
        types: args.types,
        collections: listArg(args.collections),
        exclude: listArg(args.exclude),
        allowEmpty: args.allowEmpty,
        key: keyMaterial(args, ctx.io.env),
        onProgress: progress.onProgress,
      }),
    );
    if (args.json) return printJson(ctx, r);
    if (args.quiet) return;
    const c = paint(ctx.io);
    for (const s of r.snapshots) {
      if (!s.committed) {
        ctx.io.stdout(`nothing to commit: ${s.path} equals ${s.commit?.slice(0, 7) ?? 'HEAD'} (${s.documents} documents)\n`);
      } else {
        const when = s.dateSource === 'now' ? '' : c.dim(` (dated ${s.date} from ${s.dateSource === 'option' ? '--date' : s.dateSource === 'name' ? 'its name' : "its files' times"})`);
        ctx.io.stdout(`[${c.yellow(s.commit!.slice(0, 7))}] ${s.message.split('\n')[0]}${when}\n`);
      }
      for (const col of s.collections) {
        ctx.io.stdout(`   ${col.name}: ${col.documents} documents${col.type === 'collection' ? '' : ` [${col.type}]`}\n`);
        for (const f of col.conversions ?? []) ctx.io.stdout(c.dim(`     ${f.field}: ${f.values} value${f.values === 1 ? '' : 's'} -> ${f.to}\n`));
      }
      for (const n of s.notes) ctx.io.stdout(c.dim(`   note: ${n}\n`));
    }
  },
});
