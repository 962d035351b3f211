// Restore: a snapshot, whole or some of its tables, into a live database through the target
// adapter of its engine. The plan is made and checked before anything is written: the engines
// must match, tables the restore would replace must be empty unless forced, and appended tables
// must have the snapshot's columns. Tables not selected are never touched.

import type { Logger } from 'pino'
import { engineModule } from '../adapters/engines.js'
import type {
  OnConflict,
  RestoreMode,
  RestoreStep,
  TargetAdapter,
  TargetTableState,
} from '../adapters/target-adapter.js'
import { restoreObjects } from '../repository/restore-objects.js'
import { DbsnapError, isDbsnapError, throwIfAborted } from '../errors.js'
import { tableKey, tableName } from '../schema/table-name.js'
import type { Repository, StoredSnapshot } from '../repository/repository.js'
import type { TableSchema } from '../schema/schema.js'
import { snapshotTableRows } from '../repository/snapshot-rows.js'
import type { TableSelector } from '../schema/table-filter.js'

export interface RestoreOptions {
  repository: Repository
  snapshot: StoredSnapshot
  target: TargetAdapter
  /** Tables to restore (all when empty): patterns as `snapshot --tables` takes them, or tables. */
  tables?: TableSelector[]
  exclude?: TableSelector[]
  /** Default `overwrite`. */
  mode?: RestoreMode
  /** Append mode only; default `fail`. */
  onConflict?: OnConflict
  /** Overwrite tables that hold rows. */
  force?: boolean
  /** Plan and check only; nothing is written. */
  dryRun?: boolean
  signal?: AbortSignal
  logger?: Logger
  onProgress?: (event: RestoreProgress) => void
}

export type RestoreProgress =
  /** The tables to write and the rows each will get, once the plan is checked. */
  | { type: 'plan'; tables: { table: string; rows: number }[] }
  /** `--only-changed`: rows of a live table read and compared so far (cumulative). */
  | { type: 'reading'; table: string; rows: number }
  | { type: 'table-start'; table: string; rows: number }
  | { type: 'rows'; table: string; rows: number }
  | { type: 'table-done'; table: string; result: RestoredTable }

export interface RestoredTable {
  /** `schema.table` as users write it (quoted where needed); `schema` and `name` apart. */
  table: string
  schema: string
  name: string
  /** Rows the snapshot holds for the table; `--only-changed`: rows that differed. */
  rows: number
  /** What the target held before: null when the table did not exist. */
  before: { rows: number } | null
  status: 'planned' | 'restored'
  inserted: number
  updated: number
  skipped: number
  /** `--only-changed`: rows the live table had and the snapshot not, deleted. */
  deleted: number
  seconds: number
}

export interface RestoreResult {
  snapshot: string
  mode: RestoreMode
  dryRun: boolean
  /** Every step, in order; `destructive` marks what replaces data already in the target. */
  plan: RestoreStep[]
  tables: RestoredTable[]
  warnings: string[]
  seconds: number
}

/**
 * Restores `snapshot` into `target`. On failure rejects with the adapter's error, its
 * `details.restored` listing the tables completed before it and `details.failed` the table
 * that failed (PostgreSQL: left as it was; other engines: see the plan).
 *
 * @example
 * const target = await connectTarget('postgres://app@db/shop_copy')
 * try { await restoreSnapshot({ repository, snapshot, target, tables: ['orders'] }) }
 * finally { await target.close() }
 */
export async function restoreSnapshot(options: RestoreOptions): Promise<RestoreResult> {
  return options.repository.withLock('shared', 'restore', options.signal, () =>
    restoreLocked(options),
  )
}

async function restoreLocked(options: RestoreOptions): Promise<RestoreResult> {
  const started = performance.now()
  const { repository, snapshot, target, signal } = options
  const mode = options.mode ?? 'overwrite'
  const onConflict = options.onConflict ?? 'fail'
  const manifest = snapshot.manifest
  checkEngines(snapshot, target)
  const objects = restoreObjects(
    snapshot,
    options,
    engineModule(snapshot.manifest.schema.engine).defaultSchema,
  )
  const entries = new Map(manifest.tables.map((entry) => [tableKey(entry), entry]))
  const states = await target.inspect(objects.tables, { signal })
  // A collection's two columns have no types to compare.
  const checkTypes = target.engine !== 'mongodb'
  checkTargetTables(objects.tables, states, mode, options.force === true, checkTypes)
  const warnings = [...objects.leftOut]
  const description = await target.identify({ signal })
  if (olderVersion(description.serverVersion, manifest.source.serverVersion)) {
    warnings.push(
      `the target runs ${description.product} ${description.serverVersion}, older than the snapshot's ${manifest.source.product} ${manifest.source.serverVersion}`,
    )
  }
  // A load step shows the rows it writes: the snapshot knows them, the adapter need not. Steps
  // name their object as people read it (`tableName`), which tells tables apart too.
  const loaded = new Map(objects.tables.map((t) => [tableName(t), entries.get(tableKey(t))!.rows]))
  const plan = (await target.plan(objects, mode, { signal })).map((step) =>
    step.action === 'load rows' && step.rows === undefined && loaded.has(step.object)
      ? { ...step, rows: loaded.get(step.object)! }
      : step,
  )
  const tables: RestoredTable[] = objects.tables.map((table, i) => ({
    table: tableName(table),
    schema: table.schema,
    name: table.name,
    rows: entries.get(tableKey(table))?.rows ?? 0,
    before: states[i]!.exists ? { rows: states[i]!.rows } : null,
    status: 'planned',
    inserted: 0,
    updated: 0,
    skipped: 0,
    deleted: 0,
    seconds: 0,
  }))
  const result = (): RestoreResult => ({
    snapshot: snapshot.id,
    mode,
    dryRun: options.dryRun === true,
    plan,
    tables,
    warnings,
    seconds: (performance.now() - started) / 1000,
  })
  if (options.dryRun === true) return result()

  options.onProgress?.({
    type: 'plan',
    tables: tables.map((t) => ({ table: t.table, rows: t.rows })),
  })
  await target.prepare(objects, mode, { signal })
  for (const [i, table] of objects.tables.entries()) {
    throwIfAborted(signal)
    const done = tables[i]!
    // Every table chosen has an entry: restoreObjects keeps only tables the snapshot read.
    const entry = entries.get(tableKey(table))!
    const tableStarted = performance.now()
    options.onProgress?.({ type: 'table-start', table: done.table, rows: done.rows })
    try {
      const rows = snapshotTableRows(repository, entry, { signal })
      const written = await target.restoreTable(table, rows, {
        mode,
        onConflict,
        signal,
        onRows: (rows) => options.onProgress?.({ type: 'rows', table: done.table, rows }),
      })
      Object.assign(done, written, {
        status: 'restored',
        seconds: (performance.now() - tableStarted) / 1000,
      })
      options.logger?.info({ table: done.table, ...written }, 'table restored')
      options.onProgress?.({ type: 'table-done', table: done.table, result: done })
    } catch (err) {
      throw withRestoredTables(err, tables.slice(0, i), done.table)
    }
  }
  try {
    await target.finish(objects, mode, { signal })
  } catch (err) {
    throw withRestoredTables(err, tables, null)
  }
  warnings.push(...(target.warnings ?? []))
  return result()
}

/** Refuses a snapshot of another engine than the target's (`TARGET_ENGINE_MISMATCH`). */
export function checkEngines(snapshot: StoredSnapshot, target: TargetAdapter): void {
  const { source } = snapshot.manifest
  if (source.engine === target.engine) return
  const id = snapshot.id.slice(0, 12)
  throw new DbsnapError(
    'TARGET_ENGINE_MISMATCH',
    `snapshot ${id} is of a ${source.product} database and cannot be restored into ${target.engine}; export it instead: dbsnap export ${id} --format ndjson`,
    { details: { snapshot: snapshot.id, source: source.engine, target: target.engine } },
  )
}

/** Refuses what would lose or mix up data: non-empty tables to overwrite, mismatched columns. */
function checkTargetTables(
  tables: TableSchema[],
  states: TargetTableState[],
  mode: RestoreMode,
  force: boolean,
  checkTypes: boolean,
): void {
  if (mode === 'overwrite' && !force) {
    const full = states.filter((state) => state.exists && state.rows > 0)
    if (full.length > 0) {
      const names = full.map((state) => `${tableName(state.table)} (${state.rows} rows)`)
      throw new DbsnapError(
        'TARGET_NOT_EMPTY',
        `the target already holds rows in ${names.join(', ')}; a restore would replace them: add --force to do so, or --mode append`,
        { details: { tables: full.map((state) => tableName(state.table)) } },
      )
    }
  }
  if (mode !== 'append') return
  const mismatches: string[] = []
  tables.forEach((table, i) => {
    const columns = states[i]!.columns
    if (columns === null) return
    const wanted = table.columns.map((column) => column.name)
    const have = columns.map((column) => column.name)
    const missing = wanted.filter((name) => !have.includes(name))
    const extra = have.filter((name) => !wanted.includes(name))
    // Another type would convert, truncate or clamp the appended values (MySQL does so quietly).
    const retyped = checkTypes
      ? table.columns.flatMap((column) => {
          const there = columns.find((c) => c.name === column.name)
          return there === undefined || there.type.toLowerCase() === column.type.toLowerCase()
            ? []
            : [`${column.name} is ${there.type}, not ${column.type}`]
        })
      : []
    if (missing.length + extra.length + retyped.length === 0) return
    const parts = [
      missing.length > 0 ? `missing ${missing.join(', ')}` : '',
      extra.length > 0 ? `not in the snapshot: ${extra.join(', ')}` : '',
      ...retyped,
    ].filter((part) => part !== '')
    mismatches.push(`${tableName(table)} (${parts.join('; ')})`)
  })
  if (mismatches.length > 0) {
    throw new DbsnapError(
      'TARGET_SCHEMA_MISMATCH',
      `cannot append: the target's columns differ from the snapshot's in ${mismatches.join(', ')}`,
      { details: { tables: mismatches } },
    )
  }
}

/** The error, saying which tables were restored before it and which one failed. */
function withRestoredTables(
  err: unknown,
  restored: RestoredTable[],
  failed: string | null,
): unknown {
  if (!isDbsnapError(err)) return err
  const names = restored.map((table) => table.table)
  const where = failed === null ? 'finishing the restore' : `restoring ${failed}`
  const before =
    names.length === 0
      ? 'no table was restored before it'
      : `restored before it: ${names.join(', ')}`
  return new DbsnapError(err.code, `${err.message} (while ${where}; ${before})`, {
    retryable: err.retryable,
    cause: err,
    details: { ...err.details, restored: names, failed },
  })
}

/** True when version `a` is older than `b`, comparing their leading numbers. */
function olderVersion(a: string, b: string): boolean {
  const parts = (v: string): number[] => (/^[\d.]+/.exec(v)?.[0] ?? '').split('.').map(Number)
  const [x, y] = [parts(a), parts(b)]
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0)
    if (d !== 0) return d < 0
  }
  return false
}
