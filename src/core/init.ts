/** The `init` operation: a new snapshot repository with its dbsnap.json as the first commit. */
import {
  ATTRIBUTES_FILE,
  CONFIG_FILE,
  defaultConfig,
  GITATTRIBUTES,
  metadataText,
  type RepositoryConfig,
} from '../canonical/format.js';
import { NotADbsnapRepositoryError } from '../errors/index.js';
import { SnapshotRepository } from '../store/index.js';
import { defaultIdentity, gitTime } from './identity.js';
import type { Identity } from './progress.js';

export interface InitOptions {
  /** Directory of the snapshot repository (a bare git repository). */
  repo: string;
  /** Initial settings for dbsnap.json (e.g. `{ sortKeys: true }`). */
  config?: Partial<RepositoryConfig>;
  author?: Identity;
  now?: Date;
}

export interface InitResult {
  repo: string;
  created: boolean;
  commit: string;
  config: RepositoryConfig;
}

/**
 * Creates the snapshot repository: a bare git repository (owner-only permissions) whose first
 * commit holds dbsnap.json and .gitattributes. Running it again on a dbsnap repository changes
 * nothing.
 *
 * @example
 * const { created } = await init({ repo: 'backup-repo' });
 */
export async function init(opts: InitOptions): Promise<InitResult> {
  const { repo } = await SnapshotRepository.init(opts.repo);
  const head = await repo.head();
  if (head.oid) {
    const cfg = await repo.readFile(head.oid, CONFIG_FILE);
    if (!cfg) {
      throw new NotADbsnapRepositoryError(
        `${opts.repo} already holds a git repository that dbsnap did not create; choose another --repo.`,
      );
    }
    return { repo: opts.repo, created: false, commit: head.oid, config: JSON.parse(cfg.toString('utf8')) };
  }
  const config: RepositoryConfig = { ...defaultConfig(), ...opts.config };
  const tree = await repo.writeTree([
    { path: CONFIG_FILE, oid: await repo.writeBlob(metadataText(config)) },
    { path: ATTRIBUTES_FILE, oid: await repo.writeBlob(GITATTRIBUTES) },
  ]);
  const who = opts.author ?? defaultIdentity();
  const commit = await repo.writeCommit({
    tree,
    parents: [],
    message: 'dbsnap init\n',
    author: { ...who, ...gitTime(opts.now ?? new Date()) },
  });
  await repo.updateRef(head.ref, commit, null);
  return { repo: opts.repo, created: true, commit, config };
}
