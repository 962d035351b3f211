// How a MySQL/MariaDB restore loads a table's rows in one transaction: LOAD DATA LOCAL INFILE
// streamed for a new table, or multi-row INSERTs (ON DUPLICATE KEY for an append), a few in flight.

import { once } from 'node:events'
import { Readable } from 'node:stream'
import type mysql from 'mysql2/promise'
import type { CanonicalRow } from '../../canonical/value-encoding.js'
import type { ConnectionTarget } from '../../connection/url.js'
import { DbsnapError, abortError, throwIfAborted } from '../../errors.js'
import type { TableSchema } from '../../schema/schema.js'
import type { RestoreTableOptions, RestoreTableResult } from '../target-adapter.js'
import { targetError } from './mysql-errors.js'
import { quoteIdentifier } from './mysql-read.js'
import { deleteStatements, infileShape, insertStatements } from './mysql-sql.js'
import { targetRun } from './mysql-target-query.js'

/** INSERT statements sent ahead of the one the server is running: bounds memory to ~3 MiB. */
const IN_FLIGHT = 2
/** LOAD DATA: bytes per packet sent, and unsent bytes the socket may hold before we wait. */
const INFILE_CHUNK = 256 * 1024
const INFILE_BACKLOG = 4 * 1024 * 1024

/**
 * Inserts the rows in one transaction. Statements are built while the server runs the ones
 * sent before (up to IN_FLIGHT queued on the connection, so it never waits for the next);
 * a failure rolls back, which on InnoDB leaves the table as it was.
 */
export async function loadRows(
  connection: mysql.Connection,
  target: ConnectionTarget,
  table: TableSchema,
  rows: AsyncIterable<CanonicalRow[]>,
  options: RestoreTableOptions & {
    tail: string
    uniqueChecks: boolean
    /** Under LOCK TABLES with autocommit off: START TRANSACTION would release the lock. */
    locked?: boolean
  },
): Promise<RestoreTableResult> {
  const { signal, onConflict } = options
  const context = { table: quoteIdentifier(table.name) }
  const result: RestoreTableResult = { inserted: 0, updated: 0, skipped: 0 }
  const count = (sent: number, header: mysql.ResultSetHeader): void => {
    const inserted = options.tail === '' ? sent : insertedOf(header)
    const duplicates = sent - inserted
    result.inserted += inserted
    if (onConflict === 'update') result.updated += duplicates
    else result.skipped += duplicates
    options.onRows?.(sent)
  }
  if (!options.uniqueChecks)
    await targetRun(connection, target, 'SET SESSION unique_checks = 0', context)
  if (options.locked !== true) await targetRun(connection, target, 'START TRANSACTION', context)
  // `--only-changed`: the rows to delete go first, in this transaction. Foreign keys are
  // checked for them, so a row another table still references is not left dangling.
  const deletes = deleteStatements(table, options.deleteKeys ?? [])
  if (deletes.length > 0) {
    try {
      await targetRun(connection, target, 'SET SESSION foreign_key_checks = 1', context)
      for (const sql of deletes) {
        throwIfAborted(signal)
        await connection.query(sql)
      }
    } catch (err) {
      await connection.query('ROLLBACK').catch(() => undefined)
      throw signal?.aborted === true ? abortError(signal) : targetError(err, target, context)
    } finally {
      await connection.query('SET SESSION foreign_key_checks = 0').catch(() => undefined)
    }
  }
  // Settled promises of the statements sent and not yet awaited: each holds null or the error.
  const inFlight: Promise<Error | null>[] = []
  const settleOldest = async (): Promise<void> => {
    const failure = await inFlight.shift()
    if (failure != null) throw failure
  }
  try {
    for await (const statement of insertStatements(table, rows, { tail: options.tail })) {
      while (inFlight.length >= IN_FLIGHT) await settleOldest()
      throwIfAborted(signal)
      inFlight.push(
        connection.query<mysql.ResultSetHeader>(statement.sql).then(
          ([header]) => {
            count(statement.rows, header)
            return null
          },
          (err: unknown) => (err instanceof Error ? err : new Error(String(err))),
        ),
      )
    }
    while (inFlight.length > 0) await settleOldest()
    throwIfAborted(signal)
    await targetRun(connection, target, 'COMMIT', context)
  } catch (err) {
    await Promise.all(inFlight)
    await connection.query('ROLLBACK').catch(() => undefined)
    if (signal?.aborted === true) throw abortError(signal)
    throw targetError(err, target, context)
  } finally {
    if (!options.uniqueChecks) {
      await connection.query('SET SESSION unique_checks = 1').catch(() => undefined)
    }
  }
  return result
}

/**
 * Loads a new table's rows with one LOAD DATA LOCAL INFILE in one transaction, the rows
 * streamed as the server reads them. The socket's backlog is bounded (mysql2 itself does
 * not wait for it), so memory stays bounded whatever the table size. A failure rolls back.
 */
export async function loadInfile(
  connection: mysql.Connection,
  target: ConnectionTarget,
  table: TableSchema,
  rows: AsyncIterable<CanonicalRow[]>,
  options: RestoreTableOptions,
): Promise<RestoreTableResult> {
  const { signal } = options
  const context = { table: quoteIdentifier(table.name) }
  const shape = infileShape(table)
  const socket = socketOf(connection)
  let sent = 0
  async function* chunks(): AsyncGenerator<Buffer> {
    let text = ''
    for await (const batch of rows) {
      throwIfAborted(signal)
      for (const row of batch) {
        text += shape.line(row)
        if (text.length >= INFILE_CHUNK) {
          if (socket.writableLength > INFILE_BACKLOG) await once(socket, 'drain')
          yield Buffer.from(text, 'utf8')
          text = ''
        }
      }
      sent += batch.length
      options.onRows?.(batch.length)
    }
    if (text !== '') yield Buffer.from(text, 'utf8')
  }
  await targetRun(connection, target, 'SET SESSION unique_checks = 0', context)
  await targetRun(connection, target, 'START TRANSACTION', context)
  try {
    const [header] = await connection.query<mysql.ResultSetHeader>({
      sql: shape.statement,
      infileStreamFactory: () => Readable.from(chunks()),
    })
    if (header.affectedRows !== sent) {
      throw new DbsnapError(
        'RESTORE_FAILED',
        `the server loaded ${header.affectedRows} of the ${sent} rows of ${context.table} (${header.info})`,
      )
    }
    await targetRun(connection, target, 'COMMIT', context)
  } catch (err) {
    await connection.query('ROLLBACK').catch(() => undefined)
    if (signal?.aborted === true) throw abortError(signal)
    throw targetError(err, target, context)
  } finally {
    await connection.query('SET SESSION unique_checks = 1').catch(() => undefined)
  }
  return { inserted: sent, updated: 0, skipped: 0 }
}

/** The socket under a mysql2 promise connection, which its types do not declare. */
function socketOf(
  connection: mysql.Connection,
): NodeJS.WritableStream & { writableLength: number } {
  return (
    connection as unknown as {
      connection: { stream: NodeJS.WritableStream & { writableLength: number } }
    }
  ).connection.stream
}

/**
 * Rows of an INSERT … ON DUPLICATE KEY UPDATE that were new. Without CLIENT_FOUND_ROWS the
 * server counts 1 affected row per insert, 2 per row the update changed and 0 per row it left
 * as it was; a multi-row INSERT's info (`Records: 3  Duplicates: 1 …`) counts the changed ones.
 * A one-row INSERT has no info: 2 affected rows are then a changed row.
 */
function insertedOf(header: mysql.ResultSetHeader): number {
  const match = /Duplicates:\s*(\d+)/.exec(header.info ?? '')
  const changed = match !== null ? Number(match[1]) : header.affectedRows === 2 ? 1 : 0
  return header.affectedRows - 2 * changed
}
