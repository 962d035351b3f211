// Errors the engine raises: one class with a stable string code, so callers in other packages
// (CLI, agent, control plane) branch on `err.code`, never on `instanceof` or message text.

/**
 * Every code the engine can raise. Codes are a public contract: scripts and the control plane
 * match on them, so a code is never renamed or reused for another meaning.
 */
export const ErrorCode = {
  /** A setting (env variable, config file) is missing or invalid. */
  CONFIG_INVALID: 'CONFIG_INVALID',
  /** A command-line argument or flag, or an API parameter, is invalid. */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** A file to write (`export --out`) cannot be created there: no such directory, a directory. */
  OUTPUT_INVALID: 'OUTPUT_INVALID',
  /** The connection string cannot be parsed as a URL. */
  CONNECTION_URL_INVALID: 'CONNECTION_URL_INVALID',
  /** The URL's scheme names no engine DBSnap supports. */
  CONNECTION_SCHEME_UNSUPPORTED: 'CONNECTION_SCHEME_UNSUPPORTED',
  /** The host name does not resolve. */
  CONNECTION_DNS_FAILED: 'CONNECTION_DNS_FAILED',
  /** Nothing listens at the host and port. */
  CONNECTION_REFUSED: 'CONNECTION_REFUSED',
  /** The server rejected the user name or password. */
  CONNECTION_AUTH_FAILED: 'CONNECTION_AUTH_FAILED',
  /** The server has no database of that name. */
  CONNECTION_DATABASE_NOT_FOUND: 'CONNECTION_DATABASE_NOT_FOUND',
  /** The server only accepts encrypted connections and the client did not use TLS. */
  CONNECTION_TLS_REQUIRED: 'CONNECTION_TLS_REQUIRED',
  /** TLS was asked for but the handshake or certificate check failed. */
  CONNECTION_TLS_FAILED: 'CONNECTION_TLS_FAILED',
  /** The server did not answer within the time limit. */
  CONNECTION_TIMEOUT: 'CONNECTION_TIMEOUT',
  /** The connection dropped while in use. */
  CONNECTION_LOST: 'CONNECTION_LOST',
  /**
   * The account connects but lacks a privilege the operation needs (e.g. MySQL's SHOW VIEW,
   * TRIGGER, EVENT); the message names the grant.
   */
  CONNECTION_PRIVILEGE_MISSING: 'CONNECTION_PRIVILEGE_MISSING',
  /** Any other failure to connect; the message carries the server's reason. */
  CONNECTION_FAILED: 'CONNECTION_FAILED',
  /** The operation is not available for this engine or storage (yet). */
  NOT_SUPPORTED: 'NOT_SUPPORTED',
  /** A query on the source failed for a reason other than the connection. */
  QUERY_FAILED: 'QUERY_FAILED',
  /** A table or collection named by the user does not exist in the source or the snapshot. */
  TABLE_NOT_FOUND: 'TABLE_NOT_FOUND',
  /** The source changed under a running snapshot (a table altered or dropped). */
  SOURCE_CHANGED: 'SOURCE_CHANGED',
  /** The restore target already holds data the restore would replace; `--force` allows it. */
  TARGET_NOT_EMPTY: 'TARGET_NOT_EMPTY',
  /** The restore target accepts no writes (read-only server, replica, read-only transaction). */
  TARGET_READ_ONLY: 'TARGET_READ_ONLY',
  /** The snapshot is of another engine than the restore target (export it as SQL instead). */
  TARGET_ENGINE_MISMATCH: 'TARGET_ENGINE_MISMATCH',
  /** The target's server is older than the source's where that matters (a type it lacks, …). */
  TARGET_VERSION_UNSUPPORTED: 'TARGET_VERSION_UNSUPPORTED',
  /** An existing target table's columns differ from the snapshot's (append mode). */
  TARGET_SCHEMA_MISMATCH: 'TARGET_SCHEMA_MISMATCH',
  /** A restored row conflicts with a target row's key (append with `--on-conflict fail`). */
  TARGET_CONFLICT: 'TARGET_CONFLICT',
  /** The target refused a restore step for another reason; the message carries the server's. */
  RESTORE_FAILED: 'RESTORE_FAILED',
  /** No repository at the location (no `config` object). */
  REPOSITORY_NOT_FOUND: 'REPOSITORY_NOT_FOUND',
  /** The repository's `config` is unreadable or of a format this version does not know. */
  REPOSITORY_INVALID: 'REPOSITORY_INVALID',
  /** Another process holds a lock that conflicts with the one asked for. */
  REPOSITORY_LOCKED: 'REPOSITORY_LOCKED',
  /** No snapshot matches the reference, or a prefix matches several. */
  SNAPSHOT_NOT_FOUND: 'SNAPSHOT_NOT_FOUND',
  /** A snapshot id prefix matches more than one snapshot. */
  SNAPSHOT_AMBIGUOUS: 'SNAPSHOT_AMBIGUOUS',
  /** No saved diff matches the id or prefix, or a prefix matches several. */
  DIFF_NOT_FOUND: 'DIFF_NOT_FOUND',
  /** Stored data does not match its checksum, or cannot be decoded. */
  DATA_CORRUPT: 'DATA_CORRUPT',
  /** A storage object that should exist does not. */
  STORAGE_NOT_FOUND: 'STORAGE_NOT_FOUND',
  /** The storage location does not exist (directory or S3 bucket). */
  STORAGE_LOCATION_NOT_FOUND: 'STORAGE_LOCATION_NOT_FOUND',
  /** The storage refused our credentials or permissions (file mode, S3 access key). */
  STORAGE_PERMISSION_DENIED: 'STORAGE_PERMISSION_DENIED',
  /** The storage is out of space or quota. */
  STORAGE_FULL: 'STORAGE_FULL',
  /** The storage could not be reached (endpoint down, DNS, timeout); retryable. */
  STORAGE_UNAVAILABLE: 'STORAGE_UNAVAILABLE',
  /** Any other storage failure; the message carries the reason. */
  STORAGE_FAILED: 'STORAGE_FAILED',
  /** The operation was cancelled through its AbortSignal. */
  ABORTED: 'ABORTED',
  /** A bug: an invariant of the engine did not hold. */
  INTERNAL: 'INTERNAL',
} as const

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

export interface DbsnapErrorOptions {
  /** The underlying error, kept for logs and debugging; never shown to users verbatim. */
  cause?: unknown
  /** True when the same operation may succeed if tried again (network blips, timeouts). */
  retryable?: boolean
  /** Structured, secret-free facts about the failure (host, table, object key…). */
  details?: Record<string, unknown>
}

/**
 * An error with a stable string `code` from the union `C`, named `DbsnapError` whatever package
 * raises it, so that code across packages recognises one by shape (`isDbsnapError`) and every
 * error has one JSON form. The engine's is `DbsnapError`; a service extends it with its own codes.
 */
export class CodedError<C extends string> extends Error {
  override readonly name = 'DbsnapError'
  readonly code: C
  readonly retryable: boolean
  readonly details: Record<string, unknown>

  constructor(code: C, message: string, options: DbsnapErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.retryable = options.retryable ?? false
    this.details = options.details ?? {}
  }

  /** A JSON-serializable form for `--json` output and job reports (no stack, no cause). */
  toJSON(): { code: C; message: string; retryable: boolean; details: Record<string, unknown> } {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      details: this.details,
    }
  }
}

/**
 * The one error type of the engine.
 *
 * @example
 * throw new DbsnapError('CONNECTION_REFUSED', 'connection refused by 127.0.0.1:5432', { retryable: true })
 */
export class DbsnapError extends CodedError<ErrorCode> {}

/** True when `err` is a DbsnapError, also across duplicate copies of the engine package. */
export function isDbsnapError(err: unknown): err is DbsnapError {
  return (
    typeof err === 'object' &&
    err !== null &&
    (err as { name?: unknown }).name === 'DbsnapError' &&
    typeof (err as { code?: unknown }).code === 'string'
  )
}

/** The error to throw when `signal` was aborted; keeps the abort reason as the cause. */
export function abortError(signal: AbortSignal): DbsnapError {
  // A reason that says why (`interrupted by SIGINT`) is the better message.
  const reason: unknown = signal.reason
  if (isDbsnapError(reason) && reason.code === 'ABORTED') return reason
  return new DbsnapError('ABORTED', 'operation aborted', { cause: reason })
}

/** Throws the `ABORTED` DbsnapError when `signal` has been aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw abortError(signal)
}

/**
 * The `code` of a Node or driver error, or of any error in its `cause` chain, e.g.
 * `ECONNREFUSED`: what storages and adapters map to a `DbsnapError` code.
 */
export function findErrorCode(err: unknown, depth = 0): string | undefined {
  if (typeof err !== 'object' || err === null || depth > 5) return undefined
  const code = (err as { code?: unknown }).code
  if (typeof code === 'string' && /^[A-Z_]+$/.test(code)) return code
  return findErrorCode((err as { cause?: unknown }).cause, depth + 1)
}
