// What a MongoDB restore creates, as the snapshot recorded it: collection options, index specs
// and views in dependency order; and documents decoded from canonical rows. Pure functions.

import type { Document } from 'mongodb'
import type { CanonicalRow } from '../../canonical/value-encoding.js'
import { DbsnapError } from '../../errors.js'
import type { IndexSchema, TableSchema, ViewSchema } from '../../schema/schema.js'
import type { RestoreObjects } from '../target-adapter.js'
import { ejsonToDocument, parseEjson } from './mongo-ejson-decode.js'
import type { MongoCollectionExtra, MongoIndexExtra } from './mongo-introspect.js'
import { MAX_ID_TEXT, NOT_IMPLEMENTED } from './mongo-target.js'

/** The indexes to create: all but `_id_`, which comes with the collection. */
export function secondaryIndexes(table: TableSchema): IndexSchema[] {
  return table.indexes.filter((index) => index.name !== '_id_' && index.extra !== undefined)
}

/** The options a collection was created with (`listCollections`), typed again, in order. */
export function collectionOptions(table: TableSchema): Map<string, unknown> {
  const extra = table.extra as Partial<MongoCollectionExtra> | undefined
  return fromJson(extra?.options ?? {}) as Map<string, unknown>
}

/** The `createIndexes` entry of an index: its key in order, name, version and every option. */
export function indexSpec(index: IndexSchema): Document {
  const extra = index.extra as unknown as MongoIndexExtra
  const options = fromJson(extra.options) as Map<string, unknown>
  return {
    key: fromJson(extra.key),
    name: index.name,
    // v2 is the default since MongoDB 3.4, and FerretDB refuses the option: only an older one is
    // asked for.
    ...(extra.version === null || extra.version === 2 ? {} : { v: extra.version }),
    ...Object.fromEntries(options),
  }
}

/** The views a restore recreates: all of them when the whole snapshot is restored, else none. */
export function restoredViews(objects: RestoreObjects): ViewSchema[] {
  if (!objects.whole) return []
  const byName = new Map(objects.schema.views.map((view) => [view.name, view]))
  const ordered: ViewSchema[] = []
  const seen = new Set<string>()
  const visit = (view: ViewSchema): void => {
    if (seen.has(view.name)) return
    seen.add(view.name)
    const on = (view.extra as { viewOn?: unknown } | undefined)?.viewOn
    const base = typeof on === 'string' ? byName.get(on) : undefined
    if (base !== undefined) visit(base)
    ordered.push(view)
  }
  objects.schema.views.forEach(visit)
  return ordered
}

/** A value the manifest holds as canonical EJSON in JSON form, typed again (documents as Maps). */
export function fromJson(value: unknown): unknown {
  return parseEjson(JSON.stringify(value))
}

/** The option FerretDB names in its "not implemented" answer, e.g. `field "validator"`. */
export function notImplementedField(err: unknown): string | undefined {
  if ((err as { code?: unknown }).code !== NOT_IMPLEMENTED) return undefined
  const message = err instanceof Error ? err.message : ''
  return /field "([^"]+)"/.exec(message)?.[1]
}

export function rowParts(row: CanonicalRow, collection: string): [string, string] {
  const [id, text] = row
  if (row.length !== 2 || typeof id !== 'string' || typeof text !== 'string') {
    throw new DbsnapError(
      'RESTORE_FAILED',
      `a row of collection "${collection}" is not [_id, document] as Extended JSON text`,
      { details: { collection } },
    )
  }
  return [id, text]
}

export function decodeDocument(text: string, collection: string, id: string): Map<string, unknown> {
  try {
    return ejsonToDocument(text)
  } catch (err) {
    const shown = id.length > MAX_ID_TEXT ? `${id.slice(0, MAX_ID_TEXT)}…` : id
    throw new DbsnapError(
      'RESTORE_FAILED',
      `the document with _id ${shown} of collection "${collection}" cannot be written: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err, details: { collection, _id: id } },
    )
  }
}
