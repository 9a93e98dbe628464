import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { commands } from '../../src/cli/commands/index.js';
import { cli } from './support.js';

const names = commands.map((f) => {
  const c = f({} as never).command;
  return (Array.isArray(c) ? c[0]! : c).split(' ')[0]!;
});

describe('help and docs', () => {
  it('lists every command with a one-line description', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const name of names) expect(r.stdout).toMatch(new RegExp(`dbsnap ${name}\\b.*\\S`));
    expect(r.stdout).toContain('Exit codes');
  });

  it.each(names)('dbsnap %s --help works and the README documents it', async (name) => {
    const r = await cli([name, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`dbsnap ${name}`);
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toMatch(new RegExp(`\`dbsnap ${name}\\b`));
  });
});
