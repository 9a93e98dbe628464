/** `dbsnap gc`: argv -> core gc() (pack the repository's objects) -> a summary or JSON. */
import type { CommandFactory } from '../context.js';
import { defineCommand, printJson } from '../context.js';
import { withProgress } from '../progress.js';

function mb(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${(bytes / 1024).toFixed(1)} KB`;
}

export const gcCommand: CommandFactory = (ctx) => defineCommand({
  command: 'gc',
  describe: 'Pack the repository into one git packfile with deltas (smaller, still read by native git)',
  builder: (y) =>
    y
      .usage(
        '$0 gc [--repo DIR] [--json]\n\n' +
          'Packs every loose object and earlier pack into one packfile; each changed part and tree is\n' +
          'stored as a delta against the same path in the previous snapshot. The pack is read back and\n' +
          'every object re-hashed before the loose objects and old packs are deleted. Needs no git\n' +
          'binary; native git reads the result. Takes the repository lock; readers may run meanwhile.\n' +
          'With nothing to pack, the one pack is still checked (each entry against its index CRC; this\n' +
          'is not a full verify: run dbsnap verify for that). Exit 0 when packed (or nothing to do),\n' +
          '2 on errors (a damaged pack is named).',
      )
      .example('$0 gc', 'pack backup-repo/')
      .example('$0 gc --json', 'the counts and sizes as JSON'),
  handler: async (args) => {
    const r = await withProgress(ctx.io, !args.quiet && !args.json, (progress) =>
      ctx.core.gc({ repo: args.repo, onProgress: progress.onProgress }),
    );
    if (args.json) return printJson(ctx, r);
    if (args.quiet) return;
    if (!r.packed) {
      ctx.io.stdout(
        r.pack
          ? `Nothing to pack: ${r.objects} objects already in ${r.pack}; its entries match their index CRCs (objects/ ${mb(r.bytesAfter)})\n`
          : `Nothing to pack: no objects (objects/ ${mb(r.bytesAfter)})\n`,
      );
      return;
    }
    const merged = r.packsRemoved > 0 ? `, ${r.packsRemoved} earlier pack${r.packsRemoved === 1 ? '' : 's'} merged` : '';
    ctx.io.stdout(
      `Packed ${r.looseObjects} loose object${r.looseObjects === 1 ? '' : 's'} (${r.deltas} as deltas)${merged} into ${r.pack}: ${r.objects} objects, verified\n` +
        `objects/ ${mb(r.bytesBefore)} -> ${mb(r.bytesAfter)}\n`,
    );
  },
});
