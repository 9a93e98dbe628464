/** docs/api/ is the TypeDoc reference of the public API; it must match the code (npm run docs). */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const ROOT = new URL('../..', import.meta.url).pathname;

async function files(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.set(relative(dir, p), await readFile(p, 'utf8'));
    }
  };
  await walk(dir);
  return out;
}

describe('docs/api', () => {
  it('is what TypeDoc generates from the TSDoc now (run npm run docs after changing the API)', async () => {
    const out = await mkdtemp(join(tmpdir(), 'dbsnap-api-'));
    try {
      await promisify(execFile)(process.execPath, [join(ROOT, 'node_modules/typedoc/bin/typedoc'), '--options', join(ROOT, 'typedoc.json'), '--out', out], { cwd: ROOT });
      const [fresh, committed] = await Promise.all([files(out), files(join(ROOT, 'docs/api'))]);
      expect([...committed.keys()].sort(), 'files in docs/api: run npm run docs').toEqual([...fresh.keys()].sort());
      for (const [name, text] of fresh) expect(committed.get(name), `docs/api/${name} is stale: run npm run docs`).toBe(text);
      // The reference covers the core operations and the error codes.
      const all = [...fresh.values()].join('\n');
      for (const name of ['commit', 'restore', 'verify', 'ERROR_CODES', 'ErrorCode', 'DbsnapError']) expect(all).toContain(name);
    } finally {
      await rm(out, { recursive: true, force: true });
    }
  }, 180_000);
});
