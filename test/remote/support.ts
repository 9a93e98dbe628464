/** Shared helpers for the remote tests: native git, object counts, raw database state. */
import { execFileSync, spawnSync } from 'node:child_process';
import type { Db } from 'mongodb';
import { uriWithDatabase } from '../support/test-db.js';

/** Runs native git; returns stdout (throws with stderr on failure). */
export function git(args: string[], opts: { cwd?: string } = {}): string {
  return execFileSync('git', args, { cwd: opts.cwd, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** `git fsck --full --strict`: exit code and everything it printed. */
export function fsck(gitdir: string): { code: number; output: string } {
  const r = spawnSync('git', ['--git-dir', gitdir, 'fsck', '--full', '--strict', '--no-dangling'], { encoding: 'utf8' });
  return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

/** Objects stored in a repository, loose and packed (`git count-objects -v`). */
export function objectCount(gitdir: string): number {
  const out = git(['--git-dir', gitdir, 'count-objects', '-v']);
  const get = (k: string) => Number(/^(\S+): (\d+)$/m.test(out) ? new RegExp(`^${k}: (\\d+)$`, 'm').exec(out)![1] : 0);
  return get('count') + get('in-pack');
}

/** Objects reachable from `rev` but not from `not` (what a push of rev onto not must send). */
export function newObjects(gitdir: string, rev: string, not?: string): number {
  return git(['--git-dir', gitdir, 'rev-list', '--objects', rev, ...(not ? [`^${not}`] : [])]).split('\n').filter(Boolean).length;
}

/** Refs as `git show-ref` prints them (oid and name per line, tags unpeeled). */
export function showRef(gitdir: string): string {
  const r = spawnSync('git', ['--git-dir', gitdir, 'show-ref'], { encoding: 'utf8' });
  return r.stdout;
}

/** Every collection's documents as raw BSON bytes (hex), sorted by _id: a byte-exact picture of a database. */
export async function rawState(db: Db): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).sort();
  for (const name of names) {
    const docs = (await db.collection(name).find({}, { raw: true, sort: { _id: 1 } }).toArray()) as unknown as Uint8Array[];
    out[name] = docs.map((d) => Buffer.from(d).toString('hex'));
  }
  return out;
}

export { uriWithDatabase };
