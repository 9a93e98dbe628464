/**
 * File-system failures (a full disk, a read-only mount, a permission) are the environment's,
 * not a bug and not "reading failed": one typed error each, naming the file, what is true now
 * and what to do.
 */
import { DiskFullError, ReadOnlyError, StorageError, type DbsnapError } from './index.js';

/** What stays true when an operation stops on a write failure (HEAD and refs move last). */
const WHAT_IS_TRUE: Record<string, string> = {
  commit: 'nothing was committed and HEAD did not move',
  config: 'the config was not changed and HEAD did not move',
  rekey: 'nothing was re-encrypted and HEAD did not move',
  tag: 'no tag was created, moved or deleted',
  restore: 'the target database was not touched (the safety snapshot is written before anything else)',
  init: 'the repository was not created; run dbsnap init again once the cause is fixed',
  export: 'the files written before it stay, each complete (none is half-written)',
};

/**
 * The typed error for a Node.js system error raised while writing, or undefined when `err` is
 * not one. `operation` is the dbsnap command that was running.
 *
 * @example
 * catch (err) { throw environmentError(err, 'commit') ?? err; }
 */
export function environmentError(err: unknown, operation: string): DbsnapError | undefined {
  const e = err as NodeJS.ErrnoException;
  if (!e || typeof e !== 'object' || typeof e.code !== 'string' || typeof e.syscall !== 'string') return undefined;
  const where = e.path ? ` ${e.path}` : '';
  const now = WHAT_IS_TRUE[operation] ?? 'the operation stopped before it finished';
  const data = { errno: e.code, syscall: e.syscall, path: e.path, operation };
  switch (e.code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new DiskFullError(`cannot write${where}: the disk is full (${e.code}); ${now}. Free some space and run the command again.`, data);
    case 'EROFS':
      return new ReadOnlyError(`cannot write${where}: the file system is read-only (EROFS); ${now}. Use a writable --repo, or remount it read-write.`, data);
    case 'EACCES':
    case 'EPERM':
      return new ReadOnlyError(`cannot write${where}: permission denied (${e.code}); ${now}. Check the owner and mode of the repository directory.`, data);
    case 'ENOTDIR':
    case 'EISDIR':
      // A path given as a directory that is a file, or the other way round: the user's path, not a bug.
      return new StorageError(
        `cannot write${where}: ${e.code === 'ENOTDIR' ? 'a part of that path is a file, not a directory' : 'that path is a directory, not a file'} (${e.code}); ${now}. Choose another path.`,
        data,
      );
    case 'EIO':
    case 'EFBIG':
    case 'EMFILE':
    case 'ENFILE':
      return new StorageError(`cannot write${where}: ${e.message.split('\n')[0]}; ${now}. Fix the file system and run the command again.`, data);
    default:
      return undefined;
  }
}
