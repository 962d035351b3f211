// Maps mysql2 failures to DbsnapErrors (server error names: MariaDB/MySQL error reference).

import { DbsnapError, findErrorCode, isDbsnapError, type ErrorCode } from '../../errors.js'
import type { ConnectionTarget } from '../../connection/url.js'
import { endpoint, networkError, scrub, timeoutError } from '../connect-errors.js'

export function mysqlError(err: unknown, target: ConnectionTarget, timeoutMs: number): DbsnapError {
  const net = networkError(err, target, timeoutMs)
  if (net !== undefined) return net
  const message = scrub(err instanceof Error ? err.message : String(err), target)
  const code = (err as { code?: unknown }).code
  const errno = (err as { errno?: unknown }).errno
  const details = {
    host: target.host,
    port: target.port,
    ...(typeof code === 'string' ? { serverCode: code } : {}),
  }
  const user = target.user ?? 'the default user'
  switch (code) {
    case 'ER_ACCESS_DENIED_ERROR':
    case 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR':
    case 'ER_NOT_SUPPORTED_AUTH_MODE':
      return new DbsnapError(
        'CONNECTION_AUTH_FAILED',
        `authentication failed for user "${user}" at ${endpoint(target)}`,
        {
          cause: err,
          details,
        },
      )
    case 'ER_DBACCESS_DENIED_ERROR':
      return new DbsnapError(
        'CONNECTION_AUTH_FAILED',
        `user "${user}" may not use database "${target.database ?? ''}"`,
        {
          cause: err,
          details,
        },
      )
    case 'ER_BAD_DB_ERROR':
      return new DbsnapError(
        'CONNECTION_DATABASE_NOT_FOUND',
        `database "${target.database ?? ''}" does not exist on ${endpoint(target)}`,
        { cause: err, details },
      )
    case 'ER_SECURE_TRANSPORT_REQUIRED':
      return tlsRequiredError(err, target)
    case 'HANDSHAKE_NO_SSL_SUPPORT':
      return new DbsnapError(
        'CONNECTION_TLS_FAILED',
        `${endpoint(target)} does not support TLS but the URL asks for it`,
        {
          cause: err,
          details,
        },
      )
    case 'PROTOCOL_CONNECTION_LOST':
    case 'ER_SERVER_SHUTDOWN':
    case 'ER_CONNECTION_KILLED':
      return new DbsnapError(
        'CONNECTION_LOST',
        `connection to ${endpoint(target)} was lost: ${message}`,
        {
          cause: err,
          retryable: true,
          details,
        },
      )
  }
  // MySQL 8 with require_secure_transport; MariaDB answers "access denied" instead (the adapter
  // tells that apart by trying TLS).
  if (errno === 3159 || /insecure transport are prohibited/i.test(message)) {
    return tlsRequiredError(err, target)
  }
  if (/timeout|timed out/i.test(message)) return timeoutError(target, timeoutMs, err)
  return new DbsnapError('CONNECTION_FAILED', `MySQL at ${endpoint(target)}: ${message}`, {
    cause: err,
    details,
  })
}

export function tlsRequiredError(err: unknown, target: ConnectionTarget): DbsnapError {
  return new DbsnapError(
    'CONNECTION_TLS_REQUIRED',
    `${endpoint(target)} only accepts TLS connections for user "${target.user ?? ''}"; add ?ssl-mode=REQUIRED (or VERIFY_IDENTITY) to the URL`,
    { cause: err, details: { host: target.host, port: target.port } },
  )
}

/** What a read view says when a table stays locked by another session (ALTER, LOCK TABLES…). */
const LOCKED_MESSAGE =
  'a table to read is locked by another session (a schema change or LOCK TABLES in progress?); try again when it has finished'

/** Socket failures that mean an open connection dropped while a query was using it. */
const LOST_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'ENOTCONN'])

/** Server and driver codes for a connection that ended under a running statement. */
const LOST_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'ER_CONNECTION_KILLED',
  'ER_SERVER_SHUTDOWN',
  'ER_NORMAL_SHUTDOWN',
  'ER_SHUTDOWN_COMPLETE',
  'ER_NET_READ_ERROR',
  'ER_NET_WRITE_INTERRUPTED',
  'ER_NET_ERROR_ON_WRITE',
  'ER_NET_READ_INTERRUPTED',
  'ER_CLIENT_INTERACTION_TIMEOUT',
])

/**
 * Maps the failure of a query on an open connection (reading rows, introspecting), where
 * `mysqlError` maps failures to connect:
 * - the connection dropped (KILL, server shutdown, network, net_write_timeout) → `CONNECTION_LOST`;
 * - a table or column gone, or altered since the read view began (ER_TABLE_DEF_CHANGED), or
 *   locked by another session past lock_wait_timeout → `SOURCE_CHANGED`;
 * - the account lacks a privilege → `CONNECTION_PRIVILEGE_MISSING`, naming it;
 * - a statement timeout → `CONNECTION_TIMEOUT`; deadlocks and resource limits → retryable
 *   `QUERY_FAILED`; anything else → `QUERY_FAILED`.
 * The server's error name (`ER_…`) and number, when it sent one, are in `details`.
 *
 * @param context.table - the table being read, as SQL names it (`` `orders` ``), for the message.
 */
export function mysqlQueryError(
  err: unknown,
  target: ConnectionTarget,
  context: { table?: string } = {},
): DbsnapError {
  const message = scrub(err instanceof Error ? err.message : String(err), target)
  const rawCode = (err as { code?: unknown }).code
  const code = typeof rawCode === 'string' ? rawCode : undefined
  const rawErrno = (err as { errno?: unknown }).errno
  const errno = typeof rawErrno === 'number' ? rawErrno : undefined
  const table = context.table
  const details = {
    host: target.host,
    port: target.port,
    ...(table === undefined ? {} : { table }),
    ...(code === undefined ? {} : { serverCode: code }),
    ...(errno === undefined ? {} : { errno }),
  }
  const make = (c: ErrorCode, text: string, retryable: boolean): DbsnapError =>
    new DbsnapError(c, text, { cause: err, retryable, details })
  const onTable = table === undefined ? '' : ` (reading ${table})`
  const socketCode = findErrorCode(err)
  const fatal = (err as { fatal?: unknown }).fatal === true
  if (
    (code !== undefined && LOST_CODES.has(code)) ||
    (socketCode !== undefined && LOST_SOCKET_CODES.has(socketCode)) ||
    (fatal && !code?.startsWith('ER_'))
  ) {
    return make(
      'CONNECTION_LOST',
      `the connection to ${endpoint(target)} was lost${table === undefined ? '' : ` while reading ${table}`}: ${message}`,
      true,
    )
  }
  switch (code ?? '') {
    case 'ER_NO_SUCH_TABLE':
    case 'ER_BAD_TABLE_ERROR':
    case 'ER_TABLE_DEF_CHANGED':
    case 'ER_BAD_FIELD_ERROR':
    case 'ER_NO_SUCH_TABLE_IN_ENGINE':
      return make(
        'SOURCE_CHANGED',
        `the source changed while it was being read${onTable}: ${message}`,
        true,
      )
    case 'ER_LOCK_WAIT_TIMEOUT':
      return make('SOURCE_CHANGED', LOCKED_MESSAGE, true)
    case 'ER_TABLEACCESS_DENIED_ERROR':
    case 'ER_COLUMNACCESS_DENIED_ERROR':
      return make(
        'CONNECTION_PRIVILEGE_MISSING',
        `user "${target.user ?? ''}" lacks the SELECT privilege${onTable}: ${message}; GRANT SELECT ON <database>.* TO it`,
        false,
      )
    case 'ER_SPECIFIC_ACCESS_DENIED_ERROR':
    case 'ER_DBACCESS_DENIED_ERROR':
    case 'ER_ACCESS_DENIED_ERROR':
      return make(
        'CONNECTION_PRIVILEGE_MISSING',
        `user "${target.user ?? ''}" lacks a privilege${onTable}: ${message}`,
        false,
      )
    case 'ER_STATEMENT_TIMEOUT':
    case 'ER_QUERY_TIMEOUT':
      return make(
        'CONNECTION_TIMEOUT',
        `the server stopped the query at its statement time limit${onTable}: ${message}`,
        true,
      )
    case 'ER_LOCK_DEADLOCK':
    case 'ER_QUERY_INTERRUPTED':
    case 'ER_OUT_OF_RESOURCES':
    case 'ER_OUTOFMEMORY':
    case 'ER_CON_COUNT_ERROR':
    case 'ER_TOO_MANY_USER_CONNECTIONS':
      return make('QUERY_FAILED', `query failed${onTable}: ${message}`, true)
  }
  return make(
    'QUERY_FAILED',
    `query failed${onTable}${code === undefined ? '' : ` (${code})`}: ${message}`,
    false,
  )
}

/** Server error names that mean a privilege is missing. */
const DENIED = new Set([
  'ER_TABLEACCESS_DENIED_ERROR',
  'ER_COLUMNACCESS_DENIED_ERROR',
  'ER_DBACCESS_DENIED_ERROR',
  'ER_SPECIFIC_ACCESS_DENIED_ERROR',
  'ER_ACCESS_DENIED_ERROR',
  'ER_PROCACCESS_DENIED_ERROR',
  'ER_KILL_DENIED_ERROR',
])
/** Server error names of a server or engine that takes no writes. */
const READ_ONLY = new Set([
  'ER_OPTION_PREVENTS_STATEMENT',
  'ER_READ_ONLY_MODE',
  'ER_INNODB_READ_ONLY',
])

/**
 * A failure of a restore statement as a DbsnapError: duplicate key → TARGET_CONFLICT (naming
 * the key), read-only server → TARGET_READ_ONLY, missing grant → CONNECTION_PRIVILEGE_MISSING,
 * lost connection and timeouts as for reads, anything else → RESTORE_FAILED with the server's
 * message.
 */
export function targetError(
  err: unknown,
  target: ConnectionTarget,
  context: { table?: string } = {},
): DbsnapError {
  if (isDbsnapError(err)) return err
  const mapped = mysqlQueryError(err, target)
  const code = typeof mapped.details?.serverCode === 'string' ? mapped.details.serverCode : ''
  const message = scrub(err instanceof Error ? err.message : String(err), target)
  const onTable = context.table === undefined ? '' : ` restoring ${context.table}`
  const details = {
    ...mapped.details,
    ...(context.table === undefined ? {} : { table: context.table }),
  }
  const options = { cause: err, details }
  if (code === 'ER_DUP_ENTRY' || code === 'ER_DUP_ENTRY_WITH_KEY_NAME') {
    // MySQL 8.0.19+ names the key `table.key`.
    const key = /for key '([^']*)'/.exec(message)?.[1] ?? 'a unique key'
    const primary = key === 'PRIMARY' || key.endsWith('.PRIMARY')
    return new DbsnapError(
      'TARGET_CONFLICT',
      `a row${onTable} has the same ${primary ? 'primary key' : `key ${key}`} as a row the target holds (${message}); use --on-conflict skip or update`,
      { ...options, details: { ...details, key } },
    )
  }
  if (READ_ONLY.has(code)) {
    return new DbsnapError(
      'TARGET_READ_ONLY',
      `the target refuses writes${onTable}: ${message}`,
      options,
    )
  }
  if (DENIED.has(code)) {
    return new DbsnapError(
      'CONNECTION_PRIVILEGE_MISSING',
      `user "${target.user ?? ''}" lacks a privilege${onTable}: ${message}`,
      options,
    )
  }
  if (mapped.code.startsWith('CONNECTION_')) {
    return new DbsnapError(
      mapped.code,
      `${mapped.message}${onTable === '' ? '' : ` (${onTable.trim()})`}`,
      {
        ...options,
        retryable: mapped.retryable,
      },
    )
  }
  return new DbsnapError('RESTORE_FAILED', `the target refused a statement${onTable}: ${message}`, {
    ...options,
    retryable: mapped.retryable,
  })
}
