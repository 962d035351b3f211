// A snapshot taken with `--tables` still records the schema of the whole database. What depends
// on a table it did not read (a view, a foreign key, a trigger) cannot be recreated without it,
// so a restore or an SQL export of the snapshot leaves those out, with a warning each.

import type { SnapshotManifest } from './manifest.js'
import { tableKey, tableName } from '../schema/table-name.js'
import type { DatabaseSchema, QualifiedName, TableSchema, ViewSchema } from '../schema/schema.js'

/** The schema a snapshot can restore, and why each object it lost was left out. */
export interface RestorableSchema {
  schema: DatabaseSchema
  /** One line per object left out: what it is, and the table it needs that the snapshot lacks. */
  leftOut: string[]
}

/**
 * The snapshot's schema without the tables it did not read and without what names them: foreign
 * keys referencing them, triggers and views whose definitions name them (and views reading a
 * view left out). Partitioned parents of tables read are kept. A snapshot of every table comes
 * back as it is.
 */
export function restorableSchema(manifest: SnapshotManifest): RestorableSchema {
  const { schema } = manifest
  const kept = new Set(manifest.tables.map(tableKey))
  // Parents hold no rows of their own: they stay when one of their partitions was read.
  for (let grew = true; grew;) {
    grew = false
    for (const table of schema.tables) {
      if (table.partitionOf === null || !kept.has(tableKey(table))) continue
      const parent = tableKey(table.partitionOf)
      if (kept.has(parent)) continue
      kept.add(parent)
      grew = true
    }
  }
  const missing = schema.tables.filter((table) => !kept.has(tableKey(table)))
  if (missing.length === 0) return { schema, leftOut: [] }
  // Only tables of this database count: a MySQL key into another database is kept.
  const missingKeys = new Set(missing.map(tableKey))

  const leftOut: string[] = []
  const lacks = (what: string, needed: QualifiedName): void => {
    leftOut.push(
      `${what} left out: the snapshot does not hold ${tableName(needed)}, which it needs`,
    )
  }
  const tables = schema.tables
    .filter((table) => kept.has(tableKey(table)))
    .map((table): TableSchema => {
      const foreignKeys = table.foreignKeys.filter((fk) => {
        if (!missingKeys.has(tableKey(fk.references))) return true
        lacks(`foreign key ${fk.name} of ${tableName(table)}`, fk.references)
        return false
      })
      const triggers = table.triggers.filter((trigger) => {
        const needed = missing.find((gone) => mentions(trigger.definition, gone))
        if (needed === undefined) return true
        lacks(`trigger ${trigger.name} of ${tableName(table)}`, needed)
        return false
      })
      return { ...table, foreignKeys, triggers }
    })
  // A view may read a view left out: repeat until no more go.
  const gone: QualifiedName[] = [...missing]
  let views: ViewSchema[] = schema.views
  for (let dropped = true; dropped;) {
    dropped = false
    views = views.filter((view) => {
      const needed = gone.find((object) => mentions(view.definition, object))
      if (needed === undefined) return true
      lacks(`${view.materialized ? 'materialized view' : 'view'} ${tableName(view)}`, needed)
      gone.push(view)
      dropped = true
      return false
    })
  }
  return { schema: { ...schema, tables, views }, leftOut }
}

/** Identifier characters, and the quotes around one: a name must not continue past either. */
const IDENTIFIER_OR_QUOTE = /[\p{L}\p{N}_$"`]/u

/**
 * True when `text` (a definition as the engine prints it) names `object`: schema-qualified where
 * the engine has schemas (PostgreSQL prints names so), bare or in `"…"` / `` `…` `` quotes, and not
 * as a member of something else (`t.object`). It errs towards yes: a definition wrongly taken to
 * need a missing table is left out with a warning, where a wrong no would fail the restore.
 */
function mentions(text: string, object: QualifiedName): boolean {
  const forms = (identifier: string): string[] => [
    `"${identifier.replaceAll('"', '""')}"`,
    `\`${identifier.replaceAll('`', '``')}\``,
    ...(/^[\p{L}_][\p{L}\p{N}_$]*$/u.test(identifier) ? [identifier] : []),
  ]
  const names =
    object.schema === ''
      ? forms(object.name)
      : forms(object.schema).flatMap((schema) =>
          forms(object.name).map((name) => `${schema}.${name}`),
        )
  return names.some((form) => {
    for (let at = text.indexOf(form); at !== -1; at = text.indexOf(form, at + 1)) {
      const before = text[at - 1] ?? ''
      const after = text[at + form.length] ?? ''
      if (!IDENTIFIER_OR_QUOTE.test(before) && before !== '.' && !IDENTIFIER_OR_QUOTE.test(after)) {
        return true
      }
    }
    return false
  })
}
