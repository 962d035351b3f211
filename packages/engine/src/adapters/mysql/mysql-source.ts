// MySQL/MariaDB source adapter (mysql2): connects, describes the server and opens the
// consistent read view snapshots and live diffs read through.

import mysql from 'mysql2/promise'
import { DbsnapError, abortError, throwIfAborted } from '../../errors.js'
import type { ConnectionTarget } from '../../connection/url.js'
import type { QualifiedName, TableSchema } from '../../schema/schema.js'
import {
  DEFAULT_TIMEOUT_MS,
  type ConnectFn,
  type OpenReadViewOptions,
  type ReadTableOptions,
  type ReadView,
  type ServerDescription,
  type ServerIdentity,
  type SourceAdapter,
  type TableReader,
} from '../source-adapter.js'
import { mysqlError, mysqlQueryError } from './mysql-errors.js'
import { granteeOf, introspectMysql } from './mysql-introspect.js'
import type { MysqlColumnExtra, MysqlTableExtra } from './mysql-schema-extra.js'
import { abortable, openMysqlConnection } from './mysql-connection.js'
import { beginReadView, quoteIdentifier, readTableRows } from './mysql-read.js'
import { beginViewConnections } from './mysql-readers.js'

/** Global privileges a snapshot needs; anything else an account holds is reported as excess. */
const BACKUP_PRIVILEGES = new Set([
  'SELECT',
  'SHOW VIEW',
  'TRIGGER',
  'EVENT',
  'LOCK TABLES',
  // FLUSH TABLES WITH READ LOCK, held for a moment to begin parallel readers in one snapshot.
  'RELOAD',
  'PROCESS',
  'SHOW DATABASES',
  'USAGE',
  'BINLOG MONITOR',
  'REPLICATION CLIENT',
  'SLAVE MONITOR',
  'REPLICA MONITOR',
])
const SUPER_PRIVILEGES = new Set(['SUPER', 'ALL PRIVILEGES'])

/** What `SELECT version(), …` returns: the server and the connection's database and user. */
interface ServerRow {
  version: string
  comment: string
  db: string | null
  user: string
}

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
  /** The open read view, whose reader connections `close` ends too. */
  #view: MysqlReadView | undefined
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

  async identify(options: { signal?: AbortSignal } = {}): Promise<ServerIdentity> {
    return this.#identity(await this.#server(options.signal))
  }

  async describe(options: { signal?: AbortSignal } = {}): Promise<ServerDescription> {
    const server = await this.#server(options.signal)
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
    return {
      ...this.#identity(server),
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

  /** The server's version and product, and the connection's database and user: one query. */
  async #server(signal: AbortSignal | undefined): Promise<ServerRow> {
    const [server] = await this.#query<ServerRow>(
      'SELECT version() AS version, @@version_comment AS comment, database() AS db, current_user() AS user',
      [],
      signal,
    )
    if (server === undefined)
      throw new DbsnapError('INTERNAL', 'server returned no row for SELECT version()')
    return server
  }

  #identity(server: ServerRow): ServerIdentity {
    const mariadb = /mariadb/i.test(server.version) || /mariadb/i.test(server.comment)
    return {
      engine: 'mysql',
      product: mariadb ? 'MariaDB' : 'MySQL',
      serverVersion: server.version.replace(/-MariaDB.*$/i, ''),
      host: this.#target.host,
      port: this.#target.port,
      database: server.db,
    }
  }

  async openReadView(options: OpenReadViewOptions = {}): Promise<ReadView> {
    const { signal } = options
    const opened = await beginViewConnections(
      this.#connection,
      Math.max(1, options.readers ?? 1) - 1,
      {
        open: async () => {
          const connection = await abortable(mysql.createConnection(this.#config), signal)
          connection.on('error', () => undefined)
          return connection
        },
        begin: (connection) =>
          beginReadView(connection, {
            signal,
            target: this.#target,
            // The view waits for locks up to the timeout; a reader gives a table back instead.
            lockWaitSeconds:
              connection === this.#connection ? this.#timeoutMs / 1000 : READER_LOCK_WAIT_SECONDS,
          }),
        signal,
      },
    )
    this.#view = new MysqlReadView(this.#connection, this.#target, {
      cancel: (threadId) => this.#kill(threadId),
      readers: opened.readers,
      readersWarning: opened.warning,
    })
    return this.#view
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

  /**
   * Closes the connection and those of an open read view, all at once: the view's transaction
   * ends with them, without the round trip of a ROLLBACK.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await Promise.all([
      this.#view?.endReaders(),
      this.#connection.end().catch(() => this.#connection.destroy()),
    ])
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

/**
 * How long an extra reader waits for a table's metadata lock before leaving the table to the
 * view, which holds the lock already (`claim`). MySQL's shortest `lock_wait_timeout`.
 */
const READER_LOCK_WAIT_SECONDS = 1

/** Tables touched per statement: keeps lock statements a sane length on huge schemas. */
const LOCK_BATCH = 500

class MysqlReadView implements ReadView {
  readonly #connection: mysql.Connection
  readonly #target: ConnectionTarget
  readonly #cancel: (threadId: number) => Promise<void>
  /** The extra readers' connections, which the view closes. */
  readonly #readerConnections: mysql.Connection[]
  readonly readers: readonly TableReader[]
  readonly readersWarning: string | undefined
  #closed = false

  constructor(
    connection: mysql.Connection,
    target: ConnectionTarget,
    options: {
      cancel: (threadId: number) => Promise<void>
      /** Connections in transactions of this view's snapshot. */
      readers: mysql.Connection[]
      readersWarning: string | undefined
    },
  ) {
    this.#connection = connection
    this.#target = target
    this.#cancel = options.cancel
    this.#readerConnections = options.readers
    this.readers = [
      this,
      ...options.readers.map((reader): TableReader => ({
        readTable: (table, readOptions = {}) => this.#read(reader, table, readOptions),
        claim: (table, claimOptions = {}) => this.#claim(reader, table, claimOptions.signal),
      })),
    ]
    this.readersWarning = options.readersWarning
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

  /**
   * Touches `table` on a reader, as `lockTables` does on the view, waiting at most the reader's
   * `lock_wait_timeout` (`READER_LOCK_WAIT_SECONDS`) for its metadata lock: false when that runs
   * out, as it does behind an ALTER that waits for the view's own lock.
   */
  async #claim(
    reader: mysql.Connection,
    table: QualifiedName,
    signal: AbortSignal | undefined,
  ): Promise<boolean> {
    throwIfAborted(signal)
    try {
      await reader.query(`SELECT 1 FROM ${quoteIdentifier(table.name)} LIMIT 1`)
      return true
    } catch (err) {
      if ((err as { code?: unknown }).code === 'ER_LOCK_WAIT_TIMEOUT') return false
      if (signal?.aborted === true) throw abortError(signal)
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
    return this.#read(this.#connection, table, options)
  }

  #read(
    connection: mysql.Connection,
    table: TableSchema,
    options: ReadTableOptions,
  ): ReturnType<ReadView['readTable']> {
    return readTableRows(
      connection,
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
    // A reader's transaction ends with its connection; the view's connection is the adapter's.
    await Promise.all([
      this.#connection.query('ROLLBACK').catch(() => undefined),
      this.endReaders(),
    ])
  }

  /** Ends the readers' connections, and so the view: the adapter is closing its own. */
  async endReaders(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await Promise.all(
      this.#readerConnections.map((reader) => reader.end().catch(() => reader.destroy())),
    )
  }
}
