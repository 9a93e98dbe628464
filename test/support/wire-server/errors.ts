/**
 * Command errors as mongod reports them: `{ ok: 0, errmsg, code, codeName }`. Codes and names
 * come from mongod's error_codes.yml so driver logic keyed on them (retryability, NamespaceNotFound
 * tolerance in `drop()`) behaves as against a real server.
 */
const CODE_NAMES: Record<number, string> = {
  1: 'InternalError',
  2: 'BadValue',
  6: 'HostUnreachable',
  9: 'FailedToParse',
  11: 'UserNotFound',
  14: 'TypeMismatch',
  20: 'IllegalOperation',
  26: 'NamespaceNotFound',
  27: 'IndexNotFound',
  28: 'PathNotViable',
  40: 'ConflictingUpdateOperators',
  43: 'CursorNotFound',
  48: 'NamespaceExists',
  50: 'MaxTimeMSExpired',
  59: 'CommandNotFound',
  66: 'ImmutableField',
  67: 'CannotCreateIndex',
  72: 'InvalidOptions',
  73: 'InvalidNamespace',
  85: 'IndexOptionsConflict',
  86: 'IndexKeySpecsConflict',
  89: 'NetworkTimeout',
  91: 'ShutdownInProgress',
  112: 'WriteConflict',
  121: 'DocumentValidationFailure',
  123: 'NotAReplicaSet',
  166: 'CommandNotSupportedOnView',
  189: 'PrimarySteppedDown',
  262: 'ExceededTimeLimit',
  10107: 'NotWritablePrimary',
  11000: 'DuplicateKey',
  11600: 'InterruptedAtShutdown',
  11602: 'InterruptedDueToReplStateChange',
  13435: 'NotPrimaryNoSecondaryOk',
};

/** The codeName mongod uses for an error code ('UnknownError' when not in our table). */
export function codeName(code: number): string {
  return CODE_NAMES[code] ?? 'UnknownError';
}

/** A command failure; the server turns it into an `ok: 0` reply (or a write error entry). */
export class CommandError extends Error {
  readonly extra: Record<string, unknown>;
  constructor(
    readonly code: number,
    message: string,
    extra: Record<string, unknown> = {},
  ) {
    super(message);
    this.extra = extra;
  }

  /** The reply document mongod would send for this error. */
  toReply(): Record<string, unknown> {
    return { ok: 0, errmsg: this.message, code: this.code, codeName: codeName(this.code), ...this.extra };
  }
}
