// Maps MongoDB driver failures to DbsnapErrors (server codes: mongodb/src/mongo/base/error_codes.yml).

import { DbsnapError } from '../../errors.js'
import type { ConnectionTarget } from '../../connection/url.js'
import { endpoint, networkError, scrub, timeoutError } from '../connect-errors.js'

const AUTH_CODES = new Set([18, 11, 13])

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
