// Maps node-postgres failures to DbsnapErrors (SQLSTATE codes: see the PostgreSQL manual,
// appendix A "PostgreSQL Error Codes").

import { DbsnapError, findErrorCode, type ErrorCode } from '../../errors.js'
import type { ConnectionTarget } from '../../connection/url.js'
import { endpoint, networkError, scrub, timeoutError } from '../connect-errors.js'

export function postgresError(
  err: unknown,
  target: ConnectionTarget,
  timeoutMs: number,
): DbsnapError {
  const net = networkError(err, target, timeoutMs)
  if (net !== undefined) return net
  const message = scrub(err instanceof Error ? err.message : String(err), target)
  const sqlstate = (err as { code?: unknown }).code
  const details = {
    host: target.host,
    port: target.port,
    ...(typeof sqlstate === 'string' ? { sqlstate } : {}),
  }
  const user = target.user ?? 'the default user'
  switch (sqlstate) {
    case '28P01':
      return new DbsnapError(
        'CONNECTION_AUTH_FAILED',
        `authentication failed for user "${user}" at ${endpoint(target)}`,
        {
          cause: err,
          details,
        },
      )
    case '28000':
      return new DbsnapError(
        'CONNECTION_AUTH_FAILED',
        `the server refused user "${user}": ${message}`,
        {
          cause: err,
          details,
        },
      )
    case '3D000':
      return new DbsnapError(
        'CONNECTION_DATABASE_NOT_FOUND',
        `database "${target.database ?? user}" does not exist on ${endpoint(target)}`,
        { cause: err, details },
      )
    case '57P01':
    case '57P02':
    case '57P03':
      return new DbsnapError('CONNECTION_LOST', `the server closed the connection: ${message}`, {
        cause: err,
        retryable: true,
        details,
      })
    case '57014':
      return new DbsnapError('CONNECTION_TIMEOUT', `the server cancelled a statement: ${message}`, {
        cause: err,
        retryable: true,
        details,
      })
  }
  if (/timeout/i.test(message)) return timeoutError(target, timeoutMs, err)
  if (/does not support SSL/i.test(message)) {
    return new DbsnapError(
      'CONNECTION_TLS_FAILED',
      `${endpoint(target)} does not support TLS but the URL asks for it`,
      {
        cause: err,
        details,
      },
    )
  }
  if (/Connection terminated/i.test(message)) {
    return new DbsnapError(
      'CONNECTION_LOST',
      `connection to ${endpoint(target)} was closed unexpectedly`,
      {
        cause: err,
        retryable: true,
        details,
      },
    )
  }
  return new DbsnapError('CONNECTION_FAILED', `PostgreSQL at ${endpoint(target)}: ${message}`, {
    cause: err,
    details,
  })
}

/**
 * True for the server's "no pg_hba.conf entry … no encryption" refusal: a TLS connection might
 * be accepted where this plain one was not (the adapter checks before saying so).
 */
export function isPlaintextRefusal(err: unknown): boolean {
  return (
    (err as { code?: unknown }).code === '28000' &&
    /no pg_hba\.conf entry.*(SSL off|no encryption)/i.test(err instanceof Error ? err.message : '')
  )
}

export function tlsRequiredError(err: unknown, target: ConnectionTarget): DbsnapError {
  return new DbsnapError(
    'CONNECTION_TLS_REQUIRED',
    `${endpoint(target)} only accepts TLS connections for user "${target.user ?? 'the default user'}"; add ?sslmode=verify-full to the URL (with sslrootcert=<CA file> for a private CA)`,
    { cause: err, details: { host: target.host, port: target.port, sqlstate: '28000' } },
  )
}

/** Socket failures that mean an open connection dropped while a query was using it. */
const LOST_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'ENOTCONN'])

/**
 * Maps the failure of a query on an open connection (reading rows, introspecting), where
 * `postgresError` maps failures to connect:
 * - the connection dropped (`pg_terminate_backend`, server shutdown, network) → `CONNECTION_LOST`;
 * - the table or its schema does not exist (any more) → `TABLE_NOT_FOUND`;
 * - a column or type the query names is gone or changed → `SOURCE_CHANGED`;
 * - cancelled by `statement_timeout` → `CONNECTION_TIMEOUT`; waiting for a lock too long,
 *   cancelled by someone else, serialization failures, out of resources → retryable `QUERY_FAILED`;
 * - anything else → `QUERY_FAILED`.
 * The SQLSTATE, when the server sent one, is in `details.sqlstate`.
 *
 * @param context.table - the table being read, as SQL names it (`"public"."orders"`), for the message.
 */
/** What a read view says when a table stays locked by another session (ALTER, DROP, VACUUM FULL…). */
export const LOCKED_MESSAGE =
  'a table to read is locked by another session (a schema change in progress?); try again when it has finished'

export function postgresQueryError(
  err: unknown,
  target: ConnectionTarget,
  context: { table?: string } = {},
): DbsnapError {
  const message = scrub(err instanceof Error ? err.message : String(err), target)
  const code = (err as { code?: unknown }).code
  const sqlstate = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined
  const table = context.table
  const details = {
    host: target.host,
    port: target.port,
    ...(table === undefined ? {} : { table }),
    ...(sqlstate === undefined ? {} : { sqlstate }),
  }
  const make = (c: ErrorCode, text: string, retryable: boolean): DbsnapError =>
    new DbsnapError(c, text, { cause: err, retryable, details })
  const socketCode = findErrorCode(err)
  if (
    (sqlstate === undefined && socketCode !== undefined && LOST_SOCKET_CODES.has(socketCode)) ||
    /Connection terminated/i.test(message) ||
    // node-postgres, for a query on a client whose connection already dropped (while idle
    // between two reads, e.g. a parallel reader waiting for its next table).
    /Client has encountered a connection error and is not queryable/i.test(message) ||
    (sqlstate !== undefined && (sqlstate.startsWith('08') || /^57P0[123]$/.test(sqlstate)))
  ) {
    return make(
      'CONNECTION_LOST',
      `the connection to ${endpoint(target)} was lost${table === undefined ? '' : ` while reading ${table}`}: ${message}`,
      true,
    )
  }
  const onTable = table === undefined ? '' : ` (reading ${table})`
  switch (sqlstate) {
    case '42P01': // undefined_table
    case '3F000': // invalid_schema_name
      return make(
        'TABLE_NOT_FOUND',
        `${table === undefined ? 'the table' : `table ${table}`} does not exist (any more) on ${endpoint(target)}: ${message}`,
        false,
      )
    case '42703': // undefined_column
    case '42704': // undefined_object: a type named in the query is gone
      return make(
        'SOURCE_CHANGED',
        `the source changed while it was being read${onTable}: ${message}`,
        true,
      )
    case '57014': // query_canceled
      return /statement timeout/i.test(message)
        ? make(
            'CONNECTION_TIMEOUT',
            `the server cancelled the query at its statement_timeout${onTable}: ${message}`,
            true,
          )
        : make('QUERY_FAILED', `the query was cancelled on the server${onTable}: ${message}`, true)
    case '55P03': // lock_not_available: waited lock_timeout behind a conflicting lock
      return make('SOURCE_CHANGED', LOCKED_MESSAGE, true)
    case '40001': // serialization_failure
    case '40P01': // deadlock_detected
      return make('QUERY_FAILED', `query failed${onTable}: ${message}`, true)
    default:
      if (sqlstate?.startsWith('53') === true) {
        // insufficient_resources (disk full, out of memory, too many connections): may pass.
        return make('QUERY_FAILED', `the server ran out of resources${onTable}: ${message}`, true)
      }
      return make(
        'QUERY_FAILED',
        `query failed${onTable}${sqlstate === undefined ? '' : ` (SQLSTATE ${sqlstate})`}: ${message}`,
        false,
      )
  }
}
