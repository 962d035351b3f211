// The contract every restore target (PostgreSQL, MySQL/MariaDB, MongoDB) implements, beside the
// source adapter of the same engine: it recreates a snapshot's schema objects and loads its
// canonical rows, so the restore code (restore/restore.ts) never depends on a driver.

import type { CanonicalValue } from '../canonical/value-encoding.js'
import type { ConnectionTarget, Engine } from '../connection/url.js'
import type { QualifiedName, TableSchema } from '../schema/schema.js'
import type { RestoreObjects } from '../repository/restore-objects.js'
import type { ColumnBatch, TableRows } from '../repository/snapshot-rows.js'
import type { ConnectOptions, ServerIdentity } from './source-adapter.js'

// A target is handed what a snapshot holds as the repository reads it: part of this contract.
export type { ColumnBatch, RestoreObjects, TableRows }

/** `overwrite`: the table ends up exactly as in the snapshot. `append`: rows are inserted. */
export type RestoreMode = 'overwrite' | 'append'

/** What an appended row whose key is already in the target table does. */
export type OnConflict = 'fail' | 'skip' | 'update'

/** What the target holds of one table a restore would write. */
export interface TargetTableState {
  table: QualifiedName
  exists: boolean
  /** Rows the table holds now (0 when it does not exist). */
  rows: number
  /** The table's columns as the target has them, or null when it does not exist. */
  columns: { name: string; type: string }[] | null
}

export interface RestoreTableOptions {
  mode: RestoreMode
  /** Append mode only; default `fail`. */
  onConflict: OnConflict
  signal?: AbortSignal
  /** Called as rows are written, with the number written since the last call. */
  onRows?: (rows: number) => void
  /**
   * Append mode (`restore --only-changed`): first delete the rows with these keys (canonical key
   * values in key-column order), then write `rows`, in the same transaction where there is one.
   */
  deleteKeys?: CanonicalValue[][]
}

export interface RestoreTableResult {
  /** Rows inserted (append: new rows only). */
  inserted: number
  /** Append with `--on-conflict update`: existing rows replaced. */
  updated: number
  /** Append with `--on-conflict skip`: rows left as the target had them. */
  skipped: number
}

/** One step of a restore plan, as `--dry-run` shows it. */
export interface RestoreStep {
  /** `create schema`, `create table`, `drop table`, `load rows`, `create index`, … */
  action: string
  /** What it acts on, e.g. `public.orders`, `index orders_pkey`. */
  object: string
  /** Rows a `load rows` step writes. */
  rows?: number
  /** True for a step that destroys data already in the target (drop, truncate, replace). */
  destructive?: boolean
}

/**
 * A connection to the database a snapshot is restored into.
 *
 * Order of calls: `inspect` (the orchestrator checks `--force`), `prepare` once, `restoreTable`
 * once per table, `finish` once. Guarantees: every method rejects with a `DbsnapError`
 * (`TARGET_*`, `CONNECTION_*`, `RESTORE_FAILED`, `ABORTED`), never a raw driver error, and no
 * message holds a password; a table not in `RestoreObjects.tables` is never written, dropped or
 * truncated (no `CASCADE` that would reach one). `close()` is idempotent and never throws.
 */
export interface TargetAdapter {
  readonly engine: Engine
  /**
   * What the restore left out because the target could not take it (an index type, a
   * collection option the server does not implement), one sentence each; read after `finish`.
   */
  readonly warnings?: readonly string[]
  /** Who answers, to compare its version with the snapshot's source: one light query at most. */
  identify(options?: { signal?: AbortSignal }): Promise<ServerIdentity>
  /** What the target holds of each table, in the same order. */
  inspect(tables: QualifiedName[], options?: { signal?: AbortSignal }): Promise<TargetTableState[]>
  /** The steps `prepare`, `restoreTable` and `finish` would take, without writing anything. */
  plan(
    objects: RestoreObjects,
    mode: RestoreMode,
    options?: { signal?: AbortSignal },
  ): Promise<RestoreStep[]>
  /**
   * What writing rows into `table`, which exists, does to it besides the rows: the steps before
   * the write and after it that a plan of `restore --only-changed` (which writes rows back into
   * existing tables through `restoreTable` and creates nothing) shows around the table's rows.
   * Absent, or empty lists, when the target does nothing else.
   */
  planRowWrite?(
    table: QualifiedName,
    options?: { signal?: AbortSignal },
  ): Promise<{ before: RestoreStep[]; after: RestoreStep[] }>
  /**
   * Creates what the tables need before any of them: schemas, extensions, types, domains,
   * sequences, functions. Objects that already exist with the same name are kept.
   */
  prepare(
    objects: RestoreObjects,
    mode: RestoreMode,
    options?: { signal?: AbortSignal },
  ): Promise<void>
  /**
   * Restores one table from its rows in key order. `overwrite`: the table is (re)created as the
   * snapshot has it and loaded; `append`: rows are inserted into the existing table (created when
   * missing), conflicts handled by `onConflict`. On PostgreSQL all of it is one transaction: a
   * failure or a crash leaves the table as it was.
   */
  restoreTable(
    table: TableSchema,
    rows: TableRows,
    options: RestoreTableOptions,
  ): Promise<RestoreTableResult>
  /**
   * After every table: foreign keys, views, triggers, routines that read tables, events,
   * sequence positions — what `objects` holds beyond the tables.
   */
  finish(
    objects: RestoreObjects,
    mode: RestoreMode,
    options?: { signal?: AbortSignal },
  ): Promise<void>
  close(): Promise<void>
}

/** How the engine opens a target adapter; one per engine folder (`<engine>-target.ts`). */
export type ConnectTargetFn = (
  target: ConnectionTarget,
  options: ConnectOptions,
) => Promise<TargetAdapter>

/**
 * A snapshot as an SQL script that the engine's own client (`psql`, `mysql`) loads into an
 * empty database: what `dbsnap export --format sql` writes. The target adapter of the same
 * engine runs the same statements, so a loaded export and a restore end up identical.
 */
export interface SqlScript {
  /** Statements before any rows: schemas, extensions, types, sequences, functions, tables. */
  preData(objects: RestoreObjects): string
  /** One table's rows as script text, streamed (`COPY … FROM stdin` blocks, multi-row INSERTs). */
  tableData(table: TableSchema, rows: TableRows): AsyncIterable<string>
  /** After every table's rows: indexes, constraints, foreign keys, views, triggers, sequence values. */
  postData(objects: RestoreObjects): string
}
