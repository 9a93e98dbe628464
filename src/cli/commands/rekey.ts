/** `dbsnap rekey`: key files or environment -> core rekey() (sensitive fields under a new key) -> the new commit. */
import { InvalidArgumentError } from '../../errors/index.js';
import type { CommandFactory } from '../context.js';
import { defineCommand, printJson } from '../context.js';
import { keyMaterial } from '../key-material.js';

export const rekeyCommand: CommandFactory = (ctx) => defineCommand({
  command: 'rekey',
  describe: 'Re-encrypt the sensitive fields at HEAD under a new key (a new commit; the same key changes nothing)',
  builder: (y) =>
    y
      .option('old-key-file', { type: 'string', describe: 'File with the current key (else DBSNAP_OLD_KEY)' })
      .option('new-key-file', { type: 'string', describe: 'File with the new key (else DBSNAP_KEY)' })
      .example('DBSNAP_OLD_KEY=$(cat old.key) DBSNAP_KEY=$(cat new.key) $0 rekey', 'rotate the key'),
  handler: async (args) => {
    const oldKey = keyMaterial({ keyFile: args.oldKeyFile }, ctx.io.env, 'DBSNAP_OLD_KEY');
    const newKey = keyMaterial({ keyFile: args.newKeyFile }, ctx.io.env);
    if (!newKey) throw new InvalidArgumentError('no new key: pass --new-key-file or set DBSNAP_KEY.');
    const r = await ctx.core.rekey({ repo: args.repo, oldKey, newKey });
    if (args.json) return printJson(ctx, r);
    if (r.unchanged) {
      if (!args.quiet) ctx.io.stdout(`already encrypted with that key (${r.keyId}); nothing changed, HEAD is still ${r.commit.slice(0, 7)}\n`);
      return;
    }
    if (!args.quiet) {
      ctx.io.stdout(
        `[${r.commit.slice(0, 7)}] sensitive fields of ${r.collections.join(', ') || 'no collection'} now under key ${r.keyId}` +
          `${r.previousKeyId ? ` (was ${r.previousKeyId})` : ''}\n`,
      );
    }
  },
});
