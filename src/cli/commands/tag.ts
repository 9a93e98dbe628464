/** `dbsnap tag`: argv -> core tag(), listTags() or deleteTag() -> one line per tag, or JSON. */
import { InvalidArgumentError } from '../../errors/index.js';
import type { CommandFactory } from '../context.js';
import { defineCommand, printJson } from '../context.js';
import { paint } from '../io.js';

export const tagCommand: CommandFactory = (ctx) => defineCommand({
  command: 'tag [name] [ref]',
  describe: 'Create, list or delete tags on snapshots',
  builder: (y) =>
    y
      .positional('name', { type: 'string', describe: 'Tag name' })
      .positional('ref', { type: 'string', describe: 'Snapshot to tag (default HEAD)' })
      .option('message', { alias: 'm', type: 'string', describe: 'Annotated tag with this message' })
      .option('list', { alias: 'l', type: 'boolean', default: false, describe: 'List tags' })
      .option('delete', { alias: 'd', type: 'boolean', default: false, describe: 'Delete the tag' })
      .option('force', { alias: 'f', type: 'boolean', default: false, describe: 'Move an existing tag' })
      .example('$0 tag v1 -m "before migration"', 'tag HEAD')
      .example('$0 tag --list', 'list tags')
      .example('$0 tag -d v1', 'delete a tag'),
  handler: async (args) => {
    const c = paint(ctx.io);
    if (args.list || (args.name === undefined && !args.delete)) {
      const tags = await ctx.core.listTags({ repo: args.repo });
      if (args.json) return printJson(ctx, tags);
      for (const t of tags) {
        ctx.io.stdout(`${t.name}\t${c.yellow(t.commit.slice(0, 7))}${t.message ? `\t${t.message.split('\n')[0]}` : ''}\n`);
      }
      return;
    }
    if (args.name === undefined) throw new InvalidArgumentError('dbsnap tag -d needs the name of the tag to delete.');
    if (args.delete) {
      const r = await ctx.core.deleteTag({ repo: args.repo, name: args.name });
      if (args.json) return printJson(ctx, r);
      if (!args.quiet) ctx.io.stdout(`Deleted tag '${r.name}' (was ${r.commit.slice(0, 7)})\n`);
      return;
    }
    const r = await ctx.core.tag({ repo: args.repo, name: args.name, ref: args.ref, message: args.message, force: args.force });
    if (args.json) return printJson(ctx, r);
    if (!args.quiet) ctx.io.stdout(`Tagged ${c.yellow(r.commit.slice(0, 7))} as ${r.name}${r.annotated ? ' (annotated)' : ''}\n`);
  },
});
