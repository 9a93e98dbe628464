/**
 * A local, uncommitted record of the server's collection hashes (dbHash) at the last commit, kept
 * inside the repository's git directory. It only lets a commit skip reading a collection whose
 * hash is unchanged; deleting it costs one full read, never correctness.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export type ServerHashCache = Record<string, { serverHash: string; config: string; parts: string }>;

const FILE = join('dbsnap', 'server-hashes.json');

export async function readServerHashCache(repoDir: string): Promise<ServerHashCache> {
  try {
    return JSON.parse(await readFile(join(repoDir, FILE), 'utf8')) as ServerHashCache;
  } catch {
    return {};
  }
}

export async function writeServerHashCache(repoDir: string, cache: ServerHashCache): Promise<void> {
  const path = join(repoDir, FILE);
  await mkdir(join(repoDir, 'dbsnap'), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify(cache), { mode: 0o600 });
  await rename(tmp, path);
}
