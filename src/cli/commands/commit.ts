import { keyMaterial } from '../key-material.js';
import type { CommandFactory } from '../context.js';
import { listArg, printJson, requireUri } from '../context.js';
import { paint } from '../io.js';
import { withProgress } from '../progress.js';

// Kept for commands that import them from here; they live in ../key-material.ts.
export { keyMaterial, readKeyFile } from '../key-material.js';

export const commitCommand: CommandFactory = (ctx) => ({
  command: 'commit',
  describe: 'Snapshot the database and commit it',
  builder: (y) =>
    y
      .option('message', { alias: 'm', type: 'string', describe: 'Commit message (first line)' })
      .option('collections', { type: 'string', describe: 'Only read these collections now (a,b); the rest keep their HEAD version' })
      .option('exclude', { type: 'string', describe: 'Do not read these collections now (x,y)' })
      .option('allow-empty', { type: 'boolean', default: false, describe: 'Commit even if nothing changed' })
      .option('key-file', { type: 'string', describe: 'File holding the key for sensitive fields (else DBSNAP_KEY)' })
      .option('branch', { type: 'string', describe: 'Commit onto this branch (created from HEAD if new) instead of the checked-out one' })
      .option('server-hashes', { type: 'boolean', default: true, describe: 'Skip collections whose server hash (dbHash) is unchanged' })
      .example('$0 commit -m "before migration"', 'snapshot the database in --uri')
      .example('$0 commit --collections users,orders', 'refresh two collections only')
      .example('$0 commit --branch data/price-fix', 'snapshot onto another branch'),
  handler: async (args) => {
    const c = paint(ctx.io);
    const r = await withProgress(ctx.io, !args.quiet && !args.json, (progress) =>
      ctx.core.commit({
        repo: args.repo,
        uri: requireUri(args),
        db: args.db,
        message: args.message,
        collections: listArg(args.collections),
        exclude: listArg(args.exclude, '--exclude'),
        allowEmpty: args.allowEmpty,
        key: keyMaterial(args, ctx.io.env),
        useServerHashes: args.serverHashes,
        ...(args.branch !== undefined ? { branch: args.branch } : {}),
        onProgress: progress.onProgress,
        signal: ctx.io.signal,
      }),
    );
    if (args.json) return printJson(ctx, r);
    if (args.quiet) return;
    if (!r.committed) {
      ctx.io.stdout(`nothing to commit, ${r.database} matches ${r.commit?.slice(0, 7) ?? 'HEAD'} (${r.documents} documents)\n`);
      return;
    }
    ctx.io.stdout(`[${c.yellow(r.commit!.slice(0, 7))}] ${r.message.split('\n')[0]}\n`);
    for (const col of r.collections) {
      const mark = col.changed ? c.green('M') : ' ';
      const how = col.source === 'read' ? '' : c.dim(` (${col.source === 'kept' ? 'kept from HEAD' : 'unchanged per server hash'})`);
      ctx.io.stdout(` ${mark} ${col.name}: ${col.documents} documents in ${col.parts} part${col.parts === 1 ? '' : 's'}${col.type === 'collection' ? '' : ` [${col.type}]`}${how}\n`);
    }
    ctx.io.stdout(
      c.dim(` ${r.pointInTime ? 'read at one cluster time' : 'standalone server: read was not point-in-time'}; ${r.durationMs} ms\n`),
    );
  },
});
