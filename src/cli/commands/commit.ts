/** `dbsnap commit`: argv -> core commit() -> the new commit and one line per collection, or JSON. */
import { keyMaterial } from '../key-material.js';
import { renderJson, type CollectionDelta } from '../../diff/index.js';
import type { CommandFactory } from '../context.js';
import { defineCommand, describeDetection, detectionArgs, detectionOptions, listArg, printJson, requireUri } from '../context.js';
import { paint } from '../io.js';
import { withProgress } from '../progress.js';

/** `2 added, 1 changed` (documents), or what else changed when no document did. */
function changedDocuments(d: CollectionDelta): string {
  const n = d.counts;
  const parts = [n.added && `${n.added} added`, n.removed && `${n.removed} removed`, n.changed && `${n.changed} changed`].filter(Boolean);
  return parts.length ? parts.join(', ') : 'indexes or options changed';
}

export const commitCommand: CommandFactory = (ctx) => defineCommand({
  command: 'commit',
  describe: 'Snapshot the database and commit it',
  builder: (y) =>
    detectionOptions(y)
      .option('message', { alias: 'm', type: 'string', describe: 'Commit message (first line)' })
      .option('collections', { type: 'string', describe: 'Only read these collections now (a,b); the rest keep their HEAD version' })
      .option('exclude', { type: 'string', describe: 'Do not read these collections now (x,y)' })
      .option('allow-empty', { type: 'boolean', default: false, describe: 'Commit even if nothing changed' })
      .option('key-file', { type: 'string', describe: 'File holding the key for sensitive fields (else DBSNAP_KEY)' })
      .option('branch', { type: 'string', describe: 'Commit onto this branch (created from HEAD if new) instead of the checked-out one' })
      .example('$0 commit -m "before migration"', 'snapshot the database in --uri')
      .example('$0 commit --collections users,orders', 'refresh two collections only')
      .example('$0 commit --branch data/price-fix', 'snapshot onto another branch')
      .example('$0 commit --server-hashes', 'let dbHash (it blocks writes while it runs) skip unchanged collections on a remote standalone server'),
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
        ...detectionArgs(args),
        ...(args.branch !== undefined ? { branch: args.branch } : {}),
        changes: true,
        onProgress: progress.onProgress,
        signal: ctx.io.signal,
      }),
    );
    if (!args.json && !args.quiet) for (const w of r.warnings) ctx.io.stderr(`${c.yellow('warning:')} ${w}\n`);
    // What changed against the parent, per collection: A new, M changed, D dropped, with document
    // counts (commit read only the parts whose blobs differ).
    const changes = r.changes;
    if (args.json) return printJson(ctx, changes ? { ...r, changes: JSON.parse(renderJson(changes, { stat: true })) } : r);
    if (!r.committed || !changes) {
      ctx.io.stdout(`nothing to commit, ${r.database} matches ${r.commit?.slice(0, 7) ?? 'HEAD'} (${r.documents} documents)\n`);
      if (!args.quiet && r.detection) ctx.io.stdout(c.dim(` ${describeDetection(r.detection)}\n`));
      return;
    }
    ctx.io.stdout(`[${c.yellow(r.commit!.slice(0, 7))}] ${r.message.split('\n')[0]}\n`);
    const delta = new Map(changes.collections.map((d) => [d.name, d]));
    for (const col of r.collections) {
      const d = delta.get(col.name);
      const status = d?.status ?? 'unchanged';
      const mark = status === 'added' ? c.green('A') : status === 'changed' ? c.yellow('M') : ' ';
      const how = col.source === 'read' ? '' : c.dim(` (${col.source === 'kept' ? 'kept from HEAD' : col.source === 'change-stream' ? 'no writes per change stream' : 'unchanged per server hash'})`);
      const what = d && status !== 'unchanged' ? `, ${changedDocuments(d)}` : '';
      ctx.io.stdout(` ${mark} ${col.name}: ${col.documents} documents in ${col.parts} part${col.parts === 1 ? '' : 's'}${col.type === 'collection' ? '' : ` [${col.type}]`}${what}${how}\n`);
    }
    for (const d of changes.collections) {
      if (d.status === 'removed') ctx.io.stdout(` ${c.red('D')} ${d.name}: dropped, ${d.counts.removed} documents removed\n`);
    }
    ctx.io.stdout(
      c.dim(` ${r.pointInTime ? 'read at one cluster time' : 'standalone server: read was not point-in-time'}; ${r.durationMs} ms\n`),
    );
    if (!args.quiet && r.detection) ctx.io.stdout(c.dim(` ${describeDetection(r.detection)}\n`));
  },
});
