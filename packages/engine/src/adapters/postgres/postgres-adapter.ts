// PostgreSQL source adapter (node-postgres). For now: connect and describe the server; schema
// introspection and row streaming arrive with the snapshot engine.

import pg from 'pg'
import { abortError, throwIfAborted } from '../../errors.js'
import type { ConnectionTarget } from '../../connection/url.js'
import type { ConnectFn, ServerDescription, SourceAdapter } from '../source-adapter.js'
import { isPlaintextRefusal, postgresError, tlsRequiredError } from './postgres-errors.js'

const DEFAULT_TIMEOUT_MS = 10_000

export const connectPostgres: ConnectFn = async (target, options) => {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const clientConfig: pg.ClientConfig = {
    connectionString: target.href,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
    application_name: options.applicationName ?? 'dbsnap',
  }
  const client = new pg.Client(clientConfig)
  // An idle client whose server goes away emits 'error'; without a listener Node would crash.
  client.on('error', (err) =>
    options.logger?.warn({ err: err.message }, 'postgres connection error'),
  )
  const signal = options.signal
  const onAbort = (): void => void client.end().catch(() => undefined)
  signal?.addEventListener('abort', onAbort, { once: true })
  try {
    throwIfAborted(signal)
    await client.connect()
  } catch (err) {
    await client.end().catch(() => undefined)
    if (signal?.aborted === true) throw abortError(signal)
    if (
      isPlaintextRefusal(err) &&
      !target.params.has('sslmode') &&
      (await acceptsTls(clientConfig))
    ) {
      throw tlsRequiredError(err, target)
    }
    throw postgresError(err, target, timeoutMs)
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
  return new PostgresAdapter(client, target, timeoutMs)
}

/**
 * Whether the server lets this user in over TLS where it refused plain text: what libpq's
 * default `sslmode=prefer` would have tried. Only used to tell "TLS required" from "no access";
 * the connection is closed at once either way.
 */
async function acceptsTls(config: pg.ClientConfig): Promise<boolean> {
  const probe = new pg.Client({ ...config, ssl: { rejectUnauthorized: false } })
  probe.on('error', () => undefined)
  try {
    await probe.connect()
    return true
  } catch (err) {
    // Past pg_hba over TLS (only the password is wrong now): TLS is what the plain attempt lacked.
    return (err as { code?: unknown }).code === '28P01'
  } finally {
    await probe.end().catch(() => undefined)
  }
}

class PostgresAdapter implements SourceAdapter {
  readonly engine = 'postgres' as const
  readonly #client: pg.Client
  readonly #target: ConnectionTarget
  readonly #timeoutMs: number
  #closed = false

  constructor(client: pg.Client, target: ConnectionTarget, timeoutMs: number) {
    this.#client = client
    this.#target = target
    this.#timeoutMs = timeoutMs
  }

  async describe(options: { signal?: AbortSignal } = {}): Promise<ServerDescription> {
    const server = await this.#one<{
      database: string
      current_user: string
      server_version: string
      size: string
      rolsuper: boolean
      rolcreaterole: boolean
      rolcreatedb: boolean
      rolreplication: boolean
      rolbypassrls: boolean
      write_all: boolean
    }>(
      `SELECT current_database() AS database, current_user, current_setting('server_version') AS server_version,
              pg_database_size(current_database())::text AS size,
              r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication, r.rolbypassrls,
              coalesce(pg_has_role(current_user, 'pg_write_all_data', 'USAGE'), false) AS write_all
         FROM pg_roles r WHERE r.rolname = current_user`,
      options.signal,
    )
    const counts = await this.#one<{
      tables: number
      views: number
      schemas: number
      writable: number
    }>(
      `SELECT count(*) FILTER (WHERE c.relkind IN ('r', 'p'))::int AS tables,
              count(*) FILTER (WHERE c.relkind IN ('v', 'm'))::int AS views,
              (SELECT count(*)::int FROM pg_namespace n
                WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%') AS schemas,
              count(*) FILTER (WHERE c.relkind IN ('r', 'p')
                AND has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE'))::int AS writable
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'`,
      options.signal,
    )
    const excess: string[] = []
    if (server.rolsuper) excess.push('SUPERUSER')
    if (server.rolcreaterole) excess.push('CREATEROLE')
    if (server.rolcreatedb) excess.push('CREATEDB')
    if (server.rolreplication) excess.push('REPLICATION')
    if (server.rolbypassrls) excess.push('BYPASSRLS')
    if (server.write_all) excess.push('pg_write_all_data')
    if (counts.writable > 0) {
      excess.push(
        `INSERT/UPDATE/DELETE/TRUNCATE on ${counts.writable} table${counts.writable === 1 ? '' : 's'}`,
      )
    }
    return {
      engine: 'postgres',
      product: 'PostgreSQL',
      serverVersion: server.server_version.split(' ')[0] ?? server.server_version,
      host: this.#target.host,
      port: this.#target.port,
      database: server.database,
      sizeBytes: Number(server.size),
      objects: { tables: counts.tables, views: counts.views, schemas: counts.schemas },
      currentUser: server.current_user,
      superuser: server.rolsuper,
      excessPrivileges: excess,
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#client.end().catch(() => undefined)
  }

  async #one<T>(sql: string, signal: AbortSignal | undefined): Promise<T> {
    throwIfAborted(signal)
    try {
      const result = await this.#client.query(sql)
      return result.rows[0] as T
    } catch (err) {
      if (signal?.aborted) throw abortError(signal)
      throw postgresError(err, this.#target, this.#timeoutMs)
    }
  }
}
