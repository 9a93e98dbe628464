/** `dbsnap clone`: argv -> core clone() of a snapshot repository -> a summary or JSON. */
import type { CommandFactory } from '../context.js';
import { defineCommand, gitToken, printJson } from '../context.js';
import { withProgress } from '../progress.js';

export const cloneCommand: CommandFactory = (ctx) => defineCommand({
  command: 'clone <url> [dir]',
  describe: 'Copy a snapshot repository from a remote, ready for restore and verify',
  builder: (y) =>
    y
      .positional('url', { type: 'string', describe: 'https://..., user@host:path, ssh://..., file:///path or a local path' })
      .positional('dir', { type: 'string', describe: 'Where to put it (default: --repo, i.e. ./backup-repo or $DBSNAP_REPO)' })
      .example('$0 clone https://github.com/acme/shop-data.git', 'into ./backup-repo, so restore needs no --repo')
      .example('$0 clone /mnt/nas/shop-data.git /tmp/shop-backup', 'from a disk, into a directory of your choice')
      .epilogue('Credentials for HTTPS come from DBSNAP_GIT_TOKEN or GIT_TOKEN, else your git credential helper.'),
  handler: async (args) => {
    const r = await withProgress(ctx.io, !args.quiet && !args.json, (progress) =>
      ctx.core.clone({ url: args.url!, dir: args.dir ?? args.repo, token: gitToken(ctx.io.env), onProgress: (p) => progress.onProgress({ ...p, collection: p.remote }) }),
    );
    if (args.json) return printJson(ctx, r);
    if (!r.dbsnap && r.commit) ctx.io.stderr(`warning: ${r.url} has no dbsnap.json at ${r.branch}; it may not be a dbsnap repository.\n`);
    if (args.quiet) return;
    if (r.commit === null) ctx.io.stdout(`Cloned ${r.url} into ${r.dir}: the remote is empty\n`);
    else {
      ctx.io.stdout(`Cloned ${r.url} into ${r.dir}: ${r.branch!.replace(/^refs\/heads\//, '')} at ${r.commit.slice(0, 7)}, ${r.tags} tag${r.tags === 1 ? '' : 's'}${r.objects === undefined ? '' : `, ${r.objects} objects`}\n`);
    }
  },
});
