/** `dbsnap verify`: argv -> core verify() -> one line per collection and relation, the problems; exit 1 on any. */
import type { CommandFactory } from '../context.js';
import { defineCommand, printJson } from '../context.js';
import { paint } from '../io.js';
import { withProgress } from '../progress.js';
import { keyMaterial } from '../key-material.js';

export const verifyCommand: CommandFactory = (ctx) => defineCommand({
  command: 'verify [ref]',
  describe: 'Check that a snapshot is intact; with --uri or --db, also that a database matches it',
  builder: (y) =>
    y
      .usage(
        '$0 verify [ref] [--uri URI] [--db NAME] [--json]\n\n' +
          'Checks the snapshot: git objects re-hashed, every part parsed, _id order, counts and hashes\n' +
          'against collection.json and manifest.json, declared relations (dbsnap.json "relations").\n' +
          'The database is compared only when --uri or --db is given on the command line (--db alone\n' +
          'uses $MONGODB_URI); MONGODB_URI being set is not enough, so verifying an old snapshot\n' +
          'offline never reports the database as different.\n' +
          'Exit 0 when everything holds, 1 when something does not (each problem is listed), 2 on errors.',
      )
      .positional('ref', { type: 'string', default: 'HEAD', describe: 'Commit, tag or branch to verify' })
      // No default here (unlike the global option): only an explicit --uri asks for a comparison.
      .option('uri', { type: 'string', default: undefined, defaultDescription: 'none: snapshot only', describe: 'Also compare this database with the snapshot' })
      .option('key-file', { type: 'string', describe: 'Key for sensitive fields, to compare them with the database (else DBSNAP_KEY)' })
      .option('examples', { type: 'number', default: 5, describe: 'Example _ids shown per dangling relation' })
      .example('$0 verify v1', 'check the snapshot tagged v1')
      .example('$0 verify v1 --uri mongodb://localhost/shop', 'and compare the shop database with it'),
  handler: async (args) => {
    const live = args.uri !== undefined || args.db !== undefined;
    const r = await withProgress(ctx.io, !args.quiet && !args.json, (progress) =>
      ctx.core.verify({
        repo: args.repo,
        ref: args.ref,
        ...(live ? { uri: args.uri ?? ctx.io.env.MONGODB_URI ?? '', db: args.db } : {}),
        key: keyMaterial(args, ctx.io.env),
        examples: args.examples,
        onProgress: progress.onProgress,
        signal: ctx.io.signal,
      }),
    );
    // 1, not 2: something was checked and does not hold (see EXIT in run.ts).
    ctx.exitCode = r.ok ? 0 : 1;
    if (args.json) return printJson(ctx, r);
    const c = paint(ctx.io);
    const out = ctx.io.stdout;
    const mark = (good: boolean | null) => (good === null ? c.dim('skip ') : good ? c.green('ok   ') : c.red('FAIL '));
    if (!args.quiet) {
      out(`verify ${c.yellow(r.commit.slice(0, 7))}${r.ref !== r.commit ? ` (${r.ref})` : ''}${r.database ? ` against database ${r.database}` : ''}\n`);
      for (const col of r.collections) {
        const parts = [];
        if (col.snapshot !== 'absent') parts.push(`${col.documents} documents, ${col.parts} part${col.parts === 1 ? '' : 's'}${col.type === 'collection' ? '' : ` [${col.type}]`}`);
        if (col.snapshot === 'corrupt') parts.push('snapshot damaged');
        if (col.live === 'identical') parts.push('database identical');
        if (col.live === 'differs') {
          const n = col.counts!;
          const extra = [...(col.indexes && col.indexes.added.length + col.indexes.removed.length + col.indexes.changed.length ? ['indexes'] : []), ...(col.options?.length ? ['options'] : [])];
          parts.push(`database differs: ${n.added} added, ${n.removed} removed, ${n.changed} changed${extra.length ? `; ${extra.join(' and ')} differ` : ''}`);
        }
        if (col.live === 'missing') parts.push('not in the database');
        if (col.live === 'extra') parts.push('in the database only');
        const good = col.snapshot !== 'corrupt' && (col.live === undefined || col.live === 'identical');
        out(`${mark(good)}${col.name}: ${parts.join('; ')}\n`);
      }
      for (const rel of r.relations) {
        const name = `${rel.relation.from} -> ${rel.relation.to}`;
        if (rel.status === 'skipped') out(`${mark(null)}${name}: not checked${rel.reason ? ` (${rel.reason})` : ''}\n`);
        else if (rel.status === 'ok') out(`${mark(true)}${name}: ${rel.references} references\n`);
        else out(`${mark(false)}${name}: ${rel.dangling} of ${rel.references} references dangle in ${rel.documents} documents\n`);
      }
      for (const w of r.warnings) ctx.io.stderr(`${c.yellow('warning:')} ${w}\n`);
    }
    if (r.problems.length) {
      out(`\n${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}:\n`);
      for (const p of r.problems) out(`  ${c.red(p.kind)}: ${p.message}\n`);
    }
    const total = `${r.collections.length} collections, ${r.documents} documents`;
    out(r.ok ? `${c.green('verified')}: ${total}, no problems\n` : `${c.red('verify failed')}: ${total}, ${r.problems.length} problem${r.problems.length === 1 ? '' : 's'}\n`);
  },
});
