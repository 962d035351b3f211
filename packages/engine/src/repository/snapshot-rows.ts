// Reads rows back out of a snapshot without touching any database: a table's canonical rows in
// key order, optionally only the row with a given key, streamed chunk by chunk: what `show`, restore
// and export read.

import {
  rowKeyText,
  rowLine,
  type CanonicalRow,
  type CanonicalValue,
} from '../canonical/value-encoding.js'
import { DbsnapError, throwIfAborted } from '../errors.js'
import { rowsToColumnar } from './columnar.js'
import type { ChunkEntry, TableEntry } from './manifest.js'
import { tableName } from '../schema/table-name.js'
import type { Repository } from './repository.js'
import { objectKey } from './layout.js'

/**
 * A chunk's rows column by column, as a chunk stores them: `payload` is in the columnar layout
 * (docs/snapshot-format.md, "Columnar layout"), a section per column holding each row's value as
 * its JSON text in the canonical row, one a line. No string is made of a value or a row.
 */
export interface ColumnBatch {
  rows: number
  payload: Buffer
}

/**
 * A table's rows in key order, chunk by chunk. Iterating gives them parsed. `lines()` gives the
 * same rows as canonical row lines (JSON arrays, docs/snapshot-format.md), and `columns()` as
 * columnar payloads, which is how a chunk is stored: both unparsed, cheaper for a target that
 * writes the values out as text again. Iterate one of the three, once.
 */
export interface TableRows extends AsyncIterable<CanonicalRow[]> {
  lines(): AsyncIterable<string[]>
  columns(): AsyncIterable<ColumnBatch>
}

/**
 * The canonical row lines of one table of a snapshot, in key order, in batches of one chunk,
 * each checked against the row count its index entry gives.
 */
export async function* readSnapshotLines(
  repository: Repository,
  table: TableEntry,
  options: { signal?: AbortSignal } = {},
): AsyncGenerator<string[]> {
  const chunks = await repository.readIndex(table.index, options.signal)
  for (const chunk of chunks) {
    throwIfAborted(options.signal)
    const lines = await repository.readLines(chunk.id, {
      signal: options.signal,
      table: tableName(table),
      bytes: chunk.bytes,
    })
    if (lines.length !== chunk.rows) throw wrongRowCount(chunk, lines.length)
    yield lines
  }
}

/**
 * Rows of one table of a snapshot, in key order, in batches of one chunk.
 * With `key`, only the row whose key equals it (canonical key values in key-column order).
 */
export async function* readSnapshotRows(
  repository: Repository,
  table: TableEntry,
  options: { key?: CanonicalValue[]; limit?: number; signal?: AbortSignal } = {},
): AsyncIterable<CanonicalRow[]> {
  const wantedKey = options.key === undefined ? undefined : JSON.stringify(options.key)
  const keyColumns = table.key?.map((column) => table.columns.indexOf(column)) ?? null
  let remaining = options.limit ?? Infinity
  for await (const lines of readSnapshotLines(repository, table, options)) {
    if (remaining <= 0) return
    let rows = lines.map((line) => JSON.parse(line) as CanonicalRow)
    if (wantedKey !== undefined) {
      rows = rows.filter((row) =>
        keyColumns === null
          ? JSON.stringify(row) === wantedKey
          : rowKeyText(row, keyColumns) === wantedKey,
      )
    }
    if (rows.length > remaining) rows = rows.slice(0, remaining)
    remaining -= rows.length
    if (rows.length > 0) yield rows
  }
}

/** The values of one table of a snapshot, column by column, in batches of one chunk. */
export async function* readSnapshotColumns(
  repository: Repository,
  table: TableEntry,
  options: { signal?: AbortSignal } = {},
): AsyncGenerator<ColumnBatch> {
  const chunks = await repository.readIndex(table.index, options.signal)
  for (const chunk of chunks) {
    throwIfAborted(options.signal)
    const batch = await repository.readColumns(chunk.id, table.columns.length, {
      signal: options.signal,
      table: tableName(table),
      bytes: chunk.bytes,
    })
    if (batch.rows !== chunk.rows) throw wrongRowCount(chunk, batch.rows)
    yield batch
  }
}

function wrongRowCount(chunk: ChunkEntry, rows: number): DbsnapError {
  return new DbsnapError(
    'DATA_CORRUPT',
    `object ${chunk.id} is corrupt: it holds ${rows} rows, its index entry says ${chunk.rows}`,
    { details: { object: objectKey(chunk.id) } },
  )
}

/** A snapshot table's rows for a restore or an export: parsed, as lines, or as columns. */
export function snapshotTableRows(
  repository: Repository,
  table: TableEntry,
  options: { signal?: AbortSignal } = {},
): TableRows {
  return {
    [Symbol.asyncIterator]: () =>
      readSnapshotRows(repository, table, options)[Symbol.asyncIterator](),
    lines: () => readSnapshotLines(repository, table, options),
    columns: () => readSnapshotColumns(repository, table, options),
  }
}

/** Rows in batches as `TableRows`, their lines made by `rowLine`. */
export function tableRowsOf(batches: AsyncIterable<CanonicalRow[]>): TableRows {
  return {
    [Symbol.asyncIterator]: () => batches[Symbol.asyncIterator](),
    lines: async function* () {
      for await (const rows of batches) yield rows.map(rowLine)
    },
    columns: async function* () {
      for await (const rows of batches) {
        const content = Buffer.from(rows.map((row) => `${rowLine(row)}\n`).join(''), 'utf8')
        const payload = rowsToColumnar(content, rows.length, rows[0]?.length ?? 0)
        yield { rows: rows.length, payload }
      }
    },
  }
}

/** The same rows, calling `onBatch` with each batch's size as it is read, either way. */
export function countedRows(rows: TableRows, onBatch: (rows: number) => void): TableRows {
  return {
    [Symbol.asyncIterator]: async function* () {
      for await (const batch of rows) {
        yield batch
        onBatch(batch.length)
      }
    },
    lines: async function* () {
      for await (const batch of rows.lines()) {
        yield batch
        onBatch(batch.length)
      }
    },
    columns: async function* () {
      for await (const batch of rows.columns()) {
        yield batch
        onBatch(batch.rows)
      }
    },
  }
}
