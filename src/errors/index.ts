/**
 * Typed errors. Every error dbsnap raises on purpose is a DbsnapError with a stable string
 * `code` and a `data` payload, so callers match on `err.code`, never on message text.
 * Messages say what happened, to what, and what to do.
 */
export class DbsnapError extends Error {
  readonly code: string;
  readonly data: Record<string, unknown>;
  /** Exit code the CLI uses for this error (2 = error; 1 is reserved for "difference found"). */
  readonly exitCode: number = 2;
  constructor(code: string, message: string, data: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.data = data;
  }
}

const define = (code: string) =>
  class extends DbsnapError {
    static readonly code = code;
    constructor(message: string, data: Record<string, unknown> = {}) {
      super(code, message, data);
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

export function isDbsnapError(err: unknown): err is DbsnapError {
  return err instanceof DbsnapError;
}
