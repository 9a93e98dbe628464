/**
 * Changing the repository config (dbsnap.json) as a commit of its own: the snapshot data at HEAD
 * stays exactly as it is, only dbsnap.json is replaced.
 */
import { CONFIG_FILE, metadataText, parseConfig, type RepositoryConfig } from '../canonical/format.js';
import type { TreeEntryInput } from '../store/index.js';
import { commitTree, withLockedHead } from './commit-tree.js';
import type { Identity } from './progress.js';

export interface UpdateConfigOptions {
  /** Snapshot repository directory. */
  repo: string;
  /** Returns the new config (may mutate and return the one it is given, a copy of HEAD's). */
  change: (config: RepositoryConfig) => RepositoryConfig;
  /** Commit message; the first line is the subject. */
  message: string;
  author?: Identity;
  now?: Date;
}

export interface UpdateConfigResult {
  /** False when the change left dbsnap.json as it was (no commit is made). */
  changed: boolean;
  /** The new commit, or HEAD when nothing changed. */
  commit: string;
  config: RepositoryConfig;
}

/**
 * Commits a changed dbsnap.json on the current branch: the new commit's tree is HEAD's tree with
 * dbsnap.json replaced. The new config is validated before anything is written; the repository
 * lock is held throughout and the branch only moves if nobody moved it meanwhile.
 *
 * @example
 * await updateConfig({
 *   repo: 'backup-repo',
 *   change: (cfg) => ({ ...cfg, relations: [...cfg.relations, { from: 'orders.userId', to: 'users._id' }] }),
 *   message: 'declare orders.userId -> users._id',
 * });
 */
export async function updateConfig(opts: UpdateConfigOptions): Promise<UpdateConfigResult> {
  return withLockedHead(opts.repo, 'config', async ({ repo, config, head, ref }) => {
    const before = metadataText(config);
    const next = parseConfig(JSON.parse(JSON.stringify(opts.change(structuredClone(config)))), `new ${CONFIG_FILE}`);
    const text = metadataText(next);
    if (text === before) return { changed: false, commit: head, config };
    const files = await repo.listFiles(head);
    const tree: TreeEntryInput[] = [];
    for (const [path, oid] of files) if (path !== CONFIG_FILE) tree.push({ path, oid });
    tree.push({ path: CONFIG_FILE, oid: await repo.writeBlob(text) });
    const commit = await commitTree(repo, { ref, parent: head, tree, message: opts.message, author: opts.author, now: opts.now });
    return { changed: true, commit, config: next };
  });
}
