/** `tag()`: creates a git tag on a snapshot commit (list-tags.ts and delete-tag.ts list and delete). */
import { acquireLock, SnapshotRepository } from '../store/index.js';
import { defaultIdentity, gitTime } from './identity.js';
import type { Identity } from './progress.js';

export interface TagOptions {
  repo: string;
  name: string;
  /** What to tag (default HEAD). */
  ref?: string;
  /** Makes an annotated tag. */
  message?: string;
  force?: boolean;
  author?: Identity;
  now?: Date;
}

/**
 * Tags a snapshot (a git tag: annotated when given a message).
 *
 * @example
 * await tag({ repo: 'backup-repo', name: 'before-migration', message: 'state before v2 schema' });
 */
export async function tag(opts: TagOptions): Promise<{ name: string; commit: string; annotated: boolean }> {
  const repo = await SnapshotRepository.open(opts.repo);
  const commit = await repo.resolveCommit(opts.ref ?? 'HEAD');
  const who = opts.author ?? defaultIdentity();
  const lock = await acquireLock(repo.dir, 'tag');
  try {
    await repo.createTag(opts.name, commit, {
      ...(opts.message ? { message: opts.message, tagger: { ...who, ...gitTime(opts.now ?? new Date()) } } : {}),
      force: opts.force,
    });
  } finally {
    await lock.release();
  }
  return { name: opts.name, commit, annotated: Boolean(opts.message) };
}
