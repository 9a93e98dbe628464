// The MongoDB driver is loaded on the first connection only: commands that never connect (and a
// program that imports the library) do not pay its start-up cost.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../../', import.meta.url).pathname;

/** Runs `script` (an ES module) in a fresh node and says whether a package's files (the driver's by default) were loaded. */
function packageLoadedAfter(script: string, pkg = 'mongodb'): boolean {
  const probe = `
    import { createRequire } from 'node:module';
    ${script}
    const require = createRequire(import.meta.url);
    const loaded = Object.keys(require.cache).some((f) => f.includes('/node_modules/${pkg}/'));
    process.stdout.write(loaded ? 'loaded' : 'not loaded');
  `;
  return execFileSync(process.execPath, ['--input-type=module', '-e', probe], { cwd: ROOT, encoding: 'utf8' }) === 'loaded';
}

/**
 * Whether `pkg` was loaded after importing the library and running `commands` through runCli on a
 * fresh repository (each `[argv, exit code]`; `--repo` is added), each exiting as expected.
 */
function loadedAfterCommands(pkg: string, commands: [string[], number][]): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'dbsnap-lazy-'));
  try {
    const script = `
      import { runCli } from '${ROOT}dist/cli/run.js';
      await import('${ROOT}dist/index.js');
      const io = { stdout: () => {}, stderr: () => {}, env: {}, isTTY: false };
      const repo = ${JSON.stringify(join(dir, 'r'))};
      for (const [argv, want] of ${JSON.stringify(commands)}) {
        const code = await runCli([...argv, '--repo', repo], io);
        if (code !== want) throw new Error(argv[0] + ' exited ' + code);
      }
    `;
    return packageLoadedAfter(script, pkg);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('the driver is loaded lazily', () => {
  it('importing the library and running a command that does not connect loads no driver code', () => {
    expect(
      loadedAfterCommands('mongodb', [
        [['init'], 0],
        [['log'], 0],
      ]),
    ).toBe(false);
  });

  it('the probe does see the driver once something imports it', () => {
    expect(packageLoadedAfter(`await import('mongodb');`)).toBe(true);
  });
});

describe('isomorphic-git is loaded lazily', () => {
  it('commands that read and write the repository load none of it (dbsnap reads objects and packs itself)', () => {
    // verify of a repository without a snapshot exits 2; it still opened and read the repository.
    expect(
      loadedAfterCommands('isomorphic-git', [
        [['init'], 0],
        [['log'], 0],
        [['verify'], 2],
        [['gc'], 0],
      ]),
    ).toBe(false);
  });

  it('the probe does see isomorphic-git once something imports it', () => {
    expect(packageLoadedAfter(`await import('isomorphic-git');`, 'isomorphic-git')).toBe(true);
  });
});
