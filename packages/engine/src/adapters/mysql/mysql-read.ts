// Streams a MySQL/MariaDB table's rows as canonical rows: one `SELECT … ORDER BY <key>` inside
// the consistent read view, converted as rows arrive, with backpressure down to the socket.

import { batchLimits, type BatchedReadOptions } from '../batch-limits.js'
import type mysql from 'mysql2'
import type { Connection as PromiseConnection } from 'mysql2/promise'
import type { CanonicalRow, CanonicalValue } from '../../canonical/value-encoding.js'
import type { ConnectionTarget } from '../../connection/url.js'
import { DbsnapError, abortError, isDbsnapError, throwIfAborted } from '../../errors.js'
import { keysetQuery, type KeysetDialect } from '../keyset-query.js'
import { mysqlQueryError } from './mysql-errors.js'
import {
  MYSQL_SESSION_SETTINGS,
  canonicalToMysqlLiteral,
  mysqlConversion,
  mysqlSelectExpression,
  mysqlValueKind,
  type DriverValue,
  type MysqlValueKind,
} from './mysql-values.js'

/** A column to read. */
export interface ReadColumnSpec {
  name: string
  /** `information_schema.columns.data_type` (`int`, `float`, `varbinary`, `point`…). */
  dataType: string
}

/** The table to read (in the connection's current database): columns in table order, and key. */
export interface ReadTableSpec {
  name: string
  columns: ReadColumnSpec[]
  /** Primary-key column names in key order, or null for a table without one. */
  primaryKey: string[] | null
}

/** Batches of at most 1000 rows and about 1 MiB of text by default (numbers not counted). */
export interface ReadTableRowsOptions extends BatchedReadOptions {
  /** The connection's target, for error messages. */
  target: ConnectionTarget
  /**
   * Stops the statement running on the connection with this thread id, from another connection
   * (`KILL QUERY`). Used when the read stops early; without it, or when it fails, stopping
   * early closes the connection instead.
   */
  cancel?: (threadId: number) => Promise<void>
}

const DEFAULT_BATCH_ROWS = 1000
const DEFAULT_BATCH_BYTES = 1024 * 1024
/**
 * How long stopping a read may take, for the cancel to reach the server and then for the
 * statement to end, before the connection is destroyed instead.
 */
const CANCEL_GRACE_MS = 5000
/**
 * How many leading bytes of a value order the rows of a table without a primary key before its
 * digest does (`keylessSortKey`); within the `max_sort_length` the session pins.
 */
const KEYLESS_PREFIX_BYTES = 64

/** Connections with a read in progress: a second query would queue behind the first. */
const busy = new WeakSet<mysql.Connection>()

/**
 * The callback connection under mysql2's promise wrapper, which the wrapper keeps but its types
 * do not declare: only it streams a result's rows as events and can pause the socket.
 */
function coreOf(connection: PromiseConnection): mysql.Connection {
  return (connection as unknown as { connection: mysql.Connection }).connection
}

/** The socket under a mysql2 connection, which its types do not declare. */
function socketOf(core: mysql.Connection): { destroy(): void } {
  return (core as unknown as { stream: { destroy(): void } }).stream
}

/** `name` as a MySQL identifier: backquoted, inner backquotes doubled. */
export function quoteIdentifier(name: string): string {
  return `\`${name.replaceAll('`', '``')}\``
}

/**
 * Opens the consistent read view on a connection: pins `MYSQL_SESSION_SETTINGS` and
 * `lock_wait_timeout`, then `START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY` at
 * REPEATABLE READ, which takes InnoDB's snapshot at once: every later read of an InnoDB table
 * sees the database as of when this resolves. End the view with `ROLLBACK`.
 *
 * Tables of other engines (MyISAM, Aria, MEMORY) have no snapshot: they are read as they are
 * when read. Tables are not locked: touch them inside the view (`lockTables`) to hold their
 * metadata locks, which keep ALTER and DROP out until the view ends.
 *
 * @param lockWaitSeconds - how long a statement may wait for a metadata lock another session
 *   holds (a running ALTER, LOCK TABLES … WRITE) before failing with `SOURCE_CHANGED`.
 */
export async function beginReadView(
  connection: PromiseConnection,
  options: { signal?: AbortSignal; target: ConnectionTarget; lockWaitSeconds: number },
): Promise<void> {
  const { signal } = options
  throwIfAborted(signal)
  const settings = Object.entries({
    ...MYSQL_SESSION_SETTINGS,
    lock_wait_timeout: String(Math.max(1, Math.ceil(options.lockWaitSeconds))),
  }).map(([name, value]) => `${name} = ${value}`)
  try {
    await connection.query(`SET SESSION ${settings.join(', ')}`)
    await connection.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ')
    await connection.query('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY')
  } catch (err) {
    if (signal?.aborted === true) throw abortError(signal)
    throw mysqlQueryError(err, options.target)
  }
  if (signal?.aborted === true) {
    await connection.query('ROLLBACK').catch(() => undefined)
    throw abortError(signal)
  }
}

/**
 * Rows of one table in primary-key order (full-row order when there is no PK), as canonical
 * rows, in batches of at most `batchRows` rows and about `batchBytes`.
 *
 * The rows come from one unbuffered `SELECT`, converted as the driver parses them. Once a batch
 * is full and the consumer has not yet asked for it, the connection is paused: the socket, then
 * the server wait, so at most one batch beyond the one the consumer holds is in memory,
 * whatever the table size. Call inside `beginReadView`; one read at a time per connection.
 *
 * Order: by the primary-key columns (in their collations, as the key's index, which is the
 * clustered index on InnoDB: a sequential scan). Without a primary key, by every column in table
 * order: numbers by value, everything else by its bytes (`CAST(… AS BINARY)`; a value longer than
 * 64 bytes by its first 64 and then its digest, see `keylessSortKey`), so the order does not
 * depend on collations, under which rows that differ can compare equal, nor needs more than the
 * server's default sort buffer. `afterKey` resumes strictly after that key and needs a primary
 * key.
 *
 * Stopping early (`break`, `return()`) or aborting through the signal ends the statement with
 * `options.cancel` (KILL QUERY from another connection) and discards what is still in flight,
 * so the read view stays usable; without `cancel`, or when that fails within 5 s, the
 * connection is destroyed, and the read view with it.
 *
 * @throws `ABORTED`; `SOURCE_CHANGED` (table gone, altered since the view began, or locked);
 *   `CONNECTION_LOST`; `CONNECTION_PRIVILEGE_MISSING` (no SELECT); `QUERY_FAILED`;
 *   `INVALID_ARGUMENT` for a bad spec or `afterKey`.
 *
 * @example
 * await beginReadView(connection, { target, lockWaitSeconds: 10 })
 * for await (const batch of readTableRows(connection, spec, { target, afterKey: [41] })) write(batch)
 */
export async function* readTableRows(
  connection: PromiseConnection,
  table: ReadTableSpec,
  options: ReadTableRowsOptions,
): AsyncGenerator<CanonicalRow[], void, undefined> {
  const { signal } = options
  const { rows: batchRows, bytes: batchBytes } = batchLimits(options, {
    rows: DEFAULT_BATCH_ROWS,
    bytes: DEFAULT_BATCH_BYTES,
  })
  throwIfAborted(signal)
  const relation = quoteIdentifier(table.name)
  const kinds = table.columns.map((c) => mysqlValueKind(c.dataType))
  const sql = selectStatement(connection, table, kinds, relation, options.afterKey)
  const core = coreOf(connection)
  if (busy.has(core)) {
    throw new DbsnapError(
      'INVALID_ARGUMENT',
      `cannot read ${relation}: another read is still running on this connection`,
    )
  }
  busy.add(core)
  const conversions = kinds.flatMap((kind, index) => {
    const convert = mysqlConversion(kind)
    return convert === null ? [] : [{ index, convert }]
  })
  const columnCount = kinds.length

  // Filled by the driver's events, emptied by the loop below.
  const full: CanonicalRow[][] = []
  let batch: CanonicalRow[] = []
  let bytes = 0
  let ended = false
  let failure: Error | undefined
  let paused = false
  let stopped = false
  let wake: (() => void) | undefined
  let settle: () => void = () => undefined
  /** Resolves when the statement has ended on the connection, with its last row or an error. */
  const settled = new Promise<void>((resolve) => {
    settle = resolve
  })
  const notify = (): void => {
    const resolve = wake
    wake = undefined
    resolve?.()
  }
  const onAbort = (): void => notify()
  // mysql2 reports some failures on the connection rather than the query: a query added to a
  // closed connection, a fatal error between statements.
  const onConnectionError = (err: Error): void => {
    failure ??= err
    notify()
  }

  try {
    core.on('error', onConnectionError)
    const query = core.query({ sql, rowsAsArray: true })
    query.on('result', (fields: unknown) => {
      if (stopped) return
      const row = fields as (DriverValue | CanonicalValue)[]
      for (const { index, convert } of conversions) {
        row[index] = convert((row[index] ?? null) as DriverValue)
      }
      let size = columnCount
      for (let i = 0; i < columnCount; i++) {
        const value = row[i]
        if (typeof value === 'string') size += value.length
      }
      batch.push(row as CanonicalRow)
      bytes += size
      if (batch.length >= batchRows || bytes >= batchBytes) {
        full.push(batch)
        batch = []
        bytes = 0
        if (!paused) {
          paused = true
          core.pause()
        }
        notify()
      }
    })
    query.on('error', (err: Error) => {
      failure = err
      settle()
      notify()
    })
    query.on('end', () => {
      ended = true
      settle()
      notify()
    })
    signal?.addEventListener('abort', onAbort, { once: true })

    for (;;) {
      const next = full.shift()
      if (next !== undefined) {
        yield next
        throwIfAborted(signal)
        continue
      }
      if (failure !== undefined) throw failure
      if (ended) break
      if (paused) {
        // Resuming delivers the rows queued while paused at once, which may fill and pause
        // again: look at the queue before waiting for more.
        paused = false
        core.resume()
        continue
      }
      await new Promise<void>((resolve) => {
        wake = resolve
      })
      throwIfAborted(signal)
    }
    if (batch.length > 0) yield batch
  } catch (err) {
    if (signal?.aborted === true) throw abortError(signal)
    if (isDbsnapError(err)) throw err
    throw mysqlQueryError(err, options.target, { table: relation })
  } finally {
    stopped = true
    signal?.removeEventListener('abort', onAbort)
    if (!ended && failure === undefined) await stopStatement(core, settled, options.cancel)
    core.off('error', onConnectionError)
    busy.delete(core)
  }
}

/**
 * Ends a statement that is still sending rows. MySQL cannot cancel a statement in-band, and
 * reading the rest could take as long as the table: `cancel` kills it from another connection,
 * then what is still in flight is discarded until the server's "query interrupted" (the
 * transaction, its snapshot and the connection stay usable). When that is not possible within
 * the grace period the connection is destroyed. mysql2's destroy only ends our half: the server,
 * blocked writing rows nobody reads, would keep its thread and metadata locks until
 * net_write_timeout, so the socket goes too, which fails that write at once.
 */
async function stopStatement(
  core: mysql.Connection,
  settled: Promise<void>,
  cancel: ((threadId: number) => Promise<void>) | undefined,
): Promise<void> {
  if (cancel !== undefined) {
    const killed = await within(
      cancel(core.threadId).then(
        () => true,
        () => false,
      ),
      false,
    )
    if (killed) {
      core.resume()
      if (
        await within(
          settled.then(() => true),
          false,
        )
      )
        return
    }
  }
  core.destroy()
  socketOf(core).destroy()
}

/** `promise`'s value, or `fallback` once CANCEL_GRACE_MS have passed. */
async function within<T>(promise: Promise<T>, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), CANCEL_GRACE_MS)
  })
  try {
    return await Promise.race([promise, deadline])
  } finally {
    clearTimeout(timer)
  }
}

/** The SELECT statement for a read; validates the key spec and `afterKey`. */
function selectStatement(
  connection: PromiseConnection,
  table: ReadTableSpec,
  kinds: MysqlValueKind[],
  relation: string,
  afterKey: CanonicalValue[] | undefined,
): string {
  const dialect = mysqlKeyset(connection, kinds)
  const { select, where, orderBy } = keysetQuery(dialect, table, relation, afterKey)
  return `SELECT ${select} FROM ${relation}${where}${orderBy}`
}

/**
 * MySQL's keyset dialect, over the columns' value kinds. Without a primary key, rows are
 * ordered by every column: numbers by value, everything else by its bytes (`keylessSortKey`).
 */
function mysqlKeyset(
  connection: PromiseConnection,
  kinds: MysqlValueKind[],
): KeysetDialect<ReadColumnSpec> {
  return {
    quote: quoteIdentifier,
    selectExpression: (column, i) =>
      mysqlSelectExpression(quoteIdentifier(column.name), kinds[i]!, column.dataType),
    keylessOrder: (column, i) => {
      const quoted = quoteIdentifier(column.name)
      const kind = kinds[i]
      const numeric = kind === 'integer' || kind === 'bigint' || kind === 'bit' || kind === 'float'
      return numeric ? quoted : keylessSortKey(quoted)
    },
    keyLiteral: (column, i, value) =>
      canonicalToMysqlLiteral(kinds[i]!, column.dataType, value, (text) => connection.escape(text)),
    typeName: (column) => column.dataType,
  }
}

/**
 * The sort key of a non-numeric column of a table without a primary key: its first
 * `KEYLESS_PREFIX_BYTES` bytes, then, for a longer value only, the SHA-256 of the whole value.
 *
 * Why not the whole value: the server reserves the longest possible key of every ORDER BY
 * expression (up to `max_sort_length`) for each row in the sort buffer, and MariaDB refuses a
 * sort whose one row does not fit ("Out of sort memory") — a TEXT column alone fails at the
 * default 2 MiB buffer once `max_sort_length` is raised, and with the default 1 KiB rows that
 * differ further along tie and come in any order. This key is at most 96 bytes per column whatever
 * the column's type, and still a total order on distinct values (up to a SHA-256 collision):
 * byte order as before, except that values longer than the prefix and sharing it are ordered by
 * digest. The same rows therefore come out in the same order on every read and every server, which
 * keeps the chunks, and their boundaries, of unchanged key-less tables the same. Hashing only long
 * values keeps the server's cost to what reading them costs anyway.
 */
function keylessSortKey(column: string): string {
  const bytes = `CAST(${column} AS BINARY)`
  return (
    `LEFT(${bytes}, ${KEYLESS_PREFIX_BYTES}), ` +
    `IF(LENGTH(${bytes}) > ${KEYLESS_PREFIX_BYTES}, UNHEX(SHA2(${bytes}, 256)), NULL)`
  )
}
