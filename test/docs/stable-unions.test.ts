/**
 * `npm run docs` is reproducible: a union the compiler built is written in one order whatever
 * other files mention its members first (TypeScript orders union members by internal type
 * creation, so an unrelated change used to reorder docs/api). Two tiny projects that differ only in
 * such a mention are documented with typedoc.json's plugins; their pages must be identical.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;

async function documented(dir: string, files: Record<string, string>): Promise<string> {
  await mkdir(join(dir, 'src'), { recursive: true });
  await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true }, include: ['src'] }));
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, 'src', name), text);
  const options = JSON.parse(await readFile(join(ROOT, 'typedoc.json'), 'utf8')) as { plugin: string[] };
  const plugins = options.plugin.flatMap((p) => ['--plugin', p.startsWith('.') ? resolve(ROOT, p) : p]);
  await promisify(execFile)(
    process.execPath,
    [join(ROOT, 'node_modules/typedoc/bin/typedoc'), '--entryPoints', 'src/index.ts', '--tsconfig', 'tsconfig.json', ...plugins, '--out', 'out', '--readme', 'none', '--disableSources', '--hideGenerator', '--name', 'fixture', '--logLevel', 'Error'],
    { cwd: dir },
  );
  return readFile(join(dir, 'out', 'interfaces', 'Progress.md'), 'utf8');
}

describe('docs/api union order', () => {
  it('does not depend on which file first mentions a member', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dbsnap-unions-'));
    try {
      const index = "/** Progress. */\nexport interface Progress { phase: 'zq-zeta' | 'zq-alpha' | 'zq-mid'; size?: number | string | null }\n";
      const [plain, mentioned] = await Promise.all([
        documented(join(dir, 'plain'), { 'index.ts': index }),
        // Checked first (alphabetical root order), this file creates 'zq-mid' and 'zq-alpha' before index.ts does.
        documented(join(dir, 'mentioned'), { 'index.ts': index, 'aaa.ts': "export const z: 'zq-mid' | 'zq-alpha' = 'zq-mid';\n" }),
      ]);
      expect(mentioned).toBe(plain);
      expect(plain).toContain('> **phase**: `"zq-alpha"` \\| `"zq-mid"` \\| `"zq-zeta"`');
      expect(plain).toContain('`number` \\| `string` \\| `null`');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
