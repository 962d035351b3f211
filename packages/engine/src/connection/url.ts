// Connection URLs: which engine a URL names, its parts, and a form of it that is safe to print.

import { DbsnapError } from '../errors.js'

export type Engine = 'postgres' | 'mysql' | 'mongodb'

const SCHEMES: Record<string, Engine> = {
  'postgres:': 'postgres',
  'postgresql:': 'postgres',
  'mysql:': 'mysql',
  'mariadb:': 'mysql',
  'mongodb:': 'mongodb',
  'mongodb+srv:': 'mongodb',
}

const DEFAULT_PORTS: Record<Engine, number> = { postgres: 5432, mysql: 3306, mongodb: 27017 }

const EXAMPLE =
  'postgres://user@host:5432/db, mysql://user@host:3306/db or mongodb://user@host:27017/db'

/** A parsed connection URL. `password` is only here to hand to a driver; never print it. */
export interface ConnectionTarget {
  engine: Engine
  /** The URL as given, scheme included; contains the password when one was given. */
  url: URL
  host: string
  port: number
  /** Decoded database name from the path, or null when the URL names none. */
  database: string | null
  user: string | null
  password: string | null
}

/**
 * Parses a connection URL and names its engine.
 *
 * Throws `CONNECTION_URL_INVALID` for text that is not a URL with a host, and
 * `CONNECTION_SCHEME_UNSUPPORTED` for a URL of another kind. Neither message contains the password.
 */
export function parseConnectionUrl(input: string): ConnectionTarget {
  let url: URL
  try {
    url = new URL(input.trim())
  } catch (cause) {
    throw new DbsnapError(
      'CONNECTION_URL_INVALID',
      `not a valid connection URL: ${JSON.stringify(redactUrl(input))}; expected e.g. ${EXAMPLE}`,
      { cause },
    )
  }
  const engine = SCHEMES[url.protocol]
  if (engine === undefined) {
    const known = Object.keys(SCHEMES)
      .map((s) => s.slice(0, -1))
      .join(', ')
    throw new DbsnapError(
      'CONNECTION_SCHEME_UNSUPPORTED',
      `unsupported URL scheme "${url.protocol.slice(0, -1)}"; DBSnap connects to ${known}`,
      { details: { scheme: url.protocol.slice(0, -1) } },
    )
  }
  if (url.hostname === '') {
    throw new DbsnapError(
      'CONNECTION_URL_INVALID',
      `connection URL ${JSON.stringify(redactUrl(url))} names no host; expected e.g. ${EXAMPLE}`,
    )
  }
  const path = decodeComponent(url.pathname.replace(/^\//, ''), 'database name', url)
  return {
    engine,
    url,
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? DEFAULT_PORTS[engine] : Number(url.port),
    database: path === '' ? null : path,
    user: url.username === '' ? null : decodeComponent(url.username, 'user name', url),
    password: url.password === '' ? null : decodeComponent(url.password, 'password', url),
  }
}

function decodeComponent(value: string, what: string, url: URL): string {
  try {
    return decodeURIComponent(value)
  } catch (cause) {
    throw new DbsnapError(
      'CONNECTION_URL_INVALID',
      `the ${what} in ${JSON.stringify(redactUrl(url))} is not valid percent-encoding`,
      { cause },
    )
  }
}

const PASSWORD_IN_AUTHORITY = /^([a-z][a-z0-9+.-]*:\/\/[^/?#@:]*):[^/?#]*@/i
const SECRET_QUERY_PARAMS =
  /([?&](?:password|pass|pwd|secret|token|sslpassword|authmechanismproperties)=)[^&#]*/gi

/**
 * The URL with its password (and secret-looking query parameters) replaced by `****`.
 * Works on text that does not parse as a URL too, so error messages can echo bad input safely.
 *
 * @example
 * redactUrl('postgres://app:s3cret@db:5432/shop') // 'postgres://app:****@db:5432/shop'
 */
export function redactUrl(input: string | URL): string {
  const text = typeof input === 'string' ? input.trim() : input.href
  return text.replace(PASSWORD_IN_AUTHORITY, '$1:****@').replace(SECRET_QUERY_PARAMS, '$1****')
}
