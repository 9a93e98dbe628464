import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { buildChild, CHILD_BUILD_DIR, runtimeImports } from '../../bench/child-build.js';

const run = promisify(execFile);

describe('bench child without tsx (bench/child-build.ts)', () => {
  it('follows run-time relative imports only', () => {
    const source = [
      "import { a } from './a.js';",
      "import type { T } from './types.js';",
      "export { b } from '../lib/b.js';",
      "export type { U } from './u.js';",
      "import { x,\n  y } from './multi.js';",
      "import fs from 'node:fs';",
      "const m = await import('../dist/index.js' as string);",
    ].join('\n');
    expect(runtimeImports(source)).toEqual(['./a.js', '../lib/b.js', './multi.js']);
  });

  it('transpiles the entry and what it imports into a tree node runs without a TypeScript loader', async () => {
    const root = await mkdtemp(join(os.tmpdir(), 'dbsnap-child-build-'));
    try {
      await mkdir(join(root, 'bench', 'parts'), { recursive: true });
      await mkdir(join(root, 'lib'), { recursive: true });
      await mkdir(join(root, 'dist'), { recursive: true });
      await writeFile(join(root, 'dist', 'built.js'), 'export const built = 40;\n');
      await writeFile(
        join(root, 'bench', 'child.ts'),
        [
          "import { add, type Pair } from './parts/add.js';",
          "import type { Unused } from './parts/unused.js';",
          "const { built } = (await import('../dist/built.js' as string)) as { built: number };",
          'const p: Pair = [built, 2];',
          'const u: Unused | null = null;',
          'console.log(add(p), u);',
        ].join('\n'),
      );
      await writeFile(join(root, 'bench', 'parts', 'add.ts'), "import { one } from '../../lib/one.js';\nexport type Pair = [number, number];\nexport const add = (p: Pair): number => p[0] + p[1] + one - 1;\n");
      await writeFile(join(root, 'bench', 'parts', 'unused.ts'), 'export interface Unused { x: number }\n');
      await writeFile(join(root, 'lib', 'one.ts'), 'export const one: number = 1;\n');

      const script = await buildChild(root);
      expect(script).toBe(join(root, CHILD_BUILD_DIR, 'bench', 'child.js'));
      expect(existsSync(join(root, CHILD_BUILD_DIR, 'lib', 'one.js'))).toBe(true);
      // A type-only import is not followed, and types are gone from what was written.
      expect(existsSync(join(root, CHILD_BUILD_DIR, 'bench', 'parts', 'unused.js'))).toBe(false);
      expect(await readFile(join(root, CHILD_BUILD_DIR, 'bench', 'parts', 'add.js'), 'utf8')).not.toContain('Pair');

      const { stdout } = await run(process.execPath, [script]);
      expect(stdout.trim()).toBe('42 null');

      // Building again starts from an empty directory: a module no longer imported is gone.
      await writeFile(join(root, 'bench', 'child.ts'), "console.log('alone');\n");
      await buildChild(root);
      expect(existsSync(join(root, CHILD_BUILD_DIR, 'lib', 'one.js'))).toBe(false);
      expect((await run(process.execPath, [script])).stdout.trim()).toBe('alone');
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });

  it('names the file it cannot transpile', async () => {
    const root = await mkdtemp(join(os.tmpdir(), 'dbsnap-child-build-'));
    try {
      await mkdir(join(root, 'bench'), { recursive: true });
      await writeFile(join(root, 'bench', 'child.ts'), 'const x = ;\n');
      await expect(buildChild(root)).rejects.toThrow(/bench\/child\.ts: Expression expected/);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
