// PostgreSQL source adapter (node-postgres): connects, describes the server and opens the
// consistent read view snapshots and live diffs read through.

import { aborted } from 'node:util'
import pg from 'pg'
import { abortError, throwIfAborted } from '../../errors.js'
import type { ConnectionTarget } from '../../connection/url.js'
import type { QualifiedName, TableSchema } from '../../schema/schema.js'
import {
  DEFAULT_TIMEOUT_MS,
  type ConnectFn,
  type ConnectOptions,
  type OpenReadViewOptions,
  type ReadTableOptions,
  type ReadView,
  type ServerDescription,
  type ServerIdentity,
  type SourceAdapter,
  type TableReader,
} from '../source-adapter.js'
import {
  isPlaintextRefusal,
  postgresError,
  postgresQueryError,
  tlsRequiredError,
} from './postgres-errors.js'
import { introspectPostgres } from './postgres-introspect.js'
import { beginReadView, readTableRows } from './postgres-read.js'

export const connectPostgres: ConnectFn = async (target, options) => {
  const client = await openPostgresClient(target, options)
  return new PostgresAdapter(client, target, options)
}

/**
 * A connected pg.Client for `target`, failures mapped as `postgresError` does (TLS required
 * told from no access): shared by the source and the target adapter.
 */
export async function openPostgresClient(
  target: ConnectionTarget,
  options: ConnectOptions,
): Promise<pg.Client> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  const clientConfig: pg.ClientConfig = {
    connectionString: target.href,
    connectionTimeoutMillis: timeoutMs,
    // Long COPYs must not time out client-side; a dead peer is noticed through keepalives.
    keepAlive: true,
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
    const connecting = client.connect()
    // node-postgres never settles connect() once end() closes a connection still starting up
    // (its 'end' handler calls back only for an end nobody asked for): wait for the abort too.
    await (signal === undefined ? connecting : Promise.race([connecting, aborted(signal, client)]))
    throwIfAborted(signal)
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
  return client
}

/**
 * Ends `client` as libpq's `PQfinish` does: the Terminate message, then the socket closed at
 * once. node-postgres' `end()` waits for the server to close its side first, which takes as long
 * as the backend's exit (10-20 ms on a small machine, a round trip more across a network) for
 * nothing: the server ends the session on Terminate. Never throws.
 */
export async function finishClient(client: pg.Client): Promise<void> {
  const ended = client.end().catch(() => undefined)
  const stream = client.connection.stream
  // Terminate flushed and the socket half-closed: nothing more is needed from the server.
  if (!stream.destroyed) stream.once('finish', () => stream.destroy())
  await ended
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
  /** How the first connection was opened: the view's extra readers are opened the same way. */
  readonly #connectOptions: ConnectOptions
  /** The open read view, whose reader connections `close` ends too. */
  #view: PostgresReadView | undefined
  #closed = false

  constructor(client: pg.Client, target: ConnectionTarget, options: ConnectOptions) {
    this.#client = client
    this.#target = target
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
    this.#connectOptions = { ...options, signal: undefined }
  }

  describe(options: { signal?: AbortSignal } = {}): Promise<ServerDescription> {
    return describePostgres(this.#client, this.#target, this.#timeoutMs, options.signal)
  }

  identify(options: { signal?: AbortSignal } = {}): Promise<ServerIdentity> {
    return identifyPostgres(this.#client, this.#target, this.#timeoutMs, options.signal)
  }

  async openReadView(options: OpenReadViewOptions = {}): Promise<ReadView> {
    const { signal } = options
    const wanted = Math.max(1, options.readers ?? 1)
    // The extra readers connect while the view begins on this connection; they join its
    // snapshot once it is exported.
    const connecting = wanted > 1 ? this.#connectReaders(wanted - 1, signal) : undefined
    try {
      await this.#begin(this.#client, signal)
    } catch (err) {
      if (connecting !== undefined) await endAll(connected(await connecting))
      throw err
    }
    const view = new PostgresReadView(this.#client, this.#target)
    this.#view = view
    if (connecting !== undefined) {
      try {
        view.addReaders(await this.#openReaders(await connecting, signal))
      } catch (err) {
        if (signal?.aborted === true) {
          await view.close()
          throw abortError(signal)
        }
        // More connections are an optimization: without them the view still reads everything.
        // A failed export leaves the view's transaction aborted; nothing was read in it yet, so
        // it begins again.
        if (this.#client.getTransactionStatus() === 'E') {
          await this.#client.query('ROLLBACK').catch(() => undefined)
          await this.#begin(this.#client, signal)
        }
        const reason = err instanceof Error ? err.message : String(err)
        view.readersWarning = `tables are read on one connection: opening ${wanted - 1} more failed (${reason})`
      }
    }
    return view
  }

  /**
   * Begins a read view on `client`, of a fresh snapshot or of the exported `snapshot`. Never
   * waits forever behind a schema change's lock (introspection, LOCK TABLE, and a reader's own
   * ACCESS SHARE lock queued behind an ALTER that waits for the view's: a deadlock the server
   * cannot see, as it runs through this process): the transaction's `lock_timeout` is the
   * connection's timeout.
   */
  async #begin(client: pg.Client, signal?: AbortSignal, snapshot?: string): Promise<void> {
    await beginReadView(client, {
      signal,
      target: this.#target,
      snapshot,
      lockTimeoutMs: this.#timeoutMs,
    })
  }

  /** `count` more connections, opened at once; each settles on its own. */
  #connectReaders(
    count: number,
    signal: AbortSignal | undefined,
  ): Promise<PromiseSettledResult<pg.Client>[]> {
    return Promise.allSettled(
      Array.from({ length: count }, () =>
        openPostgresClient(this.#target, { ...this.#connectOptions, signal }),
      ),
    )
  }

  /**
   * The connected readers in the view's snapshot: the view exports it (`pg_export_snapshot`)
   * and each imports it, as pg_dump -j does. The view's transaction keeps the table locks; the
   * snapshot stays importable while that transaction is open. All or none are returned: when
   * one failed to connect or to begin, the others are closed and the failure thrown.
   */
  async #openReaders(
    opening: PromiseSettledResult<pg.Client>[],
    signal: AbortSignal | undefined,
  ): Promise<pg.Client[]> {
    const clients = connected(opening)
    try {
      const failed = opening.find((o) => o.status === 'rejected')
      if (failed !== undefined) throw failed.reason
      let snapshot: string
      try {
        const exported = await this.#client.query<{ id: string }>(
          'SELECT pg_export_snapshot() AS id',
        )
        snapshot = exported.rows[0]!.id
      } catch (err) {
        throw postgresQueryError(err, this.#target)
      }
      await Promise.all(clients.map((client) => this.#begin(client, signal, snapshot)))
      return clients
    } catch (err) {
      await endAll(clients)
      throw err
    }
  }

  /**
   * Closes the connection and those of an open read view, all at once: the view's transaction
   * ends with them, without the round trip of a ROLLBACK.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await Promise.all([this.#view?.endReaders(), finishClient(this.#client)])
  }
}

/** The connections that opened. */
function connected(opening: PromiseSettledResult<pg.Client>[]): pg.Client[] {
  return opening.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []))
}

/** Closes `clients`, whatever each one's state. */
async function endAll(clients: pg.Client[]): Promise<void> {
  await Promise.all(clients.map(finishClient))
}

/** Tables locked per statement: keeps LOCK statements a sane length on huge schemas. */
const LOCK_BATCH = 500

class PostgresReadView implements ReadView {
  readonly #client: pg.Client
  readonly #target: ConnectionTarget
  readonly #readers: TableReader[] = [this]
  /** The extra readers' connections, which the view closes. */
  readonly #readerClients: pg.Client[] = []
  readersWarning: string | undefined
  #closed = false

  constructor(client: pg.Client, target: ConnectionTarget) {
    this.#client = client
    this.#target = target
  }

  get readers(): readonly TableReader[] {
    return this.#readers
  }

  /** Takes over connections already in the view's snapshot (`#openReaders`). */
  addReaders(clients: pg.Client[]): void {
    for (const client of clients) {
      this.#readerClients.push(client)
      // The reader claims each table in its read's own query (`ReadTableRowsOptions.claim`).
      this.#readers.push({
        readTable: (table, options = {}) =>
          readPostgresTable(client, table, { ...options, claim: true }, this.#target),
      })
    }
  }

  introspect(options: { signal?: AbortSignal } = {}): ReturnType<ReadView['introspect']> {
    return introspectPostgres(this.#client, {
      signal: options.signal,
      target: this.#target,
      // Idle until the rows are read, and in the same snapshot.
      helpers: this.#readerClients,
    })
  }

  async lockTables(tables: QualifiedName[], options: { signal?: AbortSignal } = {}): Promise<void> {
    const client = this.#client
    try {
      for (let i = 0; i < tables.length; i += LOCK_BATCH) {
        throwIfAborted(options.signal)
        const names = tables
          .slice(i, i + LOCK_BATCH)
          .map((t) => `${client.escapeIdentifier(t.schema)}.${client.escapeIdentifier(t.name)}`)
        await client.query(`LOCK TABLE ${names.join(', ')} IN ACCESS SHARE MODE`)
      }
    } catch (err) {
      if (options.signal?.aborted === true) throw abortError(options.signal)
      throw postgresQueryError(err, this.#target)
    }
  }

  readTable(table: TableSchema, options: ReadTableOptions = {}): ReturnType<ReadView['readTable']> {
    return readPostgresTable(this.#client, table, options, this.#target)
  }

  async close(): Promise<void> {
    if (this.#closed) return
    // A reader's transaction ends with its connection; the view's connection is the adapter's.
    await Promise.all([this.#client.query('ROLLBACK').catch(() => undefined), this.endReaders()])
  }

  /** Ends the readers' connections, and so the view: the adapter is closing its own. */
  async endReaders(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await endAll(this.#readerClients)
  }
}

function readPostgresTable(
  client: pg.Client,
  table: TableSchema,
  options: ReadTableOptions & { claim?: boolean },
  target: ConnectionTarget,
): ReturnType<ReadView['readTable']> {
  return readTableRows(
    client,
    {
      schema: table.schema,
      name: table.name,
      columns: table.columns.map((c) => ({ name: c.name, encoding: c.encoding, type: c.type })),
      primaryKey: table.primaryKey?.columns ?? null,
    },
    { ...options, target },
  )
}

/** The one row `sql` returns on an open client, within `timeoutMs`. */
async function oneRow<T>(
  client: pg.Client,
  sql: string,
  target: ConnectionTarget,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<T> {
  throwIfAborted(signal)
  try {
    // node-postgres honours a per-query `query_timeout` its types do not declare.
    const query = { text: sql, query_timeout: timeoutMs } as pg.QueryConfig
    const result = await client.query(query)
    return result.rows[0] as T
  } catch (err) {
    if (signal?.aborted) throw abortError(signal)
    throw postgresError(err, target, timeoutMs)
  }
}

/**
 * Who answers, on an open client: the source adapter's `identify`, and the target adapter's.
 * Nothing more: on a fresh connection `describePostgres`'s catalog reads and the database's
 * size take several times as long.
 */
export async function identifyPostgres(
  client: pg.Client,
  target: ConnectionTarget,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<ServerIdentity> {
  const server = await oneRow<{ database: string; server_version: string }>(
    client,
    "SELECT current_database() AS database, current_setting('server_version') AS server_version",
    target,
    timeoutMs,
    signal,
  )
  return identity(server, target)
}

function identity(
  server: { database: string; server_version: string },
  target: ConnectionTarget,
): ServerIdentity {
  return {
    engine: 'postgres',
    product: 'PostgreSQL',
    serverVersion: server.server_version.split(' ')[0] ?? server.server_version,
    host: target.host,
    port: target.port,
    database: server.database,
  }
}

/** The server, the user and what it may do beyond reading, on an open client. */
export async function describePostgres(
  client: pg.Client,
  target: ConnectionTarget,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<ServerDescription> {
  // One round trip: the server and the role, and what the database holds.
  const server = await oneRow<{
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
    tables: number
    views: number
    schemas: number
    writable: number
  }>(
    client,
    `SELECT current_database() AS database, current_user, current_setting('server_version') AS server_version,
            pg_database_size(current_database())::text AS size,
            r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolreplication, r.rolbypassrls,
            coalesce(pg_has_role(current_user, 'pg_write_all_data', 'USAGE'), false) AS write_all,
            counts.*
       FROM pg_roles r,
            (SELECT count(*) FILTER (WHERE c.relkind IN ('r', 'p'))::int AS tables,
                    count(*) FILTER (WHERE c.relkind IN ('v', 'm'))::int AS views,
                    (SELECT count(*)::int FROM pg_namespace n
                      WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%') AS schemas,
                    count(*) FILTER (WHERE c.relkind IN ('r', 'p')
                      AND has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE'))::int AS writable
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
              WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%') counts
      WHERE r.rolname = current_user`,
    target,
    timeoutMs,
    signal,
  )
  const excess: string[] = []
  if (server.rolsuper) excess.push('SUPERUSER')
  if (server.rolcreaterole) excess.push('CREATEROLE')
  if (server.rolcreatedb) excess.push('CREATEDB')
  if (server.rolreplication) excess.push('REPLICATION')
  if (server.rolbypassrls) excess.push('BYPASSRLS')
  if (server.write_all) excess.push('pg_write_all_data')
  if (server.writable > 0) {
    excess.push(
      `INSERT/UPDATE/DELETE/TRUNCATE on ${server.writable} table${server.writable === 1 ? '' : 's'}`,
    )
  }
  return {
    ...identity(server, target),
    sizeBytes: Number(server.size),
    objects: { tables: server.tables, views: server.views, schemas: server.schemas },
    currentUser: server.current_user,
    superuser: server.rolsuper,
    excessPrivileges: excess,
  }
}
