// `diffSnapshots`: what changed between two snapshots, schema first, then data table by table.
// Tables whose chunk lists are equal are unchanged without a row read; the others are diffed
// region by region (data-diff.ts), so the cost follows the change, not the database.

import { engineModule } from '../adapters/engines.js'
import { DbsnapError, throwIfAborted } from '../errors.js'
import type { TableEntry } from '../repository/manifest.js'
import { tableKey, tableName } from '../schema/table-name.js'
import type { Repository, StoredSnapshot } from '../repository/repository.js'
import type { DatabaseSchema, TableSchema } from '../schema/schema.js'
import { selectTables, type TableSelector } from '../schema/table-filter.js'
import { diffTableData, type TableSide } from './data-diff.js'
import {
  DIFF_FORMAT,
  DIFF_FORMAT_VERSION,
  type DiffSide,
  type DiffSummary,
  type RowChange,
  type SchemaChange,
  type TableDiff,
  type TableRef,
} from './diff-format.js'
import { columnPairs } from './field-diff.js'
import { diffSchemas } from './schema-diff.js'

/** A snapshot and the repository holding its chunks. */
export interface SnapshotSide {
  repository: Repository
  snapshot: StoredSnapshot
}

export interface DiffOptions {
  /** Tables to compare (`schema.table`, globs, or tables already resolved); all when empty. */
  tables?: TableSelector[]
  exclude?: TableSelector[]
  /** Only the schema; no row is read. */
  schemaOnly?: boolean
  /** Only the data; schema changes are not reported. */
  dataOnly?: boolean
  signal?: AbortSignal
}

/**
 * The difference between two snapshots. `schema` and the table list are known at once;
 * `rowChanges()` streams the row changes (once), updating each table's counts as it goes, and
 * `summary()` is final when that stream has ended.
 */
export interface SnapshotDiff {
  format: typeof DIFF_FORMAT
  version: typeof DIFF_FORMAT_VERSION
  from: DiffSide
  to: DiffSide
  schema: SchemaChange[]
  tables: TableDiff[]
  rowChanges(): AsyncGenerator<RowChange>
  summary(): DiffSummary
}

/**
 * Compares snapshot `from` with snapshot `to` (of the same engine).
 *
 * @throws `INVALID_ARGUMENT` for snapshots of different engines; `TABLE_NOT_FOUND` for a
 *   `--tables` name in neither; storage and `DATA_CORRUPT` errors from reading chunks.
 *
 * @example
 * const diff = diffSnapshots({ repository, snapshot: a }, { repository, snapshot: b })
 * for await (const change of diff.rowChanges()) console.log(change)
 * console.log(diff.summary())
 */
export function diffSnapshots(
  from: SnapshotSide,
  to: SnapshotSide,
  options: DiffOptions = {},
): SnapshotDiff {
  const a = from.snapshot.manifest
  const b = to.snapshot.manifest
  if (a.source.engine !== b.source.engine) {
    throw new DbsnapError(
      'INVALID_ARGUMENT',
      `cannot diff a ${a.source.engine} snapshot with a ${b.source.engine} snapshot`,
    )
  }
  const schemaA = a.schema
  const schemaB = b.schema
  const chosen = chosenTables(schemaA, schemaB, options)
  const schema =
    options.dataOnly === true
      ? []
      : diffSchemas(restrict(schemaA, chosen), restrict(schemaB, chosen))
  // Schema only: no table's data is looked at, so none is listed.
  const pairs = options.schemaOnly === true ? [] : pairTables(a.tables, b.tables, chosen)
  const tables: TableDiff[] = pairs.map(({ ref, before, after }) => ({
    ...ref,
    status:
      before === undefined
        ? 'added'
        : after === undefined
          ? 'removed'
          : before.index === after.index && sameColumns(before, after)
            ? 'unchanged'
            : 'changed',
    rowsBefore: before?.rows ?? null,
    rowsAfter: after?.rows ?? null,
    added: 0,
    removed: 0,
    modified: 0,
    chunksRead: 0,
    chunksSkipped: before !== undefined && before.index === after?.index ? before.chunks : 0,
    columns: {
      key: (after ?? before)?.key ?? [],
      old: before?.columns ?? null,
      new: after?.columns ?? null,
    },
  }))

  async function* rowChanges(): AsyncGenerator<RowChange> {
    for (const [i, { ref, before, after }] of pairs.entries()) {
      const table = tables[i]!
      if (table.status === 'unchanged') continue
      throwIfAborted(options.signal)
      const sideA = await side(from.repository, before, after, options.signal)
      const sideB = await side(to.repository, after, before, options.signal)
      const changes = diffTableData(sideA, sideB, {
        table: ref,
        columns: columnPairs(sideA, sideB, schemaTable(schemaB, after)),
        signal: options.signal,
        onChunk: (read) => {
          if (read) table.chunksRead++
          else table.chunksSkipped++
        },
      })
      for await (const change of changes) {
        table[change.change]++
        yield change
      }
      // A table whose chunks all differed but whose rows are equal (e.g. a column only added).
      if (table.status === 'changed' && table.added + table.removed + table.modified === 0) {
        table.status = 'unchanged'
      }
    }
  }

  return {
    format: DIFF_FORMAT,
    version: DIFF_FORMAT_VERSION,
    from: describeSide(from.snapshot),
    to: describeSide(to.snapshot),
    schema,
    tables,
    rowChanges,
    summary: () => summarize(schema, tables),
  }
}

/**
 * A diff of changes already known (generated, or read back), streamed from `changes` once: what
 * `saveDiff` and the printers take, without two snapshots to compare.
 */
export function diffOfChanges(
  changes: Iterable<RowChange> | AsyncIterable<RowChange>,
  sides: { from: DiffSide; to: DiffSide },
): SnapshotDiff {
  return {
    format: DIFF_FORMAT,
    version: DIFF_FORMAT_VERSION,
    ...sides,
    schema: [],
    tables: [],
    async *rowChanges() {
      yield* changes
    },
    summary: () => summarize([], []),
  }
}

/** Counts of a diff; `equal` when nothing differs. */
export function summarize(schema: SchemaChange[], tables: TableDiff[]): DiffSummary {
  const count = (status: TableDiff['status']): number =>
    tables.filter((t) => t.status === status).length
  const rows = {
    added: tables.reduce((n, t) => n + t.added, 0),
    removed: tables.reduce((n, t) => n + t.removed, 0),
    modified: tables.reduce((n, t) => n + t.modified, 0),
  }
  const summary: DiffSummary = {
    equal: false,
    schemaChanges: schema.length,
    tables: {
      added: count('added'),
      removed: count('removed'),
      changed: count('changed'),
      unchanged: count('unchanged'),
    },
    rows,
  }
  summary.equal =
    summary.schemaChanges === 0 &&
    summary.tables.added + summary.tables.removed + summary.tables.changed === 0 &&
    rows.added + rows.removed + rows.modified === 0
  return summary
}

function describeSide(snapshot: StoredSnapshot): DiffSide {
  return {
    snapshot: snapshot.id,
    name: snapshot.manifest.name,
    engine: snapshot.manifest.source.engine,
    takenAt: snapshot.manifest.startedAt,
  }
}

/** Keys (`tableKey`) of the tables in scope: every table of either side, or those selected. */
function chosenTables(
  a: DatabaseSchema,
  b: DatabaseSchema,
  options: DiffOptions,
): Set<string> | null {
  if ((options.tables ?? []).length === 0 && (options.exclude ?? []).length === 0) return null
  const all = new Map<string, TableSchema>()
  for (const table of [...a.tables, ...b.tables]) all.set(tableKey(table), table)
  const selected = selectTables([...all.values()], {
    include: options.tables,
    exclude: options.exclude,
    defaultSchema: engineModule(b.engine).defaultSchema,
    where: 'either snapshot',
  })
  return new Set(selected.map(tableKey))
}

/** The schema with only the chosen tables (other objects stay: they are not tables). */
function restrict(schema: DatabaseSchema, chosen: Set<string> | null): DatabaseSchema {
  if (chosen === null) return schema
  return { ...schema, tables: schema.tables.filter((t) => chosen.has(tableKey(t))) }
}

interface TablePair {
  ref: TableRef
  before: TableEntry | undefined
  after: TableEntry | undefined
}

/** Tables by schema and name: those of `b` in its order, then those only `a` has. */
function pairTables(a: TableEntry[], b: TableEntry[], chosen: Set<string> | null): TablePair[] {
  const inScope = (t: TableEntry): boolean => chosen === null || chosen.has(tableKey(t))
  const before = new Map(a.filter(inScope).map((t) => [tableKey(t), t]))
  const pairs: TablePair[] = b.filter(inScope).map((after) => {
    const key = tableKey(after)
    const pair = { ref: tableRef(after), before: before.get(key), after }
    before.delete(key)
    return pair
  })
  for (const entry of before.values()) {
    pairs.push({ ref: tableRef(entry), before: entry, after: undefined })
  }
  return pairs
}

/** How the diff names a table: `table` to read, `schema` and `name` to match on. */
function tableRef(table: { schema: string; name: string }): TableRef {
  return { table: tableName(table), schema: table.schema, name: table.name }
}

function sameColumns(a: TableEntry, b: TableEntry): boolean {
  return (
    a.columns.join('\0') === b.columns.join('\0') &&
    (a.key ?? []).join('\0') === (b.key ?? []).join('\0')
  )
}

function schemaTable(
  schema: DatabaseSchema,
  entry: TableEntry | undefined,
): TableSchema | undefined {
  if (entry === undefined) return undefined
  return schema.tables.find((t) => t.schema === entry.schema && t.name === entry.name)
}

/** One side of a table for the data diff; a missing table is an empty one shaped like `other`. */
async function side(
  repository: Repository,
  entry: TableEntry | undefined,
  other: TableEntry | undefined,
  signal: AbortSignal | undefined,
): Promise<TableSide> {
  if (entry === undefined) {
    return { repository, chunks: [], columns: other?.columns ?? [], key: other?.key ?? null }
  }
  return {
    repository,
    chunks: await repository.readIndex(entry.index, signal),
    columns: entry.columns,
    key: entry.key,
  }
}
