// `restore --only-changed`: puts back only the rows that differ between a snapshot and the live
// tables, found by the live diff, to undo a bad migration or an accidental DELETE without
// reloading whole tables. Rows the live table lost or changed are written back (append with
// update on conflict); rows it gained are deleted. On PostgreSQL each table's fix is one
// transaction.

import type { Logger } from 'pino'
import type { TargetAdapter } from '../adapters/target-adapter.js'
import type { CanonicalRow, CanonicalValue } from '../canonical/value-encoding.js'
import type { ConnectionTarget } from '../connection/url.js'
import type { RowChange } from '../diff/diff-format.js'
import { diffLive } from '../diff/live-diff.js'
import { DbsnapError, throwIfAborted } from '../errors.js'
import { tableName } from '../repository/manifest.js'
import type { Repository, StoredSnapshot } from '../repository/repository.js'
import { tableRowsOf } from '../show/show.js'
import { checkEngines, restoreObjects, type RestoredTable, type RestoreResult } from './restore.js'

export interface RestoreChangedRowsOptions {
  repository: Repository
  snapshot: StoredSnapshot
  target: TargetAdapter
  /** The target database again, read by the live diff (a read-only view of its own). */
  url: string | ConnectionTarget
  tables?: string[]
  exclude?: string[]
  /** Plan only: which rows would be written back and deleted, per table. */
  dryRun?: boolean
  maxRowsPerSecond?: number
  signal?: AbortSignal
  logger?: Logger
}

/**
 * Makes the selected tables' rows equal to the snapshot's by writing back only the rows that
 * differ. The tables must exist with the snapshot's columns (`TARGET_SCHEMA_MISMATCH`
 * otherwise: a schema change is undone by a full restore of the table) and have a primary key.
 */
export async function restoreChangedRows(
  options: RestoreChangedRowsOptions,
): Promise<RestoreResult> {
  const started = performance.now()
  const { repository, snapshot, target, signal } = options
  checkEngines(snapshot, target)
  const objects = restoreObjects(snapshot, options)
  const schemas = new Map(objects.tables.map((table) => [tableName(table), table]))
  const keyless = objects.tables.filter((table) => table.primaryKey === null)
  if (keyless.length > 0) {
    throw new DbsnapError(
      'NOT_SUPPORTED',
      `--only-changed matches rows by primary key, and ${keyless.map(tableName).join(', ')} has none: restore it whole (--tables … --force)`,
    )
  }
  const diff = await diffLive({ repository, snapshot }, options.url, {
    tables: objects.tables.map(tableName),
    maxRowsPerSecond: options.maxRowsPerSecond,
    signal,
    logger: options.logger,
  })
  try {
    const columnChanges = diff.schema.filter(
      (change) => change.kind === 'column' || change.kind === 'table',
    )
    if (columnChanges.length > 0) {
      throw new DbsnapError(
        'TARGET_SCHEMA_MISMATCH',
        `--only-changed writes rows back into tables shaped as in the snapshot, but ${columnChanges.map((c) => `${c.kind} ${c.object} was ${c.change}`).join(', ')}; restore those tables whole instead`,
        { details: { changes: columnChanges.map((c) => c.object) } },
      )
    }
    const results = new Map<string, RestoredTable>()
    const changes = diff.rowChanges()[Symbol.asyncIterator]()
    let next = await changes.next()
    while (next.done !== true) {
      throwIfAborted(signal)
      const name = next.value.table
      const table = schemas.get(name)
      if (table === undefined)
        throw new DbsnapError('INTERNAL', `the diff names ${name}, which was not asked for`)
      const tableStarted = performance.now()
      const deletes: CanonicalValue[][] = []
      const done: RestoredTable = {
        table: name,
        rows: 0,
        before: null,
        status: options.dryRun === true ? 'planned' : 'restored',
        inserted: 0,
        updated: 0,
        skipped: 0,
        deleted: 0,
        seconds: 0,
      }
      // The changes of this table, in batches; those of the next table stop the stream.
      const upserts = async function* (): AsyncGenerator<CanonicalRow[]> {
        let batch: CanonicalRow[] = []
        while (next.done !== true && next.value.table === name) {
          const change: RowChange = next.value
          if (change.change === 'added') deletes.push(change.key!)
          else batch.push(change.old!)
          if (batch.length >= 1000) {
            yield batch
            batch = []
          }
          next = await changes.next()
        }
        if (batch.length > 0) yield batch
      }
      if (options.dryRun === true) {
        for await (const batch of upserts()) done.updated += batch.length
      } else {
        const written = await target.restoreTable(table, tableRowsOf(upserts()), {
          mode: 'append',
          onConflict: 'update',
          signal,
          deleteKeys: () => deletes,
        })
        Object.assign(done, written)
      }
      done.deleted = deletes.length
      done.rows = done.inserted + done.updated + deletes.length
      done.seconds = (performance.now() - tableStarted) / 1000
      results.set(name, done)
      options.logger?.info({ ...done }, 'table rows restored')
    }
    return {
      snapshot: snapshot.id,
      mode: 'append',
      dryRun: options.dryRun === true,
      plan: [...results.values()].map((t) => ({
        action: 'restore changed rows',
        object: t.table,
        rows: t.rows,
        destructive: true,
      })),
      tables: [...results.values()],
      warnings: diff.warnings,
      seconds: (performance.now() - started) / 1000,
    }
  } finally {
    await diff.close()
  }
}
