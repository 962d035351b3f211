// Reads rows back out of a snapshot without touching any database: a table's canonical rows in
// key order, optionally only the row with a given key, streamed chunk by chunk.

import {
  rowKeyText,
  splitLines,
  type CanonicalRow,
  type CanonicalValue,
} from '../canonical/value-encoding.js'
import { DbsnapError, throwIfAborted } from '../errors.js'
import { tableName, type TableEntry } from '../repository/manifest.js'
import type { Repository, StoredSnapshot } from '../repository/repository.js'

/** Finds a table of a snapshot by `schema.table` (or `table` in the default schema). */
export function findTable(snapshot: StoredSnapshot, name: string): TableEntry {
  const defaultSchema = snapshot.manifest.source.engine === 'postgres' ? 'public' : ''
  const wanted = name.includes('.')
    ? name
    : defaultSchema === ''
      ? name
      : `${defaultSchema}.${name}`
  const found = snapshot.manifest.tables.find(
    (t) => tableName(t) === wanted || tableName(t) === name,
  )
  if (found === undefined) {
    throw new DbsnapError(
      'TABLE_NOT_FOUND',
      `snapshot ${snapshot.id.slice(0, 12)} has no table "${name}"`,
      { details: { table: name, snapshot: snapshot.id } },
    )
  }
  return found
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
  const chunks = await repository.readIndex(table.index, options.signal)
  const wantedKey = options.key === undefined ? undefined : JSON.stringify(options.key)
  const keyColumns = table.key?.map((column) => table.columns.indexOf(column)) ?? null
  let remaining = options.limit ?? Infinity
  for (const chunk of chunks) {
    if (remaining <= 0) return
    throwIfAborted(options.signal)
    const content = (
      await repository.readObject(chunk.id, { signal: options.signal, kind: 'data' })
    ).toString('utf8')
    let rows = splitLines(content).map((line) => JSON.parse(line) as CanonicalRow)
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
