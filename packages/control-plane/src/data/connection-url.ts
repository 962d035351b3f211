// Which engine a connection URL names, and the URL with its password hidden.
// TODO: use parseConnectionUrl and redactUrl from @dbsnap/engine/core once core exports them
// (they live in the engine's connection/url.ts, which core does not re-export yet); until then
// this checks the scheme only and redacts the way the engine does.

import type { ConnectionsTable } from '../db/schema.js'
import { ControlPlaneError } from '../errors.js'

export type Engine = ConnectionsTable['engine']

const SCHEMES: Record<string, Engine> = {
  postgres: 'postgres',
  postgresql: 'postgres',
  mysql: 'mysql',
  mariadb: 'mysql',
  mongodb: 'mongodb',
  'mongodb+srv': 'mongodb',
}

const PASSWORD_IN_AUTHORITY = /^([a-z][a-z0-9+.-]*:\/\/[^/?#@:]*):[^/?#]*@/i
const SECRET_QUERY_PARAMS =
  /([?&](?:password|pass|pwd|secret|token|sslpassword|authmechanismproperties)=)[^&#]*/gi

export const CONNECTION_URL_EXPECTED =
  'expected a postgres://, mysql://, mariadb:// or mongodb:// URL with a host'

/** The engine of `url`, undefined for another scheme or no host. */
function engineOrUndefined(url: string): Engine | undefined {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\/[^/?#]+/i.exec(url.trim())?.[1]?.toLowerCase()
  return scheme === undefined ? undefined : SCHEMES[scheme]
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
  return url
    .trim()
    .replace(PASSWORD_IN_AUTHORITY, '$1:****@')
    .replace(SECRET_QUERY_PARAMS, '$1****')
}
