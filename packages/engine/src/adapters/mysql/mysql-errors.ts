// Maps mysql2 failures to DbsnapErrors (server error names: MariaDB/MySQL error reference).

import { DbsnapError } from '../../errors.js'
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
