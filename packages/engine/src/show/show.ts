// Reads rows back out of a snapshot without touching any database: a table's canonical rows in
// key order, optionally only the row with a given key, streamed chunk by chunk.

import { engineModule } from '../adapters/engines.js'
import type { ColumnBatch, TableRows } from '../adapters/target-adapter.js'
import {
  rowKeyText,
  rowLine,
  type CanonicalRow,
  type CanonicalValue,
} from '../canonical/value-encoding.js'
import { DbsnapError, throwIfAborted } from '../errors.js'
import { rowsToColumnar } from '../repository/columnar.js'
import type { ChunkEntry, TableEntry } from '../repository/manifest.js'
import { tableName } from '../schema/table-name.js'
import { objectKey, type Repository, type StoredSnapshot } from '../repository/repository.js'
import { findNamed } from '../schema/table-filter.js'

/**
 * Finds a table of a snapshot by `schema.table` (or `table` in the default schema), quoted as
 * `--tables` reads it (`"x.y".z`). Failing that, by the two joined unquoted, as `show` took them
 * before (`x.y.z`, a MongoDB `fs.files`), when that names one table only.
 */
export function findTable(snapshot: StoredSnapshot, name: string): TableEntry {
  const { tables } = snapshot.manifest
  const defaultSchema = engineModule(snapshot.manifest.source.engine).defaultSchema
  const joined = tables.filter(
    (t) =>
      (t.schema === '' ? t.name : `${t.schema}.${t.name}`) === name ||
      (t.schema === defaultSchema && t.name === name),
  )
  const found =
    findNamed(tables, name, defaultSchema) ?? (joined.length === 1 ? joined[0] : undefined)
  if (found !== undefined) return found
  if (joined.length > 1) {
    throw new DbsnapError(
      'INVALID_ARGUMENT',
      `"${name}" names ${joined.length} tables of snapshot ${snapshot.id.slice(0, 12)}: ${joined.map(tableName).join(', ')}; give one as written here`,
      { details: { table: name, snapshot: snapshot.id } },
    )
  }
  throw new DbsnapError(
    'TABLE_NOT_FOUND',
    `snapshot ${snapshot.id.slice(0, 12)} has no table "${name}"`,
    { details: { table: name, snapshot: snapshot.id } },
  )
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
