/** `dbsnap push`: argv -> core push() to a remote -> what moved, or JSON. */
import type { RemotePushResult } from '../../core/push.js';
import type { CommandFactory } from '../context.js';
import { defineCommand, formatBytes, gitToken, printJson } from '../context.js';
import { paint } from '../io.js';
import { withProgress } from '../progress.js';

export const pushCommand: CommandFactory = (ctx) => defineCommand({
  command: 'push [remotes..]',
  describe: 'Push the current branch and tags to one or more remotes',
  builder: (y) =>
    y
      .positional('remotes', { type: 'string', array: true, describe: 'Remotes to push to (default: the only one; --all for every one)' })
      .option('all', { type: 'boolean', default: false, describe: 'Push to every configured remote' })
      .option('tags', { type: 'boolean', default: true, describe: 'Push tags too (--no-tags: only the branch)' })
      .option('safety', { type: 'boolean', default: false, describe: 'Push the safety snapshots restore keeps (refs/dbsnap/safety/...) too' })
      .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'Overwrite remote branches and tags that are not ancestors of the local ones' })
      .example('$0 push', 'push to the only remote')
      .example('$0 push --all', 'push to every remote; each gets a line, exit 2 if any failed')
      .example('DBSNAP_GIT_TOKEN=ghp_... $0 push origin', 'HTTPS with a token (never printed, never stored)')
      .epilogue('Credentials for HTTPS come from DBSNAP_GIT_TOKEN or GIT_TOKEN, else your git credential helper.'),
  handler: async (args) => {
    const r = await withProgress(ctx.io, !args.quiet && !args.json, (progress) =>
      ctx.core.push({
        repo: args.repo,
        remotes: args.remotes ?? [],
        all: args.all,
        tags: args.tags,
        safety: args.safety,
        force: args.force,
        token: gitToken(ctx.io.env),
        onProgress: (p) => progress.onProgress({ ...p, collection: p.remote }),
      }),
    );
    if (!r.ok) ctx.exitCode = 2; // EXIT.error: at least one remote failed
    if (args.json) return printJson(ctx, r);
    const c = paint(ctx.io);
    const width = Math.max(...r.remotes.map((x) => x.remote.length));
    for (const x of r.remotes) {
      const line = `${x.remote.padEnd(width)}  ${x.url}: ${describe(x)}\n`;
      if (x.status === 'failed') ctx.io.stderr(`${c.red('error:')} ${line}`);
      else if (!args.quiet) ctx.io.stdout(line);
    }
  },
});

/** The one-line outcome for a remote: up to date / N objects, size (refs) / the error. */
function describe(x: RemotePushResult): string {
  if (x.status === 'failed') return x.error!.message;
  if (x.status === 'up-to-date') return 'up to date';
  const sent = x.objects === undefined ? 'pushed' : `${x.objects} object${x.objects === 1 ? '' : 's'}, ${formatBytes(x.bytes ?? 0)}`;
  const name = (f: RemotePushResult['refs'][number]) => `${f.ref.replace(/^refs\/(heads|tags)\//, '')}${f.kind === 'forced' ? ' (forced)' : f.kind === 'new' ? ' (new)' : ''}`;
  const tags = x.refs.filter((f) => f.ref.startsWith('refs/tags/'));
  // Many tags (a first push of a long history) are summed up; a few are named.
  const refs = tags.length > 3 ? [...x.refs.filter((f) => !f.ref.startsWith('refs/tags/')).map(name), `${tags.length} tags`] : x.refs.map(name);
  return `${sent} (${refs.join(', ')})`;
}
