/**
 * Typed errors. Every error dbsnap raises on purpose is a DbsnapError with a stable string
 * `code` and a `data` payload, so callers match on `err.code`, never on message text.
 * Messages say what happened, to what, and what to do.
 */

/**
 * Every error code dbsnap uses, the stable contract for scripts (`--json` errors carry it) and
 * library callers. A code not in this list does not compile.
 */
export const ERROR_CODES = [
  'EINVALIDARG',
  'ECONNECT',
  'EDBNOTFOUND',
  'ECOLLNOTFOUND',
  'ENOREPO',
  'ENOTDBSNAP',
  'ELOCKED',
  'EREFNOTFOUND',
  'ETAGEXISTS',
  'ECORRUPT',
  'EFORMAT',
  'EFORMATVERSION',
  'EPROTECTED',
  'ECONFIRM',
  'EUNSUPPORTED',
  'ERESTORE',
  'EKEY',
  'EMONGO',
  'EDIRTY',
  'EBRANCH',
  'EINTERRUPTED',
  'ECONFIG',
  'EINTERNAL',
  'ENOREMOTE',
  'EREMOTE',
  'EAUTH',
  'EREJECTED',
  'ENOGIT',
  'EDISKFULL',
  'EREADONLY',
  'ESTORAGE',
  'ETARGETLOCKED',
] as const;

/** One of {@link ERROR_CODES}. */
export type ErrorCode = (typeof ERROR_CODES)[number];

export class DbsnapError extends Error {
  readonly code: ErrorCode;
  readonly data: Record<string, unknown>;
  /** Exit code the CLI uses for this error (2 = error; 1 is reserved for "difference found"). */
  readonly exitCode: number = 2;
  constructor(code: ErrorCode, message: string, data: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.data = data;
  }
}

const define = (code: ErrorCode) =>
  class extends DbsnapError {
    static readonly code = code;
    constructor(message: string, data: Record<string, unknown> = {}, options?: { cause?: unknown }) {
      super(code, message, data, options);
    }
  };

/** Bad command-line or API arguments. */
export class InvalidArgumentError extends define('EINVALIDARG') {}
/** The MongoDB server could not be reached, or refused the credentials. */
export class ConnectionError extends define('ECONNECT') {}
/** The named database does not exist (or holds no collections). */
export class DatabaseNotFoundError extends define('EDBNOTFOUND') {}
/** The named collection does not exist in the database or snapshot. */
export class CollectionNotFoundError extends define('ECOLLNOTFOUND') {}
/** The path holds no dbsnap repository (run `dbsnap init`). */
export class RepositoryNotFoundError extends define('ENOREPO') {}
/** The path is a git repository but not one dbsnap created, or its config is unreadable. */
export class NotADbsnapRepositoryError extends define('ENOTDBSNAP') {}
/** Another dbsnap process holds the repository lock. */
export class RepositoryLockedError extends define('ELOCKED') {}
/** Another restore holds the lock inside the target database. */
export class TargetLockedError extends define('ETARGETLOCKED') {}
/** A ref (hash, tag, branch, HEAD~N) does not name a commit. */
export class RefNotFoundError extends define('EREFNOTFOUND') {}
/** A tag that already exists, or one that does not when deleting. */
export class TagExistsError extends define('ETAGEXISTS') {}
/** A snapshot failed an integrity check (parse, count, hash, order, git object). */
export class CorruptSnapshotError extends define('ECORRUPT') {}
/** A snapshot file could not be parsed as dbsnap Extended JSON. */
export class FormatError extends define('EFORMAT') {}
/** The snapshot was written by a newer, unknown format version. */
export class UnsupportedFormatError extends define('EFORMATVERSION') {}
/** Restore target is protected (see `protectedHosts` in the config) and --force was not given. */
export class ProtectedTargetError extends define('EPROTECTED') {}
/** Restore needs confirmation that was not given (non-interactive without --yes). */
export class ConfirmationRequiredError extends define('ECONFIRM') {}
/** Something in the snapshot cannot be recreated on the target server. */
export class UnsupportedFeatureError extends define('EUNSUPPORTED') {}
/** Restore failed; the target was left as it was. */
export class RestoreFailedError extends define('ERESTORE') {}
/** Encryption key missing, wrong, or unusable. */
export class KeyError extends define('EKEY') {}
/** A MongoDB command failed in a way dbsnap did not expect. */
export class MongoOperationError extends define('EMONGO') {}
/** A checked-out work tree has uncommitted changes that moving its branch would overwrite or hide. */
export class WorkTreeDirtyError extends define('EDIRTY') {}
/** A branch that already exists (create), or one that cannot be deleted (current, unmerged). */
export class BranchError extends define('EBRANCH') {}
/** The operation was interrupted (signal); nothing was changed. */
export class InterruptedError extends define('EINTERRUPTED') {}
/** dbsnap.json does not match its schema (docs/dbsnap.schema.json): unknown key, wrong type, hand-set keyId. */
export class ConfigError extends define('ECONFIG') {}
/**
 * Something dbsnap did not expect: a bug. Thrown where an internal invariant breaks (a pack writer
 * asked to write an object twice); the CLI also reports any untyped error with this code.
 */
export class InternalError extends define('EINTERNAL') {}

/** No remote of that name is configured (or none at all). */
export class RemoteNotFoundError extends define('ENOREMOTE') {}
/** A remote could not be reached, or is not a git repository. */
export class RemoteUnreachableError extends define('EREMOTE') {}
/** A git server refused the credentials (or asked for some and none were configured). */
export class AuthenticationError extends define('EAUTH') {}
/** A push or pull would lose commits (not a fast-forward), or the remote refused an update. */
export class PushRejectedError extends define('EREJECTED') {}
/** The operation needs the native git binary (SSH remotes) and it is not installed. */
export class GitNotFoundError extends define('ENOGIT') {}
/** The disk holding the repository (or a file dbsnap writes) is full (ENOSPC, EDQUOT). */
export class DiskFullError extends define('EDISKFULL') {}
/** The repository is on a read-only file system, or dbsnap may not write there (EROFS, EACCES, EPERM). */
export class ReadOnlyError extends define('EREADONLY') {}
/** Another file-system failure while writing (EIO ...): the environment, not the data. */
export class StorageError extends define('ESTORAGE') {}

export function isDbsnapError(err: unknown): err is DbsnapError {
  return err instanceof DbsnapError;
}
