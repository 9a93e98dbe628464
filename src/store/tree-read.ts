/**
 * Reading a commit's tree: one directory's tree id, every file under a prefix, one file's bytes.
 * Only the subtrees that can hold what is asked for are read.
 */
import { parseTree, type TreeEntry } from './objects.js';
import type { SnapshotRepository } from './repository.js';

export async function readTreeEntries(repo: SnapshotRepository, treeOid: string): Promise<TreeEntry[]> {
  return parseTree((await repo.readObject(treeOid, 'tree')).content, treeOid);
}

/** The tree id of the directory `dirPath` ('' = root) in a commit, or null if absent. */
export async function subtree(repo: SnapshotRepository, commitOid: string, dirPath: string): Promise<string | null> {
  let tree = (await repo.readCommit(commitOid)).tree;
  for (const part of dirPath.split('/').filter((p) => p !== '')) {
    const entry = (await readTreeEntries(repo, tree)).find((e) => e.name === part);
    if (!entry || entry.type !== 'tree') return null;
    tree = entry.oid;
  }
  return tree;
}

/**
 * Every file in a commit as path -> blob id (recursing into subtrees). With `prefix`, only
 * paths starting with it (a string prefix: `data/users/` or `data/users/p-`); only the
 * subtree that can contain them is read. Directories `skipDir` accepts are not entered.
 */
export async function listFiles(
  repo: SnapshotRepository,
  commitOid: string,
  prefix = '',
  skipDir?: (path: string) => boolean,
): Promise<Map<string, string>> {
  const result = new Map<string, string>();
  const dir = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
  const start = await subtree(repo, commitOid, dir);
  if (start === null) return result;
  const walk = async (treeOid: string, base: string): Promise<void> => {
    for (const e of await readTreeEntries(repo, treeOid)) {
      const p = base === '' ? e.name : `${base}/${e.name}`;
      if (e.type === 'tree') {
        // Descend only where the prefix can still match.
        if ((`${p}/`.startsWith(prefix) || prefix.startsWith(`${p}/`)) && !skipDir?.(p)) await walk(e.oid, p);
      } else if (e.type === 'blob' && p.startsWith(prefix)) {
        result.set(p, e.oid);
      }
    }
  };
  await walk(start, dir);
  return result;
}

/** The file at `filePath` in a commit, or null if there is none. */
export async function readFile(repo: SnapshotRepository, commitOid: string, filePath: string): Promise<Buffer | null> {
  const slash = filePath.lastIndexOf('/');
  const tree = await subtree(repo, commitOid, slash < 0 ? '' : filePath.slice(0, slash));
  if (tree === null) return null;
  const name = filePath.slice(slash + 1);
  const entry = (await readTreeEntries(repo, tree)).find((e) => e.name === name);
  return entry && entry.type === 'blob' ? repo.readBlob(entry.oid) : null;
}
