/**
 * The contenders' child process as plain JavaScript, so a measured child loads what a user's
 * process loads and nothing else. Under `node --import tsx` every child also carried tsx's module
 * hooks and the worker thread they run on: 32 MB of peak RSS that belonged to no contender
 * (docs/BENCHMARKS.md, "The bench child without tsx").
 *
 * bench/child.ts and every TypeScript module it imports (followed through relative `import ...
 * from` / `export ... from` specifiers, type-only ones left out) are transpiled one by one with
 * TypeScript's `transpileModule` into `<root>/.bench-child/`, at the same relative paths, so
 * `../dist/...` and `node_modules` resolve through two symbolic links beside them.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

/** Where the transpiled child lives, relative to the project root (ignored by git). */
export const CHILD_BUILD_DIR = '.bench-child';

/**
 * Relative module specifiers a module imports at run time: `import ... from` and `export ...
 * from`, without `import type` / `export type` (erased by the transpiler) or dynamic `import()`.
 */
export function runtimeImports(source: string): string[] {
  const out: string[] = [];
  const re = /^\s*(import|export)\s+(?!type\s)[^;]*?\bfrom\s+'(\.{1,2}\/[^']+)'/gm;
  for (let m = re.exec(source); m; m = re.exec(source)) out.push(m[2]!);
  return out;
}

/** Transpiles `entry` (a .ts path under `root`) and its TypeScript imports; returns the .js path to run. */
export async function buildChild(root: string, entry = 'bench/child.ts'): Promise<string> {
  const outDir = join(root, CHILD_BUILD_DIR);
  await rm(outDir, { recursive: true, force: true });
  await mkdir(outDir, { recursive: true });
  await symlink(join(root, 'dist'), join(outDir, 'dist'), 'dir');
  await symlink(join(root, 'node_modules'), join(outDir, 'node_modules'), 'dir');
  const pending = [resolve(root, entry)];
  const done = new Set<string>();
  for (let file = pending.pop(); file; file = pending.pop()) {
    if (done.has(file)) continue;
    done.add(file);
    const source = await readFile(file, 'utf8');
    for (const spec of runtimeImports(source)) {
      const imported = resolve(dirname(file), spec.replace(/\.js$/, '.ts'));
      if (existsSync(imported) && !relative(root, imported).startsWith('dist')) pending.push(imported);
    }
    const { outputText, diagnostics } = ts.transpileModule(source, {
      fileName: file,
      reportDiagnostics: true,
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext, sourceMap: false },
    });
    if (diagnostics?.length) throw new Error(`${relative(root, file)}: ${ts.flattenDiagnosticMessageText(diagnostics[0]!.messageText, '\n')}`);
    const target = join(outDir, relative(root, file)).replace(/\.ts$/, '.js');
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, outputText);
  }
  await writeFile(join(outDir, 'package.json'), '{ "type": "module" }\n');
  return join(outDir, entry.replace(/\.ts$/, '.js'));
}
