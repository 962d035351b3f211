// The shape of a diff: what `dbsnap diff --format json|ndjson` prints and what a saved diff holds.
// A versioned contract, the same for every engine (docs/diff-format.md).

import type { Engine } from '../schema/schema.js'
import type { CanonicalRow, CanonicalValue } from '../canonical/value-encoding.js'

export const DIFF_FORMAT = 'dbsnap-diff'
export const DIFF_FORMAT_VERSION = 1

/** One RFC 6902 operation (the subset a comparison produces). */
export interface PatchOperation {
  op: 'add' | 'remove' | 'replace'
  path: string
  value?: unknown
}

/** One column of a modified row: its canonical values before and after. */
export interface FieldChange {
  column: string
  old: CanonicalValue
  new: CanonicalValue
  /**
   * For JSON columns and MongoDB documents: the RFC 6902 operations that turn the old value into
   * the new one, paths down to the nested key. Absent when either value is not JSON.
   */
  patch?: PatchOperation[]
}

export type RowChangeKind = 'added' | 'removed' | 'modified'

/**
 * How a diff names a table: `table` as users write it and `--tables` reads it back (`schema.table`,
 * the name alone where the engine has no schemas, parts quoted where they must be: `"x.y".z`),
 * and the schema and name apart, for programs to match on.
 */
export interface TableRef {
  table: string
  schema: string
  name: string
}

/** A row that differs. `old` and `new` are canonical rows in the columns of their snapshot. */
export interface RowChange {
  /** `schema.table` as `TableRef` says. */
  table: string
  /** The table's schema (`''` where the engine has none) and name; absent in older saved diffs. */
  schema?: string
  name?: string
  change: RowChangeKind
  /** The row's key values, in key-column order; null for a table without a primary key. */
  key: CanonicalValue[] | null
  /** The row before: for `removed` and `modified`. */
  old?: CanonicalRow
  /** The row after: for `added` and `modified`. */
  new?: CanonicalRow
  /** For `modified`: only the columns that changed (columns in both snapshots). */
  fields?: FieldChange[]
}

export type SchemaObjectKind =
  | 'schema'
  | 'table'
  | 'table options'
  | 'column'
  | 'primary key'
  | 'unique key'
  | 'index'
  | 'foreign key'
  | 'check'
  | 'trigger'
  | 'rule'
  | 'replica identity'
  | 'view'
  | 'routine'
  | 'sequence'
  | 'enum'
  | 'domain'
  | 'composite type'
  | 'range type'
  | 'extension'
  | 'event'
  | 'collation'
  | 'event trigger'
  | 'operator'
  | 'cast'
  | 'text search configuration'
  | 'publication'
  | 'comment'

/** One schema object that differs. Definitions are the normalized schema's objects. */
export interface SchemaChange {
  kind: SchemaObjectKind
  change: 'added' | 'removed' | 'changed' | 'renamed'
  /** The object's name: `schema.table`, `schema.table.column`, `schema.table index_name`, … */
  object: string
  /** The table the object belongs to, for objects of a table. */
  table?: string
  /** For `renamed`: the name it had. */
  from?: string
  old?: unknown
  new?: unknown
}

export type TableStatus = 'added' | 'removed' | 'changed' | 'unchanged'

/** The column names a table's row changes are in: what the values of `key`, `old` and `new` are. */
export interface TableColumns {
  /** The key's columns, the order of `key`'s values (MongoDB: `["_id"]`); `[]` without a key. */
  key: string[]
  /** The columns of `old` rows: the table in `from`; null when `from` does not have it. */
  old: string[] | null
  /** The columns of `new` rows: the table in `to`; null when `to` does not have it. */
  new: string[] | null
}

/** One table's data difference. */
export interface TableDiff {
  /** `schema.table` as `TableRef` says. */
  table: string
  /** The table's schema (`''` where the engine has none) and name; absent in older saved diffs. */
  schema?: string
  name?: string
  status: TableStatus
  rowsBefore: number | null
  rowsAfter: number | null
  added: number
  removed: number
  modified: number
  /** Chunks whose rows had to be read; the rest were skipped as identical. */
  chunksRead: number
  chunksSkipped: number
  /** The names of the columns of its row changes; absent in older saved diffs. */
  columns?: TableColumns
}

export interface DiffSummary {
  /** True when nothing differs: no schema change and no row change. */
  equal: boolean
  schemaChanges: number
  tables: Record<TableStatus, number>
  rows: { added: number; removed: number; modified: number }
}

/** What a side of a diff is: a stored snapshot, or a live database. */
export interface DiffSide {
  snapshot: string | null
  name: string
  /** The engine of the database; absent in diffs saved before it was recorded. */
  engine?: Engine
  /** When the snapshot was taken, or when the live read started. */
  takenAt: string
  /** A live database, as a URL without its password. */
  live?: string
}
