/** `dbsnap export`: argv -> core exportSnapshot() (a snapshot as mongodump, Extended JSON or JSON files) -> a summary, or JSON. */
import { InvalidArgumentError } from '../../errors/index.js';
import type { CommandFactory } from '../context.js';
import { defineCommand, listArg, printJson } from '../context.js';
import { paint } from '../io.js';
import { withProgress } from '../progress.js';
import { keyMaterial } from '../key-material.js';

export const exportCommand: CommandFactory = (ctx) => defineCommand({
  command: 'export <ref> [dir]',
  describe: 'Write a snapshot for other tools: a mongodump directory or archive, Extended JSON lines, or plain JSON arrays',
  builder: (y) =>
    y
      .positional('ref', { type: 'string', describe: 'Snapshot to export (hash, tag, HEAD~1)' })
      .positional('dir', { type: 'string', describe: 'Output directory (not needed with --archive)' })
      .option('format', { type: 'string', choices: ['mongodump', 'ejson', 'json'] as const, default: 'mongodump' as const, describe: 'mongodump: for mongorestore; ejson: canonical Extended JSON lines for mongoimport; json: plain arrays (lossy: ObjectIds and dates as strings)' })
      .option('gzip', { type: 'boolean', default: false, describe: 'mongodump: gzip the files or the archive (restore with mongorestore --gzip)' })
      .option('archive', { type: 'string', describe: 'mongodump: write one archive file (restore with mongorestore --archive=FILE)' })
      .option('collections', { type: 'string', describe: 'Only these collections (a,b)' })
      .option('key-file', { type: 'string', describe: 'Key to decrypt sensitive fields (else DBSNAP_KEY)' })
      .option('keep-encrypted', { type: 'boolean', default: false, describe: 'Without a key: write sensitive fields as {"$dbsnapEncrypted": ...} markers instead of refusing' })
      .option('force', { type: 'boolean', default: false, describe: 'Export into a non-empty directory (its contents are deleted first) or over an existing --archive file; without it these are refused' })
      .option('mask', { type: 'boolean', default: false, describe: 'Replace sensitive values with realistic pseudonyms (needs the key)' })
      .example('$0 export v1 dump/', 'then: mongorestore dump/')
      .example('$0 export v1 --archive shop.archive.gz --gzip', 'then: mongorestore --gzip --archive=shop.archive.gz')
      .example('$0 export HEAD out/ --format ejson', 'then: mongoimport --collection users out/users.json'),
  handler: async (args) => {
    if (!args.dir && !args.archive) throw new InvalidArgumentError('dbsnap export needs an output directory (or --archive FILE with --format mongodump).');
    const r = await withProgress(ctx.io, !args.quiet && !args.json, (progress) =>
      ctx.core.exportSnapshot({
        repo: args.repo,
        ref: args.ref!,
        ...(args.dir ? { dir: args.dir } : {}),
        format: args.format,
        ...(args.archive ? { archive: args.archive } : {}),
        gzip: args.gzip,
        collections: listArg(args.collections),
        ...(args.db ? { db: args.db } : {}),
        key: keyMaterial(args, ctx.io.env),
        keepEncrypted: args.keepEncrypted,
        mask: args.mask,
        force: args.force,
        onProgress: progress.onProgress,
      }),
    );
    if (args.json) return printJson(ctx, r);
    if (args.quiet) return;
    const c = paint(ctx.io);
    ctx.io.stdout(`exported ${c.yellow(r.commit.slice(0, 7))} (${r.database}) as ${r.format} to ${r.output}: ${r.collections.length} collection${r.collections.length === 1 ? '' : 's'}, ${r.documents} documents\n`);
    for (const col of r.collections) {
      ctx.io.stdout(`   ${col.name}: ${col.documents} documents${col.type === 'collection' ? '' : ` [${col.type}]`}${col.sensitive ? ` (sensitive fields ${col.sensitive})` : ''}\n`);
    }
    for (const n of r.notes) ctx.io.stdout(c.dim(`   note: ${n}\n`));
  },
});
