// Errors the control plane raises: one class with a stable string code, built on the engine's
// (same `name`, `code`, `retryable`, `details`), so callers branch on `err.code`.

import { CodedError } from '@dbsnap/engine/core'

/**
 * Every code the control plane's data layer can raise. Codes are a public contract (the API's
 * error bodies will carry them): never renamed or reused for another meaning.
 */
export const ControlPlaneErrorCode = {
  /** A setting (env variable) is missing or invalid. */
  CONFIG_INVALID: 'CONFIG_INVALID',
  /** An argument is malformed (a scope that is not `resource:action`, …). */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  /** The control plane's own database cannot be reached or opened. */
  DATABASE_UNAVAILABLE: 'DATABASE_UNAVAILABLE',
  /** The database was migrated by a newer version of the control plane; this one refuses it. */
  DATABASE_TOO_NEW: 'DATABASE_TOO_NEW',
  /** A schema migration failed; it was rolled back and the database is as it was. */
  MIGRATION_FAILED: 'MIGRATION_FAILED',
  /** Another account already uses this email address (compared case-insensitively). */
  EMAIL_TAKEN: 'EMAIL_TAKEN',
  /** Another organisation, or another project of the organisation, already uses this slug. */
  SLUG_TAKEN: 'SLUG_TAKEN',
  /** The project already has a connection of this name. */
  NAME_TAKEN: 'NAME_TAKEN',
  /** The user is already a member of the organisation. */
  ALREADY_MEMBER: 'ALREADY_MEMBER',
  /** The organisation still has projects; delete them first. */
  ORG_NOT_EMPTY: 'ORG_NOT_EMPTY',
  /** The change would leave an organisation without an admin. */
  LAST_ADMIN: 'LAST_ADMIN',
  /** The object named does not exist (or belongs to another tenant, which must not be told). */
  NOT_FOUND: 'NOT_FOUND',
  /** A stored audit event does not match its hash chain. */
  AUDIT_CHAIN_BROKEN: 'AUDIT_CHAIN_BROKEN',
  /** A password breaks the password rules (length). */
  PASSWORD_INVALID: 'PASSWORD_INVALID',
  /** A request body is not well-formed JSON. */
  INVALID_JSON: 'INVALID_JSON',
  /** A request body is larger than the API accepts. */
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  /** A request body is not `application/json`. */
  UNSUPPORTED_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  /** No credentials, or credentials that are expired, tampered with or revoked. */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** Login failed: the message never says whether the email or the password was wrong. */
  INVALID_CREDENTIALS: 'INVALID_CREDENTIALS',
  /** The caller's role in the organisation does not allow the action. */
  FORBIDDEN: 'FORBIDDEN',
  /** A cookie-authenticated request that changes something came from another origin. */
  CSRF_REJECTED: 'CSRF_REJECTED',
  /** Sign-up is closed: accounts are made by an admin, or `DBSNAP_CP_OPEN_REGISTRATION=true`. */
  REGISTRATION_CLOSED: 'REGISTRATION_CLOSED',
  /** Too many requests; `Retry-After` says when to try again. */
  RATE_LIMITED: 'RATE_LIMITED',
  /**
   * A stored secret cannot be decrypted: the key that sealed it is not configured, or the
   * ciphertext was altered or moved to another row.
   */
  SECRET_UNREADABLE: 'SECRET_UNREADABLE',
  /**
   * A report about a job (heartbeat, result, failure) names a lease that is not the job's
   * current one: it expired and the job went back to the queue. The report is not counted.
   */
  LEASE_LOST: 'LEASE_LOST',
  /** The job has finished (succeeded, failed, dead or cancelled): it cannot be cancelled. */
  JOB_FINISHED: 'JOB_FINISHED',
  /** The job is no export, or it has not succeeded (yet). */
  EXPORT_NOT_READY: 'EXPORT_NOT_READY',
  /** The diff has not succeeded (yet): it has nothing final to export. */
  DIFF_NOT_READY: 'DIFF_NOT_READY',
  /** The export or its link expired, or it was served already (a local export is served once). */
  DOWNLOAD_GONE: 'DOWNLOAD_GONE',
  /** An unexpected failure; the trace id finds it in the logs. */
  INTERNAL: 'INTERNAL',
} as const

export type ControlPlaneErrorCode =
  (typeof ControlPlaneErrorCode)[keyof typeof ControlPlaneErrorCode]

/**
 * The control plane's error: the engine's `CodedError` with the control plane's codes, so it has
 * the engine's name, shape and JSON form.
 *
 * @example
 * throw new ControlPlaneError('EMAIL_TAKEN', 'an account with this email already exists')
 */
export class ControlPlaneError extends CodedError<ControlPlaneErrorCode> {}

/** `NOT_FOUND` for a `what` (user, organisation, project…) of id `id`, keeping the driver's error. */
export function notFoundError(what: string, id: string, cause?: unknown): ControlPlaneError {
  return new ControlPlaneError('NOT_FOUND', `no such ${what}`, { cause, details: { id } })
}

/**
 * A driver's error in a few words, for a message: its message, else its code (Node's
 * AggregateError for "every address refused" has an empty message).
 */
export function reasonOf(err: unknown): string {
  if (!(err instanceof Error)) return typeof err === 'string' ? err : 'unknown error'
  const code = (err as { code?: unknown }).code
  if (err.message !== '') return err.message
  return typeof code === 'string' ? code : err.name
}
