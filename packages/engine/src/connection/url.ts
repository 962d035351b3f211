// Connection URLs: which engine a URL names, its parts, and a form of it that is safe to print.

import { DbsnapError } from '../errors.js'
import type { Engine } from '../schema/schema.js'

// A URL names an engine: said here too, so code on connections finds it beside the URL's parts.
export type { Engine }

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
  /** The URL as given (trimmed), for drivers that parse URLs themselves; holds the password. */
  href: string
  /** Query parameters of the URL. */
  params: URLSearchParams
  /** The first (often only) host; MongoDB seed lists name several in `hosts`. */
  host: string
  port: number
  hosts: { host: string; port: number }[]
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
  const href = input.trim()
  // WHATWG URLs hold one host; a MongoDB seed list (`h1:27017,h2:27017`) is split off first.
  const seedList = /^(mongodb(?:\+srv)?:\/\/(?:[^@/?#]*@)?)([^/?#]*,[^/?#]*)(.*)$/i.exec(href)
  let url: URL
  try {
    url = new URL(
      seedList === null ? href : `${seedList[1]}${seedList[2]?.split(',')[0]}${seedList[3]}`,
    )
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
  const hosts = (seedList?.[2]?.split(',') ?? [url.host]).map((entry) =>
    parseHost(entry, engine, url),
  )
  const first = hosts[0] ?? { host: url.hostname, port: DEFAULT_PORTS[engine] }
  return {
    engine,
    href,
    params: url.searchParams,
    host: first.host,
    port: first.port,
    hosts,
    database: path === '' ? null : path,
    user: url.username === '' ? null : decodeComponent(url.username, 'user name', url),
    password: url.password === '' ? null : decodeComponent(url.password, 'password', url),
  }
}

function parseHost(entry: string, engine: Engine, url: URL): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d{1,5}))?$/.exec(entry)
  const port = match?.[2] === undefined ? DEFAULT_PORTS[engine] : Number(match[2])
  if (match === null || port > 65_535) {
    throw new DbsnapError(
      'CONNECTION_URL_INVALID',
      `bad host "${entry}" in ${JSON.stringify(redactUrl(url))}`,
    )
  }
  return { host: (match[1] ?? '').replace(/^\[(.*)\]$/, '$1'), port }
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
