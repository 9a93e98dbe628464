/** `dbsnap pull`: argv -> core pull() (fetch, then fast-forward) -> what moved, or JSON. */
import type { CommandFactory } from '../context.js';
import { defineCommand, gitToken, printJson } from '../context.js';
import { withProgress } from '../progress.js';
import { fetchText } from './fetch.js';

export const pullCommand: CommandFactory = (ctx) => defineCommand({
  command: 'pull [remote]',
  describe: 'Fetch, then fast-forward the current branch to the remote one (never merges)',
  builder: (y) =>
    y
      .positional('remote', { type: 'string', describe: 'Remote to pull from (default: the only one, else origin)' })
      .example('$0 pull', 'bring this repository up to date with the only remote')
      .epilogue('Exit 2 if the branches have diverged: pull changes nothing then.'),
  handler: async (args) => {
    const r = await withProgress(ctx.io, !args.quiet && !args.json, (progress) =>
      ctx.core.pull({ repo: args.repo, remote: args.remote, token: gitToken(ctx.io.env), onProgress: (p) => progress.onProgress({ ...p, collection: p.remote }) }),
    );
    if (args.json) return printJson(ctx, r);
    if (args.quiet) return;
    if (r.fetch.refs.length > 0) ctx.io.stdout(fetchText(r.fetch));
    const branch = r.branch.replace(/^refs\/heads\//, '');
    if (r.status === 'fast-forward') ctx.io.stdout(`${branch}: fast-forward ${r.old ? r.old.slice(0, 7) : '(none)'}..${r.new!.slice(0, 7)}\n`);
    else if (r.status === 'ahead') ctx.io.stdout(`${branch}: ahead of ${r.fetch.remote}/${branch} (push to send the new snapshots)\n`);
    else ctx.io.stdout(`${branch}: up to date with ${r.fetch.remote}/${branch}\n`);
  },
});
