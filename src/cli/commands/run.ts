/** `dbsnap run`: argv -> core snapshotAround() (snapshot, run a command, snapshot again) -> steps, summary or JSON. */
import { renderStat } from '../../diff/index.js';
import type { CommandFactory } from '../context.js';
import { defineCommand, detectionArgs, detectionOptions, printJson, requireUri } from '../context.js';
import { paint } from '../io.js';
import { withProgress } from '../progress.js';
import { keyMaterial } from '../key-material.js';

export const runCommand: CommandFactory = (ctx) => defineCommand({
  command: 'run',
  describe: 'Snapshot before and after a command (a migration, a bulk fix); exits with its exit code',
  builder: (y) =>
    detectionOptions(y)
      .usage('$0 run [options] -- <command> [args...]')
      .option('message', { alias: 'm', type: 'string', describe: 'What the command does (used in both commit messages)' })
      .option('tag', { type: 'string', describe: 'Tag the snapshots NAME/before and NAME/after (default run/<UTC time>/...)' })
      .option('restore-on-failure', { type: 'boolean', default: false, describe: 'When the command fails, restore the before-snapshot (a safety snapshot is taken first)' })
      .option('stat', { type: 'boolean', default: true, describe: 'Print what the command changed (--no-stat: only the snapshot lines)' })
      .option('key-file', { type: 'string', describe: 'File holding the key for sensitive fields (else DBSNAP_KEY)' })
      // The wrapped command's arguments are passed on as written (`007` stays `007`).
      .parserConfiguration({ 'parse-positional-numbers': false })
      .example('$0 run -m "migration 042" -- npx migrate-mongo up', 'snapshots around a migration')
      .example('$0 run --restore-on-failure -- node scripts/fix-prices.js', 'undo the fix if it fails'),
  handler: async (args) => {
    const c = paint(ctx.io);
    const say = (s: string) => {
      if (!args.quiet && !args.json) ctx.io.stderr(s);
    };
    const r = await withProgress(ctx.io, !args.quiet && !args.json, (progress) =>
      ctx.core.snapshotAround({
        repo: args.repo,
        uri: requireUri(args),
        db: args.db,
        message: args.message,
        command: (args._ as unknown[]).slice(1).map(String),
        tag: args.tag,
        restoreOnFailure: args.restoreOnFailure,
        key: keyMaterial(args, ctx.io.env),
        ...detectionArgs(args),
        onProgress: progress.onProgress,
        onStep: (s) => {
          progress.stop();
          if (s.step === 'before' || s.step === 'after') {
            const what = s.snapshot.committed ? `committed ${c.yellow(s.snapshot.commit.slice(0, 7))}` : `nothing changed, HEAD ${c.yellow(s.snapshot.commit.slice(0, 7))}`;
            say(`dbsnap: ${s.step}: ${what}, tagged ${s.snapshot.tag} (${s.snapshot.documents} documents)\n`);
          } else if (s.step === 'command') {
            const o = s.outcome;
            if (o.spawnError) {
              const cmd = (args._ as unknown[]).slice(1).map(String)[0] ?? '';
              const why = o.spawnError === 'ENOENT' ? 'not found (ENOENT): check the name and PATH' : o.spawnError === 'EACCES' ? 'not executable (EACCES)' : o.spawnError;
              say(`dbsnap: the command "${cmd}" could not be started: ${why}\n`);
            }
            else if (o.exitCode !== 0) say(`dbsnap: the command failed: ${o.signal ? `killed by ${o.signal}` : `exit ${o.exitCode}`}\n`);
          }
        },
        signal: ctx.io.signal,
      }),
    );
    ctx.exitCode = r.outcome.exitCode;
    if (args.json) return printJson(ctx, r);
    if (args.stat) say(renderStat(r.changes).replace(/^/gm, 'dbsnap:   ').replace(/dbsnap: {3}$/, ''));
    if (r.outcome.exitCode === 0) return;
    if (r.restored) {
      say(`dbsnap: restored ${r.before.tag}: ${r.restored.summary}\n`);
      if (r.dropped?.length) say(`dbsnap: dropped ${r.dropped.join(', ')} (created by the command; kept in ${r.after.tag})\n`);
      if (r.restored.safetySnapshot) say(`dbsnap: the failed state is in ${r.after.tag} and the safety snapshot ${r.restored.safetySnapshot.ref}\n`);
    } else {
      // Printed even with --quiet: it is the one line a person needs after a failed migration.
      ctx.io.stderr(`dbsnap: to put the database back as it was before the command, run:\n  ${r.restoreCommand}\n`);
      if (r.created.length) ctx.io.stderr(`dbsnap: the command also created ${r.created.join(', ')}; restore leaves ${r.created.length === 1 ? 'it' : 'them'} in place (drop by hand, or use --restore-on-failure)\n`);
    }
  },
});
