// Maps node-postgres failures to DbsnapErrors (SQLSTATE codes: see the PostgreSQL manual,
// appendix A "PostgreSQL Error Codes").

import { DbsnapError } from '../../errors.js'
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
