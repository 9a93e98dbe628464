/**
 * Compile-time proof, checked by `npm run typecheck` (part of `npm test`): a command handler sees
 * exactly the argv its builder declares. Each @ts-expect-error must stay an error; were handlers
 * typed `any` again, these lines would compile and typecheck would fail on the unused directives.
 * (An undeclared name reads as `unknown` through yargs' index signature, so passing it to a core
 * option fails to compile.)
 */
import { defineCommand } from '../../src/cli/context.js';

export const renamedOption = defineCommand({
  command: 'example',
  describe: 'an option renamed from --key-path to --key-file in the builder only',
  builder: (y) => y.option('key-file', { type: 'string' }).option('format', { choices: ['a', 'b'] as const, default: 'a' as const }),
  handler: async (args) => {
    const keyFile: string | undefined = args.keyFile;
    const format: 'a' | 'b' = args.format;
    const repo: string = args.repo; // the global options come along
    // @ts-expect-error the handler still reads the old name: yargs types it `unknown`, not a string
    const old: string | undefined = args.keyPath;
    // @ts-expect-error a value outside the declared choices
    const wrong: 'a' = args.format;
    void [keyFile, format, repo, old, wrong];
  },
});
