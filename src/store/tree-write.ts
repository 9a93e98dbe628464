/**
 * Writing a snapshot's tree: a flat list of file paths and blob ids (or ids of trees already
 * written, such as a collection's directory) becomes git's nested tree objects, checked the way
 * git would check them, and the root tree's id.
 */
import { InvalidArgumentError } from '../errors/index.js';
import type { ObjectDatabase } from './object-database.js';
import { formatTree, isOid } from './objects.js';

export interface TreeEntryInput {
  /** Slash-separated path inside the snapshot, e.g. `data/users/p-1a2b.json`. */
  path: string;
  oid: string;
  /** `40000`: `oid` is a tree already stored, placed at `path` as a directory. Default: a file. */
  mode?: '100644' | '40000';
}

interface TreeNode {
  /** name -> [mode, oid] of files and of subtrees already stored. */
  files: Map<string, [string, string]>;
  dirs: Map<string, TreeNode>;
}

/** A path component git refuses in a tree: empty, `.`, `..`, `.git` (any case), or holding NUL. */
function isForbiddenName(name: string): boolean {
  return name === '' || name === '.' || name === '..' || name.toLowerCase() === '.git' || name.includes('\0');
}

/**
 * Builds the nested trees for a flat list of files, stores them and returns the root tree id.
 * @throws InvalidArgumentError for empty, absolute, `.`/`..`/`.git` or duplicate paths, or a
 *   path that is both a file and a directory.
 */
export async function writeTree(objects: ObjectDatabase, entries: TreeEntryInput[]): Promise<string> {
  const root: TreeNode = { files: new Map(), dirs: new Map() };
  for (const entry of entries) {
    if (!isOid(entry.oid)) throw new InvalidArgumentError(`tree entry ${entry.path}: "${entry.oid}" is not a full object id.`, { path: entry.path });
    const parts = entry.path.split('/');
    if (parts.some(isForbiddenName)) {
      throw new InvalidArgumentError(`invalid path "${entry.path}" in tree: empty, ".", "..", ".git" components and NUL are not allowed.`, { path: entry.path });
    }
    let node = root;
    for (const dirName of parts.slice(0, -1)) {
      if (node.files.has(dirName)) throw new InvalidArgumentError(`path "${entry.path}" needs "${dirName}" as a directory, but it is a file.`, { path: entry.path });
      let child = node.dirs.get(dirName);
      if (!child) node.dirs.set(dirName, (child = { files: new Map(), dirs: new Map() }));
      node = child;
    }
    const name = parts[parts.length - 1]!;
    if (node.files.has(name) || node.dirs.has(name)) throw new InvalidArgumentError(`path "${entry.path}" appears twice in the tree.`, { path: entry.path });
    node.files.set(name, [entry.mode ?? '100644', entry.oid]);
  }
  return writeTreeNode(objects, root);
}

/**
 * Stores one tree of files only (a collection's parts/ directory), checked as writeTree checks
 * names; returns its id. Without writeTree's nested nodes: a parts tree has ~100,000 entries at
 * a few million documents.
 * @throws InvalidArgumentError for an empty, `.`/`..`/`.git`, slash or NUL name, a repeated name, or a short id.
 */
export async function writeFileTree(objects: ObjectDatabase, entries: { name: string; oid: string }[]): Promise<string> {
  const seen = new Set<string>();
  for (const { name, oid } of entries) {
    if (!isOid(oid)) throw new InvalidArgumentError(`tree entry ${name}: "${oid}" is not a full object id.`, { path: name });
    if (isForbiddenName(name) || name.includes('/')) {
      throw new InvalidArgumentError(`invalid file name "${name}" in tree: empty, ".", "..", ".git", "/" and NUL are not allowed.`, { path: name });
    }
    if (seen.has(name)) throw new InvalidArgumentError(`file "${name}" appears twice in the tree.`, { path: name });
    seen.add(name);
  }
  return (await objects.write('tree', formatTree(entries.map(({ name, oid }) => ({ mode: '100644', name, oid }))))).oid;
}

async function writeTreeNode(objects: ObjectDatabase, node: TreeNode): Promise<string> {
  const items: { mode: string; name: string; oid: string }[] = [];
  for (const [name, [mode, oid]] of node.files) items.push({ mode, name, oid });
  const subtrees = await Promise.all([...node.dirs].map(async ([name, child]) => ({ mode: '40000', name, oid: await writeTreeNode(objects, child) })));
  items.push(...subtrees);
  return (await objects.write('tree', formatTree(items))).oid;
}
