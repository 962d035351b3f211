// Streams a PostgreSQL table's rows as canonical rows: `COPY (SELECT …) TO STDOUT` inside the
// consistent read view, in key order, parsed as it arrives, with backpressure down to the socket.

import { batchLimits, type BatchedReadOptions } from '../batch-limits.js'
import { connect as netConnect } from 'node:net'
import { finished } from 'node:stream'
import type pg from 'pg'
import type { CanonicalRow, CanonicalValue, ValueEncoding } from '../../canonical/value-encoding.js'
import type { ConnectionTarget } from '../../connection/url.js'
import { DbsnapError, abortError, isDbsnapError, throwIfAborted } from '../../errors.js'
import { keysetQuery, type KeysetDialect } from '../keyset-query.js'
import { TableNotClaimed } from '../source-adapter.js'
import { CopyOutQuery } from './postgres-copy-out.js'
import { CopyTextParser, type CopyTextRow } from './postgres-copy.js'
import { postgresQueryError } from './postgres-errors.js'
import { PG_SESSION_SETTINGS, canonicalToPgText, pgTextToCanonical } from './postgres-values.js'

/** A column to read. */
export interface ReadColumnSpec {
  name: string
  encoding: ValueEncoding
  /**
   * The column's type as DDL spells it (`numeric(10,2)`, `public.mood`), from introspection, so
   * trusted SQL. Casts `afterKey` literals; without it a literal is left for PostgreSQL to type
   * from the key column it is compared with, which also works for every built-in type.
   */
  type?: string
}

/** The table to read: its columns in table order and its primary key, if any. */
export interface ReadTableSpec {
  schema: string
  name: string
  columns: ReadColumnSpec[]
  /** Primary-key column names in key order, or null for a table without one. */
  primaryKey: string[] | null
}

/** Batches of at most 1000 rows and about 1 MiB of PostgreSQL text by default. */
export interface ReadTableRowsOptions extends BatchedReadOptions {
  /** The connection's target, for error messages; default: host and port of the client. */
  target?: ConnectionTarget
  /**
   * Take the table's ACCESS SHARE lock first, in the same query and without waiting: an extra
   * reader's claim (`TableReader.claim`). When another session's lock request stands in the way
   * the read rejects with `TableNotClaimed`, before any row, its view still usable.
   */
  claim?: boolean
}

const DEFAULT_BATCH_ROWS = 1000
const DEFAULT_BATCH_BYTES = 1024 * 1024
const SAVEPOINT = 'dbsnap_read'
/** SQLSTATE of a lock that `NOWAIT` (or `lock_timeout`) would not wait for. */
const LOCK_NOT_AVAILABLE = '55P03'
/**
 * Connections whose last table read left its savepoint in place: it is released by the next
 * read's query, before that one's own savepoint, instead of by a round trip of its own. A new
 * read view (`beginReadView`) starts without one.
 */
const unreleased = new WeakSet<pg.Client>()
/**
 * How long a cancelled COPY may take to stop before its connection is destroyed: long enough
 * for the server to act on the cancel request, short enough for an abort to feel prompt.
 */
const CANCEL_GRACE_MS = 5000
/** The CancelRequest code of the wire protocol (1234 << 16 | 5678). */
const CANCEL_REQUEST_CODE = 80877102

/** Clients with a read in progress: a second COPY on one connection would queue behind the first. */
const busy = new WeakSet<pg.Client>()

/**
 * Opens the consistent read view on a pg.Client: sets `PG_SESSION_SETTINGS` for the session,
 * then `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY` and takes the transaction's snapshot at
 * once (PostgreSQL takes it at the first statement, not at BEGIN), so every later read sees the
 * database as of when this resolves. End the view with `COMMIT` or `ROLLBACK` on the client.
 *
 * Tables are not locked: a table dropped or altered by another session before this view reads
 * it fails that read (`TABLE_NOT_FOUND`, `SOURCE_CHANGED`); lock the tables first (ACCESS SHARE,
 * as pg_dump does) to exclude that.
 *
 * With `options.snapshot` (an id `pg_export_snapshot()` returned in a view still open), the view
 * takes that snapshot instead of a fresh one (`SET TRANSACTION SNAPSHOT`, as pg_dump -j does):
 * it sees exactly what the exporting view sees.
 *
 * @throws `INVALID_ARGUMENT` when the client is already in a transaction (its snapshot would not
 *   be a fresh one); `ABORTED`; connection and query failures as `postgresQueryError` maps them.
 */
export async function beginReadView(
  client: pg.Client,
  options: {
    signal?: AbortSignal
    target?: ConnectionTarget
    snapshot?: string
    /** The transaction's `lock_timeout` (`SET LOCAL`), set in the same round trip. */
    lockTimeoutMs?: number
  } = {},
): Promise<void> {
  const { signal } = options
  throwIfAborted(signal)
  unreleased.delete(client)
  if (client.getTransactionStatus() !== 'I') {
    throw new DbsnapError(
      'INVALID_ARGUMENT',
      `a read view needs a connection outside any transaction, got transaction status ${JSON.stringify(client.getTransactionStatus())}`,
    )
  }
  const settings = Object.entries(PG_SESSION_SETTINGS).map(
    ([name, value]) =>
      `set_config(${client.escapeLiteral(name)}, ${client.escapeLiteral(value)}, false)`,
  )
  try {
    // Before BEGIN: settings made inside the transaction would be undone if it is rolled back.
    await client.query(`SELECT ${settings.join(', ')}`)
    // SET TRANSACTION SNAPSHOT must come before the transaction's first query.
    const imported =
      options.snapshot === undefined
        ? ''
        : ` SET TRANSACTION SNAPSHOT ${client.escapeLiteral(options.snapshot)};`
    const lockTimeout =
      options.lockTimeoutMs === undefined
        ? ''
        : ` SET LOCAL lock_timeout = ${Math.max(1, Math.round(options.lockTimeoutMs))};`
    await client.query(
      `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;${imported}${lockTimeout} SELECT 1`,
    )
  } catch (err) {
    if (signal?.aborted === true) throw abortError(signal)
    throw postgresQueryError(err, options.target ?? clientTarget(client))
  }
  if (signal?.aborted === true) {
    await client.query('ROLLBACK').catch(() => undefined)
    throw abortError(signal)
  }
}

/**
 * Rows of one table in primary-key order (full-row order when there is no PK), as canonical
 * rows, in batches of at most `batchRows` rows and about `batchBytes`.
 *
 * The rows come from one `COPY (SELECT …) TO STDOUT`, read only as fast as the consumer takes
 * batches: while it holds one, the stream, then the socket, then the server pause, so memory
 * stays bounded whatever the table size. Call inside `beginReadView` (the session settings make
 * the values' text exact); one read at a time per client; the client must have an `'error'`
 * listener, as node-postgres emits one when the connection drops.
 *
 * Order: by the primary-key columns (their collations, as the key's index). Without a primary
 * key, by every column's text form compared bytewise (`::text COLLATE "C"`), NULLs last: a
 * total order on the canonical rows that needs no btree operator class (json, xml, point…) and
 * does not depend on the server's collations. `afterKey` resumes strictly after that key and
 * needs a primary key.
 *
 * Stopping early (`break`, `return()`) or aborting through the signal cancels the COPY with a
 * cancel request and drains what the server already sent; inside a read view the COPY runs under
 * a savepoint that is then rolled back, so the transaction, its snapshot and the connection
 * stay usable. Only when the cancel cannot be delivered or the server does not stop within
 * 5 s of the drain starting (at once when waiting for data, when the consumer next asks when it
 * holds a batch) is the connection destroyed; the read view is then lost with it.
 *
 * @throws `ABORTED`; `TABLE_NOT_FOUND` (table or schema gone); `SOURCE_CHANGED` (a column or
 *   type gone); `CONNECTION_LOST`; `CONNECTION_TIMEOUT` (statement_timeout); `QUERY_FAILED`
 *   (any other SQL error, SQLSTATE in details); `INVALID_ARGUMENT` for a bad spec or `afterKey`.
 *
 * @example
 * await beginReadView(client)
 * for await (const batch of readTableRows(client, spec, { afterKey: [41] })) write(batch)
 */
export async function* readTableRows(
  client: pg.Client,
  table: ReadTableSpec,
  options: ReadTableRowsOptions = {},
): AsyncGenerator<CanonicalRow[], void, undefined> {
  const { signal } = options
  const { rows: batchRows, bytes: batchBytes } = batchLimits(options, {
    rows: DEFAULT_BATCH_ROWS,
    bytes: DEFAULT_BATCH_BYTES,
  })
  throwIfAborted(signal)
  const relation = `${client.escapeIdentifier(table.schema)}.${client.escapeIdentifier(table.name)}`
  const sql = copyStatement(client, table, relation, options.afterKey)
  if (busy.has(client)) {
    throw new DbsnapError(
      'INVALID_ARGUMENT',
      `cannot read ${relation}: another read is still running on this connection`,
    )
  }
  busy.add(client)
  const columnCount = table.columns.length
  // Text columns keep COPY's text as it is (pgTextToCanonical's identity): only the rest convert.
  const converted = table.columns.flatMap(({ encoding }, index) =>
    encoding === 'text' || encoding === 'ejson' ? [] : [{ index, encoding }],
  )
  let savepoint = false
  let completed = false
  let copy: CopyStream | undefined
  let cancel: CopyCancel | undefined
  /** True while the consumer holds a batch: the generator is suspended at a `yield`. */
  let holding = false
  const onAbort = (): void => {
    if (copy === undefined || copy.isSettled()) return
    cancel ??= { sent: sendCancelRequest(client) }
    // While the consumer holds a batch nothing drains the socket, and the server acts on the
    // cancel only once its pending write completes: the deadline starts with the drain instead.
    if (!holding) armDeadline(client, copy, cancel)
  }
  try {
    // Inside the view's transaction each table is read under a savepoint, so that a failed read
    // leaves it usable; the savepoint (and the last table's release) go with the COPY.
    let statement = sql
    if (client.getTransactionStatus() === 'T') {
      const release = unreleased.has(client) ? `RELEASE SAVEPOINT ${SAVEPOINT}; ` : ''
      unreleased.delete(client)
      const claim =
        options.claim === true ? `LOCK TABLE ${relation} IN ACCESS SHARE MODE NOWAIT; ` : ''
      statement = `${release}SAVEPOINT ${SAVEPOINT}; ${claim}${sql}`
      savepoint = true
    }
    copy = submitCopy(client, statement)
    signal?.addEventListener('abort', onAbort, { once: true })
    const parser = new CopyTextParser({ fieldCount: columnCount })
    const batch: Batch = { rows: [], bytes: 0, maxRows: batchRows, maxBytes: batchBytes }
    // Not destroyed on return: an unfinished COPY must be cancelled and drained (below), or the
    // connection would wait for it forever.
    for await (const chunk of copy.stream.iterator({ destroyOnReturn: false })) {
      throwIfAborted(signal)
      const parsed = parser.push(chunk as Buffer)
      for (let next = 0; next < parsed.length;) {
        next = fillBatch(batch, parsed, next, converted)
        if (batch.rows.length >= batch.maxRows || batch.bytes >= batch.maxBytes) {
          holding = true
          yield batch.rows
          holding = false
          batch.rows = []
          batch.bytes = 0
          throwIfAborted(signal)
        }
      }
    }
    parser.end()
    if (batch.rows.length > 0) yield batch.rows
    if (savepoint) unreleased.add(client)
    completed = true
  } catch (err) {
    if (signal?.aborted === true) throw abortError(signal)
    if (isDbsnapError(err)) throw err
    if (options.claim === true && (err as { code?: unknown }).code === LOCK_NOT_AVAILABLE) {
      throw new TableNotClaimed(table)
    }
    throw postgresQueryError(err, options.target ?? clientTarget(client), { table: relation })
  } finally {
    signal?.removeEventListener('abort', onAbort)
    if (copy !== undefined) await stopCopy(client, copy, cancel)
    if (savepoint && !completed) {
      await client
        .query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}; RELEASE SAVEPOINT ${SAVEPOINT}`)
        .catch(() => undefined)
    }
    busy.delete(client)
  }
}

/** The batch a read is filling, and its limits. */
interface Batch {
  rows: CanonicalRow[]
  /** Characters of value text in `rows`, and one per value. */
  bytes: number
  maxRows: number
  maxBytes: number
}

/**
 * Moves parsed rows from `from` on into `batch`, turned into canonical rows in place, until the
 * batch is full or the rows run out; returns the index of the first row not taken. The per-row
 * work lives here, in a plain function, and not in the async generator that reads: V8 keeps this
 * one optimized from table to table, while each new generator's loop would start cold again.
 */
function fillBatch(
  batch: Batch,
  parsed: CopyTextRow[],
  from: number,
  converted: { index: number; encoding: ValueEncoding }[],
): number {
  const { rows, maxRows, maxBytes } = batch
  let bytes = batch.bytes
  let i = from
  while (i < parsed.length) {
    const fields = parsed[i++]!
    const row = fields as CanonicalRow
    let size = fields.length
    for (let c = 0; c < fields.length; c++) size += fields[c]?.length ?? 0
    for (let k = 0; k < converted.length; k++) {
      const { index, encoding } = converted[k]!
      row[index] = pgTextToCanonical(encoding, fields[index] ?? null)
    }
    rows.push(row)
    bytes += size
    if (rows.length >= maxRows || bytes >= maxBytes) break
  }
  batch.bytes = bytes
  return i
}

/** The COPY statement for a read; validates the key spec and `afterKey`. */
function copyStatement(
  client: pg.Client,
  table: ReadTableSpec,
  relation: string,
  afterKey: CanonicalValue[] | undefined,
): string {
  const { select, where, orderBy } = keysetQuery(postgresKeyset(client), table, relation, afterKey)
  return `COPY (SELECT ${select} FROM ONLY ${relation}${where}${orderBy}) TO STDOUT`
}

/**
 * PostgreSQL's keyset dialect. Without a primary key, rows are ordered by every column's text
 * form compared bytewise, which needs no btree operator class (json, xml, point…). A key
 * literal is the value's text, cast to the column's type when introspection gave it.
 */
function postgresKeyset(client: pg.Client): KeysetDialect<ReadColumnSpec> {
  const quote = (name: string): string => client.escapeIdentifier(name)
  return {
    quote,
    selectExpression: (column) => quote(column.name),
    keylessOrder: (column) => `${quote(column.name)}::text COLLATE "C"`,
    keyLiteral: (column, _index, value) => {
      const text = canonicalToPgText(column.encoding, value)
      if (text === null) throw new Error('no text form')
      const literal = client.escapeLiteral(text)
      return column.type === undefined ? literal : `${literal}::${column.type}`
    },
    typeName: (column) => column.encoding,
  }
}

/** A submitted COPY and whether it has finished on the connection. */
interface CopyStream {
  stream: CopyOutQuery
  /** Resolves when the stream ended or failed: the connection is done with the COPY. */
  settled: Promise<void>
  isSettled(): boolean
  /** Disarms node-postgres' query_timeout timer for this query. */
  release(): void
}

/** The two fields of node-postgres' submittable protocol that CopyOutQuery leaves unset. */
interface SubmittableTimeout {
  callback?: (err?: Error) => void
  query_timeout?: number
}

function submitCopy(client: pg.Client, sql: string): CopyStream {
  const stream = new CopyOutQuery(sql)
  let settled = false
  const done = new Promise<void>((resolve) => {
    finished(stream, { writable: false }, () => {
      settled = true
      resolve()
    })
  })
  // node-postgres arms a client's query_timeout for every query, a COPY too, and disarms it only
  // through `callback`, which CopyOutQuery never calls: a long COPY would be failed halfway.
  // The largest timer Node allows stands in for "none", and `release` disarms it.
  const timeout = stream as SubmittableTimeout
  timeout.callback = () => undefined
  timeout.query_timeout = 2 ** 31 - 1
  client.query(stream)
  return {
    stream,
    settled: done,
    isSettled: () => settled,
    release: () => timeout.callback?.(),
  }
}

/** A cancel under way: the request sent, and the deadline for the COPY to stop. */
interface CopyCancel {
  /** Resolves once the server has taken the request (or sending it failed). */
  sent: Promise<void>
  timer?: NodeJS.Timeout
}

/** Destroys the connection if the cancelled COPY has not stopped within the grace period. */
function armDeadline(client: pg.Client, copy: CopyStream, cancel: CopyCancel): void {
  cancel.timer ??= setTimeout(() => {
    if (copy.isSettled()) return
    // The connection dies with the COPY; keep node-postgres' 'error' from crashing the process.
    client.on('error', () => undefined)
    client.connection.stream.destroy()
  }, CANCEL_GRACE_MS)
}

/**
 * Ends the COPY if it is still running: cancel it (unless already asked), discard what arrives
 * until the server's error or the end of the data, then disarm timers. Never throws.
 */
async function stopCopy(
  client: pg.Client,
  copy: CopyStream,
  cancel: CopyCancel | undefined,
): Promise<void> {
  if (!copy.isSettled()) {
    cancel ??= { sent: sendCancelRequest(client) }
    armDeadline(client, copy, cancel)
    copy.stream.on('error', () => undefined)
    copy.stream.resume()
    await copy.settled
  }
  copy.release()
  if (cancel !== undefined) {
    clearTimeout(cancel.timer)
    // The server ignores a cancel that reaches an idle backend; waiting for it to be taken keeps
    // it from landing on the next statement.
    await cancel.sent
  }
}

/** What node-postgres keeps from the server's BackendKeyData message. */
interface BackendKey {
  processID?: unknown
  secretKey?: unknown
}

/**
 * Sends the wire protocol's CancelRequest for `client`'s backend over a new connection to the
 * same host and port, as libpq's PQcancel does (unencrypted, like libpq before 17: the server
 * takes cancel requests before any TLS or pg_hba check). Resolves when the server has closed
 * that connection, by which time it has signalled the backend, or on failure or timeout.
 */
function sendCancelRequest(client: pg.Client): Promise<void> {
  const { processID, secretKey } = client as unknown as BackendKey
  if (typeof processID !== 'number' || typeof secretKey !== 'number') return Promise.resolve()
  return new Promise((resolve) => {
    const socket = client.host.startsWith('/')
      ? netConnect(`${client.host}/.s.PGSQL.${client.port}`)
      : netConnect(client.port, client.host)
    const done = (): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve()
    }
    const timer = setTimeout(done, CANCEL_GRACE_MS)
    const packet = Buffer.alloc(16)
    packet.writeInt32BE(16, 0)
    packet.writeInt32BE(CANCEL_REQUEST_CODE, 4)
    packet.writeInt32BE(processID, 8)
    packet.writeInt32BE(secretKey, 12)
    socket.once('connect', () => socket.end(packet))
    socket.once('error', done)
    socket.once('close', done)
    socket.resume()
  })
}

/** A target for error messages when the caller has none: the client's host, port and user. */
function clientTarget(client: pg.Client): ConnectionTarget {
  const password = (client as { password?: unknown }).password
  return {
    engine: 'postgres',
    href: '',
    params: new URLSearchParams(),
    host: client.host,
    port: client.port,
    hosts: [{ host: client.host, port: client.port }],
    database: client.database ?? null,
    user: client.user ?? null,
    password: typeof password === 'string' ? password : null,
  }
}
