/** `dbsnap fetch`: argv -> core fetchRemote() -> the remote refs that moved, or JSON. */
import type { FetchResult } from '../../core/fetch.js';
import type { CommandFactory } from '../context.js';
import { defineCommand, formatBytes, gitToken, printJson } from '../context.js';
import { withProgress } from '../progress.js';

export const fetchCommand: CommandFactory = (ctx) => defineCommand({
  command: 'fetch [remote]',
  describe: "Bring a remote's snapshots into refs/remotes/NAME/ (local branches untouched)",
  builder: (y) =>
    y
      .positional('remote', { type: 'string', describe: 'Remote to fetch from (default: the only one, else origin)' })
      .example('$0 fetch', 'fetch from the only remote')
      .example('$0 fetch nas && $0 log nas/main', 'see what the NAS holds')
      .epilogue('Credentials for HTTPS come from DBSNAP_GIT_TOKEN or GIT_TOKEN, else your git credential helper.'),
  handler: async (args) => {
    const r = await withProgress(ctx.io, !args.quiet && !args.json, (progress) =>
      ctx.core.fetchRemote({ repo: args.repo, remote: args.remote, token: gitToken(ctx.io.env), onProgress: (p) => progress.onProgress({ ...p, collection: p.remote }) }),
    );
    if (args.json) return printJson(ctx, r);
    if (!args.quiet) ctx.io.stdout(fetchText(r));
  },
});

export function fetchText(r: FetchResult): string {
  const size = r.objects === undefined ? '' : `, ${r.objects} object${r.objects === 1 ? '' : 's'}${r.bytes ? `, ${formatBytes(r.bytes)}` : ''}`;
  if (r.refs.length === 0) return `${r.remote} (${r.url}): up to date\n`;
  const lines = [`${r.remote} (${r.url}): ${r.refs.length} ref${r.refs.length === 1 ? '' : 's'} updated${size}`];
  for (const f of r.refs) lines.push(`  ${f.old === null ? '[new]    ' : `${f.old.slice(0, 7)}..`}${f.new.slice(0, 7)}  ${f.ref.replace(/^refs\/(remotes|tags)\//, '')}`);
  return lines.join('\n') + '\n';
}
