/**
 * Walks over the object graph: which objects a remote lacks (for transfers), in an order that
 * keeps every prefix of the transfer connected, whether one commit descends from another, and
 * where two histories meet.
 *
 * Reads go through `readObject` (or `readCommit`) only (loose or packed), so a packed source
 * works as well as a loose one.
 */
import { parseCommit, parseTag, parseTree, type ObjectType } from './objects.js';

export interface ObjectReader {
  readObject(oid: string): Promise<{ type: ObjectType; content: Buffer }>;
}

export interface ObjectToSend {
  oid: string;
  type: ObjectType;
}

/**
 * The objects reachable from `tips` that `has` says the destination lacks, dependencies first
 * (blobs and subtrees before their tree, a tree and parents before their commit, the target
 * before its tag). Copying them in this order means a destination interrupted half-way never
 * holds an object whose children are missing, so "the destination has X" always implies "and
 * everything X reaches" and the walk can stop at X.
 *
 * @example
 * const objects = await missingObjects(local, [head], (oid) => remote.hasObject(oid));
 */
export async function missingObjects(source: ObjectReader, tips: string[], has: (oid: string) => Promise<boolean>): Promise<ObjectToSend[]> {
  const out: ObjectToSend[] = [];
  const seen = new Set<string>();

  const visitTree = async (oid: string): Promise<void> => {
    if (seen.has(oid)) return;
    seen.add(oid);
    if (await has(oid)) return;
    const { type, content } = await source.readObject(oid);
    for (const e of parseTree(content, oid)) {
      if (e.type === 'tree') await visitTree(e.oid);
      else if (e.type === 'blob' && !seen.has(e.oid)) {
        seen.add(e.oid);
        if (!(await has(e.oid))) out.push({ oid: e.oid, type: 'blob' });
      }
      // 'commit' entries are submodule links: not objects of this repository.
    }
    out.push({ oid, type });
  };

  // Commits first collected newest-first without recursion (histories can be long), then
  // emitted oldest-first so parents precede children.
  const visitCommits = async (tip: string): Promise<void> => {
    const pending: string[] = [];
    const stack = [tip];
    while (stack.length > 0) {
      const oid = stack.pop()!;
      if (seen.has(oid)) continue;
      seen.add(oid);
      if (await has(oid)) continue;
      pending.push(oid);
      const commit = parseCommit((await source.readObject(oid)).content, oid);
      for (const p of commit.parents) stack.push(p);
    }
    // Reverse discovery order is a valid topological order only along first parents; sort
    // properly so every parent precedes its child.
    for (const oid of await topologicalOrder(source, pending)) {
      const commit = parseCommit((await source.readObject(oid)).content, oid);
      await visitTree(commit.tree);
      out.push({ oid, type: 'commit' });
    }
  };

  const visit = async (oid: string): Promise<void> => {
    if (seen.has(oid)) return;
    const { type, content } = await source.readObject(oid);
    if (type === 'commit') return visitCommits(oid);
    seen.add(oid);
    if (await has(oid)) return;
    if (type === 'tag') await visit(parseTag(content, oid).object);
    else if (type === 'tree') {
      seen.delete(oid);
      return visitTree(oid);
    }
    out.push({ oid, type });
  };

  for (const tip of tips) await visit(tip);
  return out;
}

/** `commits` ordered so that each comes after all of its parents that are in the set. */
async function topologicalOrder(source: ObjectReader, commits: string[]): Promise<string[]> {
  const inSet = new Set(commits);
  const parents = new Map<string, string[]>();
  for (const oid of commits) {
    parents.set(oid, parseCommit((await source.readObject(oid)).content, oid).parents.filter((p) => inSet.has(p)));
  }
  const out: string[] = [];
  const done = new Set<string>();
  for (const start of commits) {
    const stack: [string, boolean][] = [[start, false]];
    while (stack.length > 0) {
      const [oid, expanded] = stack.pop()!;
      if (done.has(oid)) continue;
      if (expanded) {
        done.add(oid);
        out.push(oid);
        continue;
      }
      stack.push([oid, true]);
      for (const p of parents.get(oid)!) if (!done.has(p)) stack.push([p, false]);
    }
  }
  return out;
}

/**
 * True if `ancestor` is `descendant` or one of its ancestors. Objects missing from `source`
 * end that path of the walk (a commit we do not have cannot lead to one we are looking for).
 */
export async function isAncestor(source: ObjectReader & { hasObject(oid: string): Promise<boolean> }, ancestor: string, descendant: string): Promise<boolean> {
  if (ancestor === descendant) return true;
  if (!(await source.hasObject(ancestor))) return false;
  const seen = new Set<string>();
  const stack = [descendant];
  while (stack.length > 0) {
    const oid = stack.pop()!;
    if (oid === ancestor) return true;
    if (seen.has(oid) || !(await source.hasObject(oid))) continue;
    seen.add(oid);
    const obj = await source.readObject(oid);
    if (obj.type === 'tag') stack.push(parseTag(obj.content, oid).object);
    else if (obj.type === 'commit') stack.push(...parseCommit(obj.content, oid).parents);
  }
  return false;
}

/**
 * What a remote that advertises `tips` is known to have, as far as `source` can tell: every
 * commit reachable from the tips (that `source` holds), and the trees and blobs of the tip
 * commits themselves. A push then sends what changed since the remote's tips, as `git
 * send-pack` does; an object also present in some older remote commit may be sent again,
 * which costs bytes, never correctness.
 */
export async function knownToRemote(source: ObjectReader & { hasObject(oid: string): Promise<boolean> }, tips: string[]): Promise<(oid: string) => boolean> {
  const known = new Set<string>();
  const tipCommits: string[] = [];
  const stack = tips.map((oid) => ({ oid, tip: true }));
  while (stack.length > 0) {
    const { oid, tip } = stack.pop()!;
    if (known.has(oid) || !(await source.hasObject(oid))) continue;
    known.add(oid);
    const obj = await source.readObject(oid);
    if (obj.type === 'commit') {
      if (tip) tipCommits.push(oid);
      for (const p of parseCommit(obj.content, oid).parents) stack.push({ oid: p, tip: false });
    } else if (obj.type === 'tag') stack.push({ oid: parseTag(obj.content, oid).object, tip });
  }
  const addTree = async (oid: string): Promise<void> => {
    if (known.has(oid)) return;
    known.add(oid);
    for (const e of parseTree((await source.readObject(oid)).content, oid)) {
      if (e.type === 'tree') await addTree(e.oid);
      else known.add(e.oid);
    }
  };
  for (const c of tipCommits) await addTree(parseCommit((await source.readObject(c)).content, c).tree);
  return (oid) => known.has(oid);
}

/**
 * The best common ancestor of two commits (what `git merge-base` prints for linear and merge
 * histories alike: the first commit reachable from both, searching from `b` breadth-first),
 * or null when they share no history.
 */
export async function mergeBase(source: { readCommit(oid: string): Promise<{ parents: string[] }> }, a: string, b: string): Promise<string | null> {
  const fromA = new Set<string>();
  for (let queue = [a]; queue.length; ) {
    const next: string[] = [];
    for (const oid of queue) {
      if (fromA.has(oid)) continue;
      fromA.add(oid);
      next.push(...(await source.readCommit(oid)).parents);
    }
    queue = next;
  }
  const seen = new Set<string>();
  for (let queue = [b]; queue.length; ) {
    const next: string[] = [];
    for (const oid of queue) {
      if (fromA.has(oid)) return oid;
      if (seen.has(oid)) continue;
      seen.add(oid);
      next.push(...(await source.readCommit(oid)).parents);
    }
    queue = next;
  }
  return null;
}
