/** The `clone` operation: a new snapshot repository from a remote one. */
import { promises as fsp } from 'node:fs';
import { CONFIG_FILE } from '../canonical/format.js';
import { InvalidArgumentError } from '../errors/index.js';
import { acquireLock, redactUrl, SnapshotRepository } from '../store/index.js';
import { fetchLocked } from './fetch.js';
import type { ProgressCallback } from './progress.js';
import { remoteUrlForConfig } from './remote-config.js';

export interface CloneOptions {
  /** The remote: https://, ssh:// or user@host:path, file:// or a local path. */
  url: string;
  /** Where the new snapshot repository goes (a bare repository); must not exist or be empty. */
  dir: string;
  /** Token for HTTPS remotes (the CLI passes DBSNAP_GIT_TOKEN / GIT_TOKEN); never stored. */
  token?: string;
  credentialHelper?: boolean;
  onProgress?: ProgressCallback;
}

export interface CloneResult {
  dir: string;
  url: string;
  /** The branch checked out as HEAD (`refs/heads/main`), null if the remote was empty. */
  branch: string | null;
  commit: string | null;
  tags: number;
  objects?: number;
  /** True if the snapshot at HEAD has a dbsnap.json (it is a dbsnap repository). */
  dbsnap: boolean;
}

/**
 * Copies a snapshot repository from a remote into a new local one, with the remote as
 * `origin`, ready for restore and verify. If anything fails, the directory is removed again.
 *
 * @throws InvalidArgumentError if `dir` exists and is not empty.
 * @example
 * await clone({ url: 'https://github.com/acme/shop-data.git', dir: 'backup-repo', token: process.env.DBSNAP_GIT_TOKEN });
 */
export async function clone(opts: CloneOptions): Promise<CloneResult> {
  const configUrl = remoteUrlForConfig(opts.url.replace(/^(https?:\/\/[^/@:]*):[^/@]*@/i, '$1@'));
  let existed = true;
  try {
    const entries = await fsp.readdir(opts.dir);
    if (entries.length > 0) throw new InvalidArgumentError(`${opts.dir} already exists and is not empty; clone into a new directory.`, { dir: opts.dir });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    existed = false;
  }
  try {
    const { repo } = await SnapshotRepository.init(opts.dir);
    await repo.config.addRemote('origin', configUrl);
    const lock = await acquireLock(repo.dir, 'clone');
    try {
      // The typed URL (it may carry credentials) is used for this fetch only; the config has the clean one.
      const fetched = await fetchLocked(repo, { remote: 'origin', token: opts.token, credentialHelper: opts.credentialHelper, onProgress: opts.onProgress, url: opts.url });
      const branches = await repo.listRefs('refs/remotes/origin/');
      const pick =
        (fetched.head && branches.find((b) => b.ref === `refs/remotes/origin/${fetched.head!.slice('refs/heads/'.length)}`)) ||
        branches.find((b) => b.ref === 'refs/remotes/origin/main') ||
        branches.find((b) => !b.ref.endsWith('/HEAD'));
      let branch: string | null = null;
      let commit: string | null = null;
      if (pick) {
        branch = `refs/heads/${pick.ref.slice('refs/remotes/origin/'.length)}`;
        commit = pick.oid;
        await repo.updateRef(branch, commit, null);
        await repo.setHeadBranch(branch);
      }
      const tags = (await repo.listRefs('refs/tags/')).length;
      const dbsnap = commit !== null && (await repo.readFile(commit, CONFIG_FILE)) !== null;
      return { dir: opts.dir, url: redactUrl(opts.url), branch, commit, tags, objects: fetched.objects, dbsnap };
    } finally {
      await lock.release();
    }
  } catch (err) {
    // Leave nothing half-cloned: the directory as it was (absent or empty).
    if (existed) {
      for (const e of await fsp.readdir(opts.dir).catch(() => [] as string[])) await fsp.rm(`${opts.dir}/${e}`, { recursive: true, force: true });
    } else await fsp.rm(opts.dir, { recursive: true, force: true });
    throw err;
  }
}
