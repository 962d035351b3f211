// Which engine a connection URL names, and the URL with its password hidden: the engine's own
// parsing and redaction, so the control plane accepts and shows URLs as `dbsnap` does.

import { parseConnectionUrl, redactUrl } from '@dbsnap/engine/core'
import type { ConnectionsTable } from '../db/schema.js'
import { ControlPlaneError } from '../errors.js'

export type Engine = ConnectionsTable['engine']

export const CONNECTION_URL_EXPECTED =
  'expected a postgres://, mysql://, mariadb:// or mongodb:// URL with a host'

/** The engine of `url`, undefined for another scheme, no host or a URL that does not parse. */
function engineOrUndefined(url: string): Engine | undefined {
  try {
    return parseConnectionUrl(url).engine
  } catch {
    return undefined
  }
}

export const isConnectionUrl = (url: string): boolean => engineOrUndefined(url) !== undefined

/** The engine of `url`; INVALID_ARGUMENT (with the URL redacted) for another scheme. */
export function engineOfUrl(url: string): Engine {
  const engine = engineOrUndefined(url)
  if (engine === undefined) {
    throw new ControlPlaneError(
      'INVALID_ARGUMENT',
      `${CONNECTION_URL_EXPECTED}, got ${redactConnectionUrl(url)}`,
    )
  }
  return engine
}

/** `url` with its password and secret-looking query parameters replaced by `****`. */
export function redactConnectionUrl(url: string): string {
  return redactUrl(url)
}
