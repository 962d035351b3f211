// `restore --only-changed`: puts back only the rows that differ between a snapshot and the live
// tables, found by the live diff, to undo a bad migration or an accidental DELETE without
// reloading whole tables. Rows the live table gained are deleted first, then the rows it lost or
// changed are written back (append with update on conflict); on PostgreSQL and MySQL both in one
// transaction per table. Deleting never reaches a table that was not selected.

import type { Logger } from 'pino'
import type { RestoreStep, TargetAdapter } from '../adapters/target-adapter.js'
import type { CanonicalRow, CanonicalValue } from '../canonical/value-encoding.js'
import type { ConnectionTarget } from '../connection/url.js'
import type { RowChange } from '../diff/diff-format.js'
import { diffLive } from '../diff/live-diff.js'
import { DbsnapError, throwIfAborted } from '../errors.js'
import { tableKey, tableName } from '../schema/table-name.js'
import type { DatabaseSchema, QualifiedName, TableSchema } from '../schema/schema.js'
import type { Repository, StoredSnapshot } from '../repository/repository.js'
import { tableRowsOf } from '../repository/snapshot-rows.js'
import type { TableSelector } from '../schema/table-filter.js'
import {
  checkEngines,
  type RestoredTable,
  type RestoreProgress,
  type RestoreResult,
} from './restore.js'
import { engineModule } from '../adapters/engines.js'
import { restoreObjects } from '../repository/restore-objects.js'

export interface RestoreChangedRowsOptions {
  repository: Repository
  snapshot: StoredSnapshot
  target: TargetAdapter
  /** The target database again, read by the live diff (a read-only view of its own). */
  url: string | ConnectionTarget
  tables?: TableSelector[]
  exclude?: TableSelector[]
  /** Plan only: which rows would be written back and deleted, per table. */
  dryRun?: boolean
  maxRowsPerSecond?: number
  signal?: AbortSignal
  logger?: Logger
  /** `reading` while the live tables are compared, then as `restoreSnapshot` reports. */
  onProgress?: (event: RestoreProgress) => void
}

/**
 * Makes the selected tables' rows equal to the snapshot's by writing back only the rows that
 * differ. The tables must exist with the snapshot's columns (`TARGET_SCHEMA_MISMATCH`
 * otherwise: a schema change is undone by a full restore of the table) and have a primary key.
 */
export async function restoreChangedRows(
  options: RestoreChangedRowsOptions,
): Promise<RestoreResult> {
  return options.repository.withLock('shared', 'restore', options.signal, () =>
    restoreChangedLocked(options),
  )
}

async function restoreChangedLocked(options: RestoreChangedRowsOptions): Promise<RestoreResult> {
  const started = performance.now()
  const { repository, snapshot, target, signal } = options
  checkEngines(snapshot, target)
  const objects = restoreObjects(
    snapshot,
    options,
    engineModule(snapshot.manifest.schema.engine).defaultSchema,
  )
  const schemas = new Map(objects.tables.map((table) => [tableKey(table), table]))
  const keyless = objects.tables.filter((table) => table.primaryKey === null)
  if (keyless.length > 0) {
    throw new DbsnapError(
      'NOT_SUPPORTED',
      `--only-changed matches rows by primary key, and ${keyless.map(tableName).join(', ')} has none: restore it whole (--tables … --force)`,
    )
  }
  // The tables resolved, not their names: a name read again as a pattern could select others
  // (`*`) or none (`a.b`).
  const diff = await diffLive({ repository, snapshot }, options.url, {
    tables: objects.tables,
    maxRowsPerSecond: options.maxRowsPerSecond,
    signal,
    logger: options.logger,
    onProgress: (event) => {
      if (event.type === 'table') {
        options.onProgress?.({ type: 'reading', table: event.table, rows: event.rows })
      }
    },
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
    // The target's checks (read-only, privileges); as a partial restore, so that objects the
    // target has (functions, types) are kept as they are: only rows are written.
    if (options.dryRun !== true) {
      await target.prepare({ ...objects, whole: false }, 'append', { signal })
    }
    // Pass 1: the keys of the rows the live tables gained, to delete before anything is written
    // back (a row written back may collide with one of them: a key equal under the column's
    // collation, a unique column).
    const deletes = new Map<string, CanonicalValue[][]>()
    const upserts = new Map<string, number>()
    // Tables with changes, in the order the diff gives them: pass 2 reads the changes again in
    // that order, once.
    const changed = new Set<string>()
    for await (const change of diff.rowChanges()) {
      throwIfAborted(signal)
      const key = changeKey(change)
      changed.add(key)
      if (change.change === 'added') {
        const keys = deletes.get(key) ?? []
        keys.push(change.key!)
        deletes.set(key, keys)
      } else upserts.set(key, (upserts.get(key) ?? 0) + 1)
    }
    for (const key of deletes.keys()) checkNoCascade(schemas.get(key)!, diff.liveSchema, schemas)
    const results = new Map<string, RestoredTable>(
      [...changed].map((key) => [
        key,
        {
          table: tableName(schemas.get(key)!),
          schema: schemas.get(key)!.schema,
          name: schemas.get(key)!.name,
          rows: (upserts.get(key) ?? 0) + (deletes.get(key)?.length ?? 0),
          before: null,
          status: options.dryRun === true ? 'planned' : 'restored',
          inserted: 0,
          updated: options.dryRun === true ? (upserts.get(key) ?? 0) : 0,
          skipped: 0,
          deleted: deletes.get(key)?.length ?? 0,
          seconds: 0,
        },
      ]),
    )
    if (options.dryRun !== true) {
      options.onProgress?.({
        type: 'plan',
        tables: [...results.values()].map((t) => ({ table: t.table, rows: t.rows })),
      })
      // Pass 2: per table, the deletes then the rows written back, in one call.
      const again = diff.again().rowChanges()[Symbol.asyncIterator]()
      let next = await again.next()
      const rowsOf = async function* (key: string): AsyncGenerator<CanonicalRow[]> {
        let batch: CanonicalRow[] = []
        while (next.done !== true && changeKey(next.value) === key) {
          if (next.value.change !== 'added') batch.push(next.value.old!)
          if (batch.length >= 1000) {
            yield batch
            batch = []
          }
          next = await again.next()
        }
        if (batch.length > 0) yield batch
      }
      for (const key of changed) {
        throwIfAborted(signal)
        // Tables come in the same order in both passes; skip what a table left unread.
        while (next.done !== true && changeKey(next.value) !== key) next = await again.next()
        const done = results.get(key)!
        const tableStarted = performance.now()
        options.onProgress?.({ type: 'table-start', table: done.table, rows: done.rows })
        const written = await target.restoreTable(schemas.get(key)!, tableRowsOf(rowsOf(key)), {
          mode: 'append',
          onConflict: 'update',
          signal,
          deleteKeys: deletes.get(key) ?? [],
          onRows: (rows) => options.onProgress?.({ type: 'rows', table: done.table, rows }),
        })
        Object.assign(done, written, { seconds: (performance.now() - tableStarted) / 1000 })
        options.logger?.info({ ...done }, 'table rows restored')
        options.onProgress?.({ type: 'table-done', table: done.table, result: done })
      }
    }
    return {
      snapshot: snapshot.id,
      mode: 'append',
      dryRun: options.dryRun === true,
      plan: await planOf([...results.values()], target, options),
      tables: [...results.values()],
      warnings: diff.warnings,
      seconds: (performance.now() - started) / 1000,
    }
  } finally {
    await diff.close()
  }
}

/**
 * One step per table with rows to write back; in a dry run, between what the target does to the
 * table before and after the write (MySQL drops and recreates its triggers: `planRowWrite`).
 */
async function planOf(
  tables: RestoredTable[],
  target: TargetAdapter,
  options: RestoreChangedRowsOptions,
): Promise<RestoreStep[]> {
  const steps: RestoreStep[] = []
  for (const table of tables) {
    const around =
      options.dryRun === true
        ? await target.planRowWrite?.(table, { signal: options.signal })
        : undefined
    steps.push(...(around?.before ?? []))
    steps.push({
      action: 'restore changed rows',
      object: table.table,
      rows: table.rows,
      destructive: true,
    })
    steps.push(...(around?.after ?? []))
  }
  return steps
}

/** The `tableKey` of the table a change is of: a diff just computed names schema and name. */
function changeKey(change: RowChange): string {
  return tableKey({ schema: change.schema!, name: change.name! })
}

/**
 * Refuses to delete rows of `table` that a table not being restored references with a foreign
 * key that would change it (`ON DELETE CASCADE`, `SET NULL`, `SET DEFAULT`): `--only-changed`
 * must not touch tables that were not selected. A key that restricts makes the delete fail instead.
 */
function checkNoCascade(
  table: QualifiedName,
  live: DatabaseSchema,
  selected: Map<string, TableSchema>,
): void {
  const key = tableKey(table)
  const name = tableName(table)
  const reaching = live.tables.flatMap((child) =>
    selected.has(tableKey(child))
      ? []
      : child.foreignKeys
          .filter(
            (fk) =>
              tableKey(fk.references) === key &&
              fk.onDelete !== 'no action' &&
              fk.onDelete !== 'restrict',
          )
          .map((fk) => `${tableName(child)}.${fk.name} (ON DELETE ${fk.onDelete.toUpperCase()})`),
  )
  if (reaching.length > 0) {
    throw new DbsnapError(
      'RESTORE_FAILED',
      `--only-changed would delete rows of ${name} that ${reaching.join(', ')} would change in turn, and that table is not being restored; select it too (--tables) or restore ${name} whole`,
      { details: { table: name, foreignKeys: reaching } },
    )
  }
}
