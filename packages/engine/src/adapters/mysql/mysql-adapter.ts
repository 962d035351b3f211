// MySQL/MariaDB source adapter (mysql2): connects, describes the server and opens the
// consistent read view snapshots and live diffs read through.

import mysql from 'mysql2/promise'
import { DbsnapError, abortError, throwIfAborted } from '../../errors.js'
import type { ConnectionTarget } from '../../connection/url.js'
import type { QualifiedName, TableSchema } from '../../schema/schema.js'
import {
  DEFAULT_TIMEOUT_MS,
  type ConnectFn,
  type ReadTableOptions,
  type ReadView,
  type ServerDescription,
  type SourceAdapter,
} from '../source-adapter.js'
import { mysqlError, mysqlQueryError } from './mysql-errors.js'
import { granteeOf, introspectMysql } from './mysql-introspect.js'
import type { MysqlColumnExtra, MysqlTableExtra } from './mysql-schema-extra.js'
import { openMysqlConnection } from './mysql-connection.js'
import { beginReadView, quoteIdentifier, readTableRows } from './mysql-read.js'

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

export const connectMysql: ConnectFn = async (target, options) => {
  const { connection, config } = await openMysqlConnection(target, options)
  return new MysqlAdapter(connection, config, target, options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
}

class MysqlAdapter implements SourceAdapter {
  readonly engine = 'mysql' as const
  readonly #connection: mysql.Connection
  readonly #target: ConnectionTarget
  readonly #timeoutMs: number
  /** How to open another connection like this one, to cancel a statement running on it. */
  readonly #config: mysql.ConnectionOptions
  #closed = false

  constructor(
    connection: mysql.Connection,
    config: mysql.ConnectionOptions,
    target: ConnectionTarget,
    timeoutMs: number,
  ) {
    this.#connection = connection
    this.#config = config
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

  async openReadView(options: { signal?: AbortSignal } = {}): Promise<ReadView> {
    await beginReadView(this.#connection, {
      signal: options.signal,
      target: this.#target,
      lockWaitSeconds: this.#timeoutMs / 1000,
    })
    return new MysqlReadView(this.#connection, this.#target, (threadId) => this.#kill(threadId))
  }

  /** `KILL QUERY` from a short-lived second connection: the only way to stop a statement. */
  async #kill(threadId: number): Promise<void> {
    const killer = await mysql.createConnection(this.#config)
    try {
      await killer.query(`KILL QUERY ${Number(threadId)}`)
    } finally {
      killer.destroy()
    }
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

/** Tables touched per statement: keeps lock statements a sane length on huge schemas. */
const LOCK_BATCH = 500

class MysqlReadView implements ReadView {
  readonly #connection: mysql.Connection
  readonly #target: ConnectionTarget
  readonly #cancel: (threadId: number) => Promise<void>
  #closed = false

  constructor(
    connection: mysql.Connection,
    target: ConnectionTarget,
    cancel: (threadId: number) => Promise<void>,
  ) {
    this.#connection = connection
    this.#target = target
    this.#cancel = cancel
  }

  introspect(options: { signal?: AbortSignal } = {}): ReturnType<ReadView['introspect']> {
    return introspectMysql(this.#connection, { signal: options.signal, target: this.#target })
  }

  /**
   * Reads nothing from each table, inside the view's transaction: that takes the table's shared
   * metadata lock, which the transaction holds until it ends, so ALTER, DROP, TRUNCATE and
   * RENAME of these tables wait for the snapshot (as PostgreSQL's ACCESS SHARE makes them).
   * A table altered since the view began fails here with ER_TABLE_DEF_CHANGED, a dropped one
   * with ER_NO_SUCH_TABLE, and one locked by another session after lock_wait_timeout (the
   * connect timeout): all `SOURCE_CHANGED`.
   */
  async lockTables(tables: QualifiedName[], options: { signal?: AbortSignal } = {}): Promise<void> {
    try {
      for (let i = 0; i < tables.length; i += LOCK_BATCH) {
        throwIfAborted(options.signal)
        // LIMIT 1, not 0: MySQL answers LIMIT 0 without opening the table in the engine, where
        // InnoDB checks that the table is older than the transaction's snapshot.
        const touches = tables
          .slice(i, i + LOCK_BATCH)
          .map((t) => `(SELECT 1 FROM ${quoteIdentifier(t.name)} LIMIT 1)`)
        await this.#connection.query(touches.join(' UNION ALL '))
      }
    } catch (err) {
      if (options.signal?.aborted === true) throw abortError(options.signal)
      throw mysqlQueryError(err, this.#target)
    }
  }

  consistencyWarnings(tables: TableSchema[]): string[] {
    return tables
      .filter((t) => (t.extra as MysqlTableExtra | undefined)?.transactional === false)
      .map(
        (t) =>
          `table ${quoteIdentifier(t.name)} uses the ${(t.extra as MysqlTableExtra).engine ?? 'unknown'} engine, which has no transactions: its rows are read as they are when it is read, not as of the snapshot`,
      )
  }

  readTable(table: TableSchema, options: ReadTableOptions = {}): ReturnType<ReadView['readTable']> {
    return readTableRows(
      this.#connection,
      {
        name: table.name,
        columns: table.columns.map((c) => ({
          name: c.name,
          dataType: (c.extra as MysqlColumnExtra | undefined)?.dataType ?? 'text',
        })),
        primaryKey: table.primaryKey?.columns ?? null,
      },
      { ...options, target: this.#target, cancel: this.#cancel },
    )
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await this.#connection.query('ROLLBACK').catch(() => undefined)
  }
}
