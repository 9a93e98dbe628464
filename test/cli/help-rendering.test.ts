import { describe, expect, it, vi } from 'vitest';
import * as realCore from '../../src/core/index.js';
import type { Core } from '../../src/cli/context.js';
import { cli } from './support.js';

/**
 * Every yargs parser runCli builds, with a counter on its usage instance's help(): the one
 * function that renders a help text (showHelp, getHelp and yargs' own cacheHelpMessage all go
 * through it). yargs used to call it as every command's handler started, ~50 ms of text wrapping
 * per run for a text nobody printed; run.ts's helpOnlyWhenShown keeps it for help actually shown.
 */
const rendered = vi.hoisted(() => ({ count: 0 }));
vi.mock('yargs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('yargs')>();
  type Usage = { help: (...args: unknown[]) => string };
  const counting = (...args: Parameters<typeof actual.default>) => {
    const parser = actual.default(...args);
    const usage = (parser as unknown as { getInternalMethods(): { getUsageInstance(): Usage } }).getInternalMethods().getUsageInstance();
    const help = usage.help;
    usage.help = function (this: Usage, ...a: unknown[]) {
      rendered.count++;
      return help.apply(this, a);
    };
    return parser;
  };
  return { ...actual, default: counting };
});

/** A core whose commands answer at once: the run is argv parsing, one call and the rendering. */
const core = {
  ...realCore,
  log: async () => [],
  commit: async () => ({ committed: false, commit: 'abc1234', database: 'shop', documents: 0, collections: [], skipped: [], warnings: [] }),
  listTags: async () => [],
} as unknown as Core;

const URI = 'mongodb://localhost:27017/shop';

/** How many help texts one dbsnap run rendered, and what it printed. */
async function renders(argv: string[]): Promise<{ count: number; code: number; stdout: string }> {
  rendered.count = 0;
  const r = await cli(argv, { core });
  return { count: rendered.count, code: r.code, stdout: r.stdout };
}

describe('help text rendering', () => {
  it.each([[['log', '--json']], [['log']], [['commit', '--uri', URI]], [['tag', '--list']]])('dbsnap %j renders no help text', async (argv) => {
    const r = await renders(argv);
    expect(r.code).toBe(0);
    expect(r.count).toBe(0);
  });

  it.each([[['--help']], [['log', '--help']], [['commit', '-h']]])('dbsnap %j renders it once, and prints it', async (argv) => {
    const r = await renders(argv);
    expect(r.code).toBe(0);
    expect(r.count).toBe(1);
    expect(r.stdout).toMatch(/^dbsnap .*\n[\s\S]*Options:/);
  });
});
