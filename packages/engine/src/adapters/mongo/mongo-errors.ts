// Maps MongoDB driver failures to DbsnapErrors (server codes: mongodb/src/mongo/base/error_codes.yml).

import { DbsnapError, type ErrorCode } from '../../errors.js'
import type { ConnectionTarget } from '../../connection/url.js'
import { endpoint, networkError, scrub, timeoutError } from '../connect-errors.js'

const AUTH_CODES = new Set([18, 11, 13])
/** `Unauthorized`: authenticated, but the user's roles do not allow the command. */
const UNAUTHORIZED = 13
/**
 * Server codes that mean a cursor's collection went away under it: `NamespaceNotFound`,
 * `CursorNotFound`, `QueryPlanKilled` (dropped or renamed during a getMore), `CursorKilled`,
 * `SnapshotUnavailable` (the collection changed after the snapshot's point in time).
 */
const GONE_CODES = new Set([26, 43, 175, 237, 246])

export function mongoError(err: unknown, target: ConnectionTarget, timeoutMs: number): DbsnapError {
  // Server selection errors hide the real cause in `reason.servers`; look there first.
  const inner = serverSelectionCause(err)
  const net = networkError(inner ?? err, target, timeoutMs)
  if (net !== undefined) return net
  const message = scrub(err instanceof Error ? err.message : String(err), target)
  const name = (err as { name?: unknown }).name
  const code = (err as { code?: unknown }).code
  const details = {
    host: target.host,
    port: target.port,
    ...(typeof code === 'number' ? { serverCode: code } : {}),
  }
  const user = target.user ?? 'the default user'
  if (code === UNAUTHORIZED && /not authorized/i.test(message)) {
    return privilegeError(err, target, message)
  }
  if (
    (typeof code === 'number' && AUTH_CODES.has(code) && /auth/i.test(message)) ||
    /Authentication failed/i.test(message)
  ) {
    return new DbsnapError(
      'CONNECTION_AUTH_FAILED',
      `authentication failed for user "${user}" at ${endpoint(target)}`,
      {
        cause: err,
        details,
      },
    )
  }
  // ECONNRESET was already mapped by networkError; this catches the driver's own wording.
  if (/connection .* closed|socket.*(closed|hang up)/i.test(message)) {
    return new DbsnapError(
      'CONNECTION_LOST',
      `${endpoint(target)} closed the connection (if the server requires TLS, add ?tls=true to the URL)`,
      { cause: err, retryable: true, details },
    )
  }
  if (name === 'MongoServerSelectionError' || /timed out|timeout/i.test(message)) {
    return timeoutError(target, timeoutMs, err)
  }
  return new DbsnapError('CONNECTION_FAILED', `MongoDB at ${endpoint(target)}: ${message}`, {
    cause: err,
    details,
  })
}

function serverSelectionCause(err: unknown): unknown {
  const servers = (err as { reason?: { servers?: Map<string, { error?: unknown }> } }).reason
    ?.servers
  if (!(servers instanceof Map)) return undefined
  for (const description of servers.values()) {
    if (description.error !== undefined && description.error !== null) return description.error
  }
  return undefined
}

/**
 * The error for a command the user's roles do not allow, naming the role to grant: `read` on
 * the database covers listing collections and indexes and reading documents; `backup` (on
 * `admin`) covers every database, system collections included.
 */
function privilegeError(err: unknown, target: ConnectionTarget, message: string): DbsnapError {
  const database = target.database ?? 'test'
  const user = target.user ?? 'the default user'
  return new DbsnapError(
    'CONNECTION_PRIVILEGE_MISSING',
    `user "${user}" may not read database "${database}" on ${endpoint(target)} (${message}); grant it the role "read" on "${database}" (db.grantRolesToUser("${user}", [{ role: "read", db: "${database}" }])) or "backup" on "admin"`,
    {
      cause: err,
      details: {
        host: target.host,
        port: target.port,
        serverCode: UNAUTHORIZED,
        grant: `read on ${database}`,
      },
    },
  )
}

/**
 * Maps the failure of a command on an open connection (introspecting, reading a collection),
 * where `mongoError` maps failures to connect:
 * - the connection dropped or the server went away → `CONNECTION_LOST`;
 * - the user's roles do not allow the command → `CONNECTION_PRIVILEGE_MISSING`, naming the role;
 * - the collection went away under the cursor (dropped, renamed, snapshot unavailable) →
 *   `SOURCE_CHANGED` (callers check whether it still exists to word it);
 * - `SnapshotTooOld` → retryable `QUERY_FAILED` that names the server setting to raise;
 * - `MaxTimeMSExpired` → `CONNECTION_TIMEOUT`; anything else → `QUERY_FAILED`.
 * The server's code, when there is one, is in `details.serverCode`.
 */
export function mongoQueryError(
  err: unknown,
  target: ConnectionTarget,
  context: { collection?: string } = {},
): DbsnapError {
  const message = scrub(err instanceof Error ? err.message : String(err), target)
  const code = (err as { code?: unknown }).code
  const name = (err as { name?: unknown }).name
  const collection = context.collection
  const on = collection === undefined ? '' : ` reading collection "${collection}"`
  const details = {
    host: target.host,
    port: target.port,
    ...(collection === undefined ? {} : { collection }),
    ...(typeof code === 'number' ? { serverCode: code } : {}),
  }
  const make = (c: ErrorCode, text: string, retryable: boolean): DbsnapError =>
    new DbsnapError(c, text, { cause: err, retryable, details })
  if (
    name === 'MongoNetworkError' ||
    name === 'MongoNetworkTimeoutError' ||
    name === 'MongoServerSelectionError' ||
    name === 'MongoTopologyClosedError' ||
    networkError(err, target, 0) !== undefined
  ) {
    return make(
      'CONNECTION_LOST',
      `the connection to ${endpoint(target)} was lost${on}: ${message}`,
      true,
    )
  }
  if (code === UNAUTHORIZED) return privilegeError(err, target, message)
  if (typeof code === 'number' && GONE_CODES.has(code)) {
    return make(
      'SOURCE_CHANGED',
      `the source changed while it was being read${on}: ${message}`,
      true,
    )
  }
  switch (code) {
    case 239: // SnapshotTooOld
      return make(
        'QUERY_FAILED',
        `the server no longer holds the snapshot's point in time${on} (a snapshot that takes longer than the server's minSnapshotHistoryWindowInSeconds, default 300): ${message}`,
        true,
      )
    case 50: // MaxTimeMSExpired
      return make('CONNECTION_TIMEOUT', `the server timed out a command${on}: ${message}`, true)
    default:
      return make(
        'QUERY_FAILED',
        `command failed${on}${typeof code === 'number' ? ` (server code ${code})` : ''}: ${message}`,
        false,
      )
  }
}

/** Codes of a member that takes no writes: NotWritablePrimary, NotPrimary(NoSecondaryOk/OrSecondary). */
const NOT_PRIMARY_CODES = new Set([10107, 13435, 13436])

/**
 * Maps the failure of a restore's command (create, drop, insert, createIndexes) on an open
 * connection, where `mongoQueryError` words reads:
 * - the user's roles do not allow it → `CONNECTION_PRIVILEGE_MISSING`, naming `readWrite` on the
 *   database (or `restore` on `admin`);
 * - the server is a secondary → `TARGET_READ_ONLY`;
 * - the connection dropped, a timeout → as `mongoQueryError` (`CONNECTION_*`);
 * - anything else → `RESTORE_FAILED` with the server's code in `details.serverCode`.
 */
export function mongoWriteError(
  err: unknown,
  target: ConnectionTarget,
  context: { collection?: string } = {},
): DbsnapError {
  const message = scrub(err instanceof Error ? err.message : String(err), target)
  const code = (err as { code?: unknown }).code
  const database = target.database ?? 'test'
  const collection = context.collection
  const details = {
    host: target.host,
    port: target.port,
    ...(collection === undefined ? {} : { collection }),
    ...(typeof code === 'number' ? { serverCode: code } : {}),
  }
  if (code === UNAUTHORIZED) {
    const user = target.user ?? 'the default user'
    return new DbsnapError(
      'CONNECTION_PRIVILEGE_MISSING',
      `user "${user}" may not write database "${database}" on ${endpoint(target)} (${message}); grant it the role "readWrite" on "${database}" (db.grantRolesToUser("${user}", [{ role: "readWrite", db: "${database}" }])) or "restore" on "admin"`,
      { cause: err, details: { ...details, grant: `readWrite on ${database}` } },
    )
  }
  if (typeof code === 'number' && NOT_PRIMARY_CODES.has(code)) {
    return new DbsnapError(
      'TARGET_READ_ONLY',
      `${endpoint(target)} takes no writes (not the primary): ${message}; restore into the primary (name the replica set in the URL: ?replicaSet=…)`,
      { cause: err, details },
    )
  }
  // Without the collection: its wording is for reads.
  const mapped = mongoQueryError(err, target)
  if (mapped.code.startsWith('CONNECTION_')) return mapped
  const on = collection === undefined ? '' : ` writing collection "${collection}"`
  return new DbsnapError(
    'RESTORE_FAILED',
    `command failed${on}${typeof code === 'number' ? ` (server code ${code})` : ''}: ${message}`,
    { cause: err, details },
  )
}
