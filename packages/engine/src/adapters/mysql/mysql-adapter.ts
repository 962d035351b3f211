// MySQL/MariaDB source adapter (mysql2). For now: connect and describe the server; schema
// introspection and row streaming arrive with the MySQL source issue.

import mysql from 'mysql2/promise'
import { DbsnapError, abortError, throwIfAborted } from '../../errors.js'
import type { ConnectionTarget } from '../../connection/url.js'
import type { ConnectFn, ReadView, ServerDescription, SourceAdapter } from '../source-adapter.js'
import { mysqlError, tlsRequiredError } from './mysql-errors.js'

const DEFAULT_TIMEOUT_MS = 10_000

/** Global privileges a snapshot needs; anything else an account holds is reported as excess. */
const BACKUP_PRIVILEGES = new Set([
  'SELECT',
  'SHOW VIEW',
  'TRIGGER',
  'EVENT',
  'LOCK TABLES',
  'PROCESS',
  'SHOW DATABASES',
  'USAGE',
  'BINLOG MONITOR',
  'REPLICATION CLIENT',
  'SLAVE MONITOR',
  'REPLICA MONITOR',
])
const SUPER_PRIVILEGES = new Set(['SUPER', 'ALL PRIVILEGES'])

type SslMode = 'DISABLED' | 'PREFERRED' | 'REQUIRED' | 'VERIFY_CA' | 'VERIFY_IDENTITY'

function sslOption(target: ConnectionTarget): mysql.ConnectionOptions['ssl'] {
  const raw = target.params.get('ssl-mode') ?? target.params.get('sslmode')
  if (raw === null) return undefined
  const mode = raw.toUpperCase().replace('-', '_') as SslMode
  switch (mode) {
    case 'DISABLED':
    case 'PREFERRED':
      return undefined
    case 'REQUIRED':
      return { rejectUnauthorized: false }
    case 'VERIFY_CA':
    case 'VERIFY_IDENTITY':
      return { rejectUnauthorized: true }
    default:
      throw new DbsnapError(
        'CONNECTION_URL_INVALID',
        `ssl-mode must be one of DISABLED, PREFERRED, REQUIRED, VERIFY_CA, VERIFY_IDENTITY; got "${raw}"`,
      )
  }
}

export const connectMysql: ConnectFn = async (target, options) => {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const signal = options.signal
  throwIfAborted(signal)
  const config: mysql.ConnectionOptions = {
    host: target.host,
    port: target.port,
    connectTimeout: timeoutMs,
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    connectAttributes: { program_name: options.applicationName ?? 'dbsnap' },
    ...(target.user === null ? {} : { user: target.user }),
    ...(target.password === null ? {} : { password: target.password }),
    ...(target.database === null ? {} : { database: target.database }),
  }
  const ssl = sslOption(target)
  if (ssl !== undefined) config.ssl = ssl
  let connection: mysql.Connection
  try {
    connection = await abortable(mysql.createConnection(config), signal)
  } catch (err) {
    if (signal?.aborted === true) throw abortError(signal)
    if (isAccessDenied(err) && ssl === undefined && (await acceptsTls(config))) {
      throw tlsRequiredError(err, target)
    }
    throw mysqlError(err, target, timeoutMs)
  }
  // A connection the server drops while idle emits 'error'; keep the process alive.
  connection.on('error', (err: Error) =>
    options.logger?.warn({ err: err.message }, 'mysql connection error'),
  )
  return new MysqlAdapter(connection, target, timeoutMs)
}

function isAccessDenied(err: unknown): boolean {
  return (err as { code?: unknown }).code === 'ER_ACCESS_DENIED_ERROR'
}

/**
 * MariaDB refuses a plain connection to a TLS-only account (REQUIRE SSL, require_secure_transport)
 * with the same "access denied" as a wrong password. Trying the same login over TLS — what the
 * mysql client's default ssl-mode=PREFERRED does — tells the two apart; the probe is closed at once.
 */
async function acceptsTls(config: mysql.ConnectionOptions): Promise<boolean> {
  try {
    const probe = await mysql.createConnection({ ...config, ssl: { rejectUnauthorized: false } })
    probe.destroy()
    return true
  } catch {
    return false
  }
}

async function abortable<T extends { destroy(): void }>(
  pending: Promise<T>,
  signal: AbortSignal | undefined,
): Promise<T> {
  if (signal === undefined) return pending
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      reject(abortError(signal))
      void pending.then((c) => c.destroy()).catch(() => undefined)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    pending.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(err instanceof Error ? err : new Error(String(err)))
      },
    )
  })
}

class MysqlAdapter implements SourceAdapter {
  readonly engine = 'mysql' as const
  readonly #connection: mysql.Connection
  readonly #target: ConnectionTarget
  readonly #timeoutMs: number
  #closed = false

  constructor(connection: mysql.Connection, target: ConnectionTarget, timeoutMs: number) {
    this.#connection = connection
    this.#target = target
    this.#timeoutMs = timeoutMs
  }

  async describe(options: { signal?: AbortSignal } = {}): Promise<ServerDescription> {
    const [server] = await this.#query<{
      version: string
      comment: string
      db: string | null
      user: string
    }>(
      'SELECT version() AS version, @@version_comment AS comment, database() AS db, current_user() AS user',
      [],
      options.signal,
    )
    if (server === undefined)
      throw new DbsnapError('INTERNAL', 'server returned no row for SELECT version()')
    const schemaFilter =
      server.db === null
        ? "table_schema NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')"
        : 'table_schema = ?'
    const params = server.db === null ? [] : [server.db]
    const [counts] = await this.#query<{
      tables: string
      views: string
      size: string | null
      schema_count: string
    }>(
      `SELECT sum(table_type = 'BASE TABLE') AS tables, sum(table_type = 'VIEW') AS views,
              sum(coalesce(data_length, 0) + coalesce(index_length, 0)) AS size,
              count(DISTINCT table_schema) AS schema_count
         FROM information_schema.tables WHERE ${schemaFilter}`,
      params,
      options.signal,
    )
    const grantee = granteeOf(server.user)
    const globalPrivileges = await this.#query<{ privilege_type: string; is_grantable: string }>(
      'SELECT privilege_type, is_grantable FROM information_schema.user_privileges WHERE grantee = ?',
      [grantee],
      options.signal,
    )
    const schemaPrivileges =
      server.db === null
        ? []
        : await this.#query<{ privilege_type: string }>(
            'SELECT privilege_type FROM information_schema.schema_privileges WHERE grantee = ? AND ? LIKE table_schema',
            [grantee, server.db],
            options.signal,
          )
    const held = new Set(
      [...globalPrivileges, ...schemaPrivileges].map((p) => p.privilege_type.toUpperCase()),
    )
    const superuser = [...held].some((p) => SUPER_PRIVILEGES.has(p))
    const excess = [...held].filter((p) => !BACKUP_PRIVILEGES.has(p)).sort()
    if (globalPrivileges.some((p) => p.is_grantable === 'YES')) excess.push('GRANT OPTION')
    const mariadb = /mariadb/i.test(server.version) || /mariadb/i.test(server.comment)
    return {
      engine: 'mysql',
      product: mariadb ? 'MariaDB' : 'MySQL',
      serverVersion: server.version.replace(/-MariaDB.*$/i, ''),
      host: this.#target.host,
      port: this.#target.port,
      database: server.db,
      sizeBytes: counts?.size == null ? 0 : Number(counts.size),
      objects: {
        tables: Number(counts?.tables ?? 0),
        views: Number(counts?.views ?? 0),
        ...(server.db === null ? { schemas: Number(counts?.schema_count ?? 0) } : {}),
      },
      currentUser: server.user,
      superuser,
      excessPrivileges: excess,
    }
  }

  openReadView(): Promise<ReadView> {
    return Promise.reject(
      new DbsnapError(
        'NOT_SUPPORTED',
        'snapshots of MySQL/MariaDB databases are not supported yet',
      ),
    )
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#connection.end().catch(() => this.#connection.destroy())
  }

  async #query<T>(sql: string, params: unknown[], signal: AbortSignal | undefined): Promise<T[]> {
    throwIfAborted(signal)
    try {
      const [rows] = await this.#connection.query({ sql, timeout: this.#timeoutMs }, params)
      return rows as T[]
    } catch (err) {
      if (signal?.aborted === true) throw abortError(signal)
      throw mysqlError(err, this.#target, this.#timeoutMs)
    }
  }
}

/** `user@host` as current_user() returns it -> `'user'@'host'` as information_schema writes it. */
function granteeOf(currentUser: string): string {
  const at = currentUser.lastIndexOf('@')
  const user = at === -1 ? currentUser : currentUser.slice(0, at)
  const host = at === -1 ? '%' : currentUser.slice(at + 1)
  return `'${user}'@'${host}'`
}
