// Reads a MongoDB database's structure into the normalized schema: collections (options,
// validator, capped, time-series, collation), their indexes with every option, and views.

import { BSON, type Db, type Document } from 'mongodb'
import type { ConnectionTarget } from '../../connection/url.js'
import { abortError, throwIfAborted } from '../../errors.js'
import type {
  ColumnSchema,
  DatabaseSchema,
  IndexSchema,
  TableSchema,
  ViewSchema,
} from '../../schema/schema.js'
import { mongoQueryError } from './mongo-errors.js'
import { uuidText } from './mongo-read.js'

/** What a collection's `extra` holds (`TableSchema.extra`). */
export interface MongoCollectionExtra {
  /** `collection` or `timeseries`, as `listCollections` says. */
  type: string
  /** The collection's UUID, when the server reports one. */
  uuid: string | null
  /** Every option of `listCollections` (as canonical EJSON values), for restore and diff. */
  options: Record<string, unknown>
  capped: { size: number | null; max: number | null } | null
  /** `{ timeField, metaField, granularity, bucketMaxSpanSeconds, … }` as the server has it. */
  timeseries: Record<string, unknown> | null
  /** The collection's default collation, or null for the simple (binary) one. */
  collation: Record<string, unknown> | null
  /** `{ validator, validationLevel, validationAction }`, or null without a validator. */
  validation: {
    validator: Record<string, unknown>
    level: string | null
    action: string | null
  } | null
}

/** What an index's `extra` holds (`IndexSchema.extra`). */
export interface MongoIndexExtra {
  /** The key pattern in order, as canonical EJSON (`{"a":{"$numberInt":"1"},"b":"text"}`). */
  key: Record<string, unknown>
  /** Every option but `key`, `name` and `v`: sparse, expireAfterSeconds, collation, weights… */
  options: Record<string, unknown>
  /** The index format version (`v`). */
  version: number | null
}

/** The columns of every collection: `_id` and the whole document, both canonical EJSON. */
export const COLLECTION_COLUMNS: ColumnSchema[] = [
  {
    name: '_id',
    type: 'bson',
    encoding: 'ejson',
    nullable: false,
    default: null,
    generated: null,
    identity: null,
    collation: null,
  },
  {
    name: 'document',
    type: 'document',
    encoding: 'ejson',
    nullable: false,
    default: null,
    generated: null,
    identity: null,
    collation: null,
  },
]

/**
 * The schema of the database `db` is scoped to. Collections and views are sorted by name;
 * `system.*` collections (views' catalogue, profiler, time-series buckets) are left out, as
 * they are the server's own bookkeeping.
 */
export async function introspectMongo(
  db: Db,
  options: { signal?: AbortSignal; target: ConnectionTarget },
): Promise<DatabaseSchema> {
  const { signal, target } = options
  const run = async <T>(what: () => Promise<T>, collection?: string): Promise<T> => {
    throwIfAborted(signal)
    try {
      return await what()
    } catch (err) {
      if (signal?.aborted === true) throw abortError(signal)
      throw mongoQueryError(err, target, collection === undefined ? {} : { collection })
    }
  }
  const listed = await run(() => db.listCollections({}, { nameOnly: false }).toArray())
  const entries = listed
    .filter((c) => typeof c.name === 'string' && !c.name.startsWith('system.'))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const tables: TableSchema[] = []
  const views: ViewSchema[] = []
  for (const entry of entries) {
    const name = entry.name
    const collectionOptions: Document = entry.options ?? {}
    if (entry.type === 'view') {
      views.push(viewSchema(name, collectionOptions))
      continue
    }
    const indexes = (await run(
      () => db.collection(name).listIndexes().toArray(),
      name,
    )) as Document[]
    // Only estimates to size chunks: a server without collStats (or a user without the right to
    // run it) snapshots without them.
    const stats: { count?: number; size?: number } = await db
      .command({ collStats: name })
      .catch(() => ({}))
    tables.push(collectionSchema(entry, collectionOptions, indexes, stats))
  }
  return {
    engine: 'mongodb',
    schemas: [],
    tables,
    views,
    routines: [],
    sequences: [],
    enums: [],
    domains: [],
    compositeTypes: [],
    extensions: [],
  }
}

/**
 * A collection as the normalized schema has it, from its `listCollections` entry, its
 * `listIndexes` documents and its `collStats` (for the size estimates).
 */
export function collectionSchema(
  entry: Document,
  options: Document,
  indexes: Document[],
  stats: { count?: number; size?: number },
): TableSchema {
  const name = entry.name as string
  const info = (entry.info ?? {}) as { uuid?: unknown }
  const validator = options.validator as Document | undefined
  const extra: MongoCollectionExtra = {
    type: typeof entry.type === 'string' ? entry.type : 'collection',
    uuid: info.uuid === undefined ? null : uuidText(info.uuid),
    options: ejsonObject(options),
    capped:
      options.capped === true
        ? { size: numberOrNull(options.size), max: numberOrNull(options.max) }
        : null,
    timeseries: options.timeseries === undefined ? null : ejsonObject(options.timeseries),
    collation: options.collation === undefined ? null : ejsonObject(options.collation),
    validation:
      validator === undefined
        ? null
        : {
            validator: ejsonObject(validator),
            level: typeof options.validationLevel === 'string' ? options.validationLevel : null,
            action: typeof options.validationAction === 'string' ? options.validationAction : null,
          },
  }
  const sortedIndexes = indexes
    .map(indexSchema)
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  return {
    schema: '',
    name,
    kind: 'collection',
    columns: COLLECTION_COLUMNS.map((c) => ({ ...c })),
    primaryKey: { name: '_id_', columns: ['_id'] },
    uniqueKeys: [],
    indexes: sortedIndexes,
    foreignKeys: [],
    // A validator is the collection's check constraint: schema diff compares it like one.
    checks:
      extra.validation === null
        ? []
        : [
            {
              name: 'validator',
              definition: canonical(validator),
              extra: { level: extra.validation.level, action: extra.validation.action },
            },
          ],
    triggers: [],
    partitionOf: null,
    partitionBy: null,
    comment: null,
    estimatedRows: typeof stats.count === 'number' ? stats.count : null,
    estimatedBytes: typeof stats.size === 'number' && stats.size > 0 ? stats.size : null,
    extra: extra as unknown as Record<string, unknown>,
  }
}

/**
 * An index from its `listIndexes` document. `method` is the key's special type (`text`,
 * `hashed`, `2dsphere`, `2d`), `wildcard` for `$**` keys, else `btree`; `columns` are the key's
 * fields (a text index's: its weighted fields); `predicate` the partial filter as canonical
 * EJSON; `definition` the `createIndex(key, options)` that recreates it.
 */
export function indexSchema(index: Document): IndexSchema {
  const key = (index.key ?? {}) as Document
  const name = String(index.name)
  const { key: _key, name: _name, v, ns: _ns, ...rest } = index
  const values = Object.values(key)
  const method = Object.keys(key).some((k) => k === '$**' || k.endsWith('.$**'))
    ? 'wildcard'
    : (values.find((value): value is string => typeof value === 'string') ?? 'btree')
  const extra: MongoIndexExtra = {
    key: ejsonObject(key),
    options: ejsonObject(rest),
    version: numberOrNull(v),
  }
  const optionsText = Object.keys(rest).length === 0 ? '' : `, ${canonical(rest)}`
  return {
    name,
    unique: index.unique === true || name === '_id_',
    method,
    columns: textColumns(key, rest.weights) ?? Object.keys(key),
    predicate:
      rest.partialFilterExpression === undefined ? null : canonical(rest.partialFilterExpression),
    definition: `createIndex(${canonical(key)}${optionsText})`,
    constraint: name === '_id_',
    extra: extra as unknown as Record<string, unknown>,
  }
}

/** A view from its `listCollections` options (`viewOn`, `pipeline`, `collation`). */
export function viewSchema(name: string, options: Document): ViewSchema {
  const pipeline: unknown[] = Array.isArray(options.pipeline) ? options.pipeline : []
  return {
    schema: '',
    name,
    materialized: false,
    definition: canonical({ viewOn: options.viewOn as unknown, pipeline }),
    columns: [],
    indexes: [],
    extra: {
      viewOn: typeof options.viewOn === 'string' ? options.viewOn : null,
      pipeline: pipeline.map(ejsonObject),
      collation: options.collation === undefined ? null : ejsonObject(options.collation),
    },
  }
}

/**
 * A text index's key is `{_fts: "text", _ftsx: 1}` plus any prefix/suffix fields: its real
 * fields are the weighted ones (sorted by name, as the server keeps `weights`).
 */
function textColumns(key: Document, weights: unknown): string[] | undefined {
  if (key._fts !== 'text' || weights === null || typeof weights !== 'object') return undefined
  const plain = Object.keys(key).filter((k) => k !== '_fts' && k !== '_ftsx')
  return [...plain, ...Object.keys(weights).sort()]
}

/** A value as canonical Extended JSON text (types kept: `{"$numberInt":"1"}`). */
function canonical(value: unknown): string {
  return BSON.EJSON.stringify(value, { relaxed: false })
}

/** A document as plain JSON in canonical EJSON form, for the manifest's schema. */
function ejsonObject(value: unknown): Record<string, unknown> {
  return JSON.parse(canonical(value)) as Record<string, unknown>
}

function numberOrNull(value: unknown): number | null {
  if (typeof value === 'number') return value
  if (value instanceof BSON.Long || value instanceof BSON.Int32 || value instanceof BSON.Double) {
    return Number(value.valueOf())
  }
  return null
}
