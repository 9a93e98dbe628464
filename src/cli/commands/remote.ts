/** `dbsnap remote`: argv -> core add/remove/list remotes -> a list or JSON. */
import { InvalidArgumentError } from '../../errors/index.js';
import type { CommandFactory } from '../context.js';
import { defineCommand, printJson } from '../context.js';

export const remoteCommand: CommandFactory = (ctx) => defineCommand({
  command: 'remote [action] [name] [url]',
  describe: 'List, add or remove remotes (other places the snapshots are pushed to)',
  builder: (y) =>
    y
      .positional('action', { choices: ['add', 'remove', 'list'] as const, describe: 'add NAME URL, remove NAME, or list (the default)' })
      .positional('name', { type: 'string', describe: 'Remote name (e.g. origin, nas)' })
      .positional('url', { type: 'string', describe: 'https://host/org/data.git, user@host:org/data.git, ssh://..., file:///path or a local path' })
      .example('$0 remote add origin https://github.com/acme/shop-data.git', 'a git host over HTTPS (token in DBSNAP_GIT_TOKEN)')
      .example('$0 remote add nas /mnt/nas/shop-data.git', 'a bare repository on another disk, created on the first push')
      .example('$0 remote add backup git@gitlab.com:acme/shop-data.git', 'SSH (needs the git binary)')
      .example('$0 remote', 'list remotes')
      .example('$0 remote remove nas', 'forget a remote (the remote itself is left alone)'),
  handler: async (args) => {
    const action = args.action ?? 'list';
    if (action === 'list') {
      if (args.name) throw new InvalidArgumentError('dbsnap remote lists remotes; to add one: dbsnap remote add NAME URL.');
      const remotes = await ctx.core.listRemotes({ repo: args.repo });
      if (args.json) return printJson(ctx, remotes);
      for (const r of remotes) ctx.io.stdout(`${r.name}\t${r.url}\n`);
      return;
    }
    if (args.name === undefined) throw new InvalidArgumentError(`dbsnap remote ${action} needs a remote name.`);
    if (action === 'add') {
      if (!args.url) throw new InvalidArgumentError('dbsnap remote add needs a name and a URL: dbsnap remote add NAME URL.');
      const r = await ctx.core.addRemote({ repo: args.repo, name: args.name, url: args.url });
      if (args.json) return printJson(ctx, r);
      if (!args.quiet) ctx.io.stdout(`Added remote ${r.name} (${r.url})\n`);
      return;
    }
    if (args.url) throw new InvalidArgumentError('dbsnap remote remove takes only the remote name.');
    const r = await ctx.core.removeRemote({ repo: args.repo, name: args.name });
    if (args.json) return printJson(ctx, r);
    if (!args.quiet) ctx.io.stdout(`Removed remote ${r.name} (${r.url}); the remote itself was not touched\n`);
  },
});
