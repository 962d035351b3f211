// What a restore or an SQL export of a snapshot recreates: the tables chosen, ordered so that
// foreign keys can be created, and the schema objects they need, from the snapshot's manifest.

import type { DatabaseSchema, TableSchema } from '../schema/schema.js'
import { selectTables, type TableSelector } from '../schema/table-filter.js'
import { tableKey } from '../schema/table-name.js'
import { restorableSchema } from './partial-snapshot.js'
import type { StoredSnapshot } from './repository.js'

/** What a restore recreates, taken from a snapshot's manifest. */
export interface RestoreObjects {
  /** The snapshot's whole schema: what the selected tables may depend on is looked up here. */
  schema: DatabaseSchema
  /** The tables whose rows are restored, in the order they will be. */
  tables: TableSchema[]
  /**
   * True when the whole snapshot is restored: then every object of `schema` is recreated
   * (views, routines, sequences, types, events…); otherwise only what `tables` need
   * (their types, sequences and the functions their defaults call).
   */
  whole: boolean
}

/** What a restore of `snapshot` recreates, and the objects it leaves out (`restorableSchema`). */
export interface SnapshotRestoreObjects extends RestoreObjects {
  leftOut: string[]
}

/**
 * The tables chosen, parents of foreign keys first, and what they need from the schema. Of a
 * snapshot taken with `--tables`, objects that need a table it did not read are left out.
 * `defaultSchema` is the engine's (`engineModule(engine).defaultSchema`): the schema of a table
 * named without one.
 */
export function restoreObjects(
  snapshot: StoredSnapshot,
  options: { tables?: TableSelector[]; exclude?: TableSelector[] },
  defaultSchema: string,
): SnapshotRestoreObjects {
  const { schema, leftOut } = restorableSchema(snapshot.manifest)
  const withRows = new Set(snapshot.manifest.tables.map(tableKey))
  const whole = (options.tables ?? []).length === 0 && (options.exclude ?? []).length === 0
  // Only tables the snapshot read can be chosen (partitioned parents stand for their partitions):
  // a name of one it left out is as unknown as a typo.
  const read = schema.tables.filter(
    (table) => table.kind === 'partitioned' || withRows.has(tableKey(table)),
  )
  const chosen = selectTables(read, {
    include: options.tables,
    exclude: options.exclude,
    defaultSchema,
    where: `snapshot ${snapshot.id.slice(0, 12)}`,
  })
  return { schema, tables: referencedFirst(chosen), whole, leftOut }
}

/** Tables ordered so that a table comes after those its foreign keys reference (when acyclic). */
function referencedFirst(tables: TableSchema[]): TableSchema[] {
  const byKey = new Map(tables.map((table) => [tableKey(table), table]))
  const ordered: TableSchema[] = []
  const state = new Map<string, 'visiting' | 'done'>()
  const visit = (table: TableSchema): void => {
    const key = tableKey(table)
    if (state.has(key)) return
    state.set(key, 'visiting')
    for (const fk of table.foreignKeys) {
      const parent = byKey.get(tableKey(fk.references))
      if (parent !== undefined && parent !== table) visit(parent)
    }
    state.set(key, 'done')
    ordered.push(table)
  }
  tables.forEach(visit)
  return ordered
}
