// MongoDB restore target: recreates each collection with its options, loads its documents from
// canonical Extended JSON with ordered `insertMany` batches, then builds its indexes and views.

import type { Logger } from 'pino'
import {
  MongoBulkWriteError,
  type Collection,
  type Filter,
  type Db,
  type Document,
  type MongoClient,
} from 'mongodb'
import type { CanonicalRow, CanonicalValue } from '../../canonical/value-encoding.js'
import type { ConnectionTarget } from '../../connection/url.js'
import { DbsnapError, abortError, isDbsnapError, throwIfAborted } from '../../errors.js'
import type { QualifiedName, TableSchema } from '../../schema/schema.js'
import { DEFAULT_TIMEOUT_MS, type ServerIdentity } from '../source-adapter.js'
import type {
  ConnectTargetFn,
  OnConflict,
  RestoreMode,
  RestoreObjects,
  RestoreStep,
  RestoreTableOptions,
  RestoreTableResult,
  TargetAdapter,
  TargetTableState,
} from '../target-adapter.js'
import { endpoint } from '../connect-errors.js'
import { MongoAdapter, openMongoClient } from './mongo-source.js'
import { parseEjson } from './mongo-ejson-decode.js'
import { bsonIdToEjson } from './mongo-ejson.js'
import { mongoWriteError } from './mongo-errors.js'
import { COLLECTION_COLUMNS } from './mongo-introspect.js'
import {
  collectionOptions,
  decodeDocument,
  fromJson,
  indexSpec,
  notImplementedField,
  restoredViews,
  rowParts,
  secondaryIndexes,
} from './mongo-target-objects.js'

/** Documents per `insertMany`: the server's own batch limit is 100,000, FerretDB's far lower. */
const BATCH_DOCUMENTS = 1000
/**
 * Characters of Extended JSON per `insertMany`, about as many BSON bytes (more for CJK text,
 * fewer for binary): memory stays bounded, and the driver splits a batch the server would
 * refuse (16 MiB per document, 48 MB per message) on its own.
 */
const BATCH_CHARS = 8 * 1024 * 1024
/** Documents per `deleteMany` when an append that hit a conflict is undone. */
const UNDO_BATCH = 1000
const DUPLICATE_KEY = 11000
/** `NotImplemented`: FerretDB's answer to options and features it lacks. */
export const NOT_IMPLEMENTED = 238
/** An `_id` is shown at most this long in a message. */
export const MAX_ID_TEXT = 200

/** Why a MongoDB restore is not atomic, as the plan's load steps say. */
const NOT_TRANSACTIONAL = 'not transactional: a failure keeps the documents written so far'

/**
 * Opens a restore target on the database the URL names, which need not exist yet (MongoDB
 * creates it on the first write).
 *
 * @example
 * const target = await connectMongoTarget(parseConnectionUrl('mongodb://app@db/shop_copy'), {})
 */
export const connectMongoTarget: ConnectTargetFn = async (target, options) => {
  if (target.database === null) {
    throw new DbsnapError(
      'INVALID_ARGUMENT',
      `name the database to restore into in the URL's path, e.g. mongodb://${endpoint(target)}/shop`,
    )
  }
  const client = await openMongoClient(target, options)
  return new MongoTarget(client, target, {
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    logger: options.logger,
  })
}

/** How a batch of documents is written: into a collection this restore created, or appended. */
type WriteMode = 'new' | OnConflict

/** One batch of documents to write, and where what happened is added up. */
interface Batch {
  documents: Map<string, unknown>[]
  /** The documents' `_id`s as canonical EJSON, in the same order. */
  ids: string[]
  write: WriteMode
  result: RestoreTableResult
  /** Append with `fail`: the `_id`s inserted so far, to delete again on a conflict. */
  inserted: string[] | null
  signal: AbortSignal | undefined
}

/** What the target holds under a name (`listCollections`). */
interface Listed {
  type: string
}

class MongoTarget implements TargetAdapter {
  readonly engine = 'mongodb' as const
  readonly #db: Db
  readonly #source: MongoAdapter
  readonly #target: ConnectionTarget
  readonly #logger: Logger | undefined
  /** What the server could not take and the restore left out, for the restore's result. */
  readonly warnings: string[] = []

  constructor(
    client: MongoClient,
    target: ConnectionTarget,
    options: { timeoutMs: number; logger: Logger | undefined },
  ) {
    this.#db = client.db(target.database!)
    this.#source = new MongoAdapter(client, target, options.timeoutMs)
    this.#target = target
    this.#logger = options.logger
  }

  identify(options: { signal?: AbortSignal } = {}): Promise<ServerIdentity> {
    return this.#source.identify(options)
  }

  /** Counts with `countDocuments` (exact, a scan), as the non-empty check needs. */
  async inspect(
    tables: QualifiedName[],
    options: { signal?: AbortSignal } = {},
  ): Promise<TargetTableState[]> {
    const { signal } = options
    const listed = await this.#list(signal)
    const states: TargetTableState[] = []
    for (const table of tables) {
      const name = { schema: table.schema, name: table.name }
      if (!listed.has(table.name)) {
        states.push({ table: name, exists: false, rows: 0, columns: null })
        continue
      }
      const rows = await this.#run(signal, table.name, () =>
        this.#db.collection(table.name).countDocuments({}),
      )
      const columns = COLLECTION_COLUMNS.map((c) => ({ name: c.name, type: c.type }))
      states.push({ table: name, exists: true, rows, columns })
    }
    return states
  }

  async plan(
    objects: RestoreObjects,
    mode: RestoreMode,
    options: { signal?: AbortSignal } = {},
  ): Promise<RestoreStep[]> {
    const listed = await this.#list(options.signal)
    const steps: RestoreStep[] = []
    for (const table of objects.tables) {
      const exists = listed.has(table.name)
      const create = mode === 'overwrite' || !exists
      if (mode === 'overwrite' && exists) {
        steps.push({ action: 'drop collection', object: table.name, destructive: true })
      }
      if (create) steps.push({ action: 'create collection', object: table.name })
      const load = mode === 'overwrite' ? 'load documents' : 'append documents'
      steps.push({ action: `${load} (${NOT_TRANSACTIONAL})`, object: table.name })
      if (create) {
        for (const index of secondaryIndexes(table)) {
          steps.push({ action: 'create index', object: `${table.name}.${index.name}` })
        }
      }
    }
    for (const view of restoredViews(objects)) {
      if (listed.get(view.name)?.type === 'view') {
        if (mode === 'append') continue
        steps.push({ action: 'drop view', object: view.name })
      }
      steps.push({ action: 'create view', object: view.name })
    }
    return steps
  }

  /** Nothing to create before the collections; only checks that the server takes writes. */
  async prepare(
    _objects: RestoreObjects,
    _mode: RestoreMode,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    const hello = await this.#run(options.signal, undefined, () =>
      this.#db.admin().command({ hello: 1 }),
    )
    if (hello.isWritablePrimary === false && hello.msg !== 'isdbgrid') {
      throw new DbsnapError(
        'TARGET_READ_ONLY',
        `${endpoint(this.#target)} takes no writes (a secondary or arbiter); restore into the primary (name the replica set in the URL: ?replicaSet=…)`,
        { details: { host: this.#target.host, port: this.#target.port } },
      )
    }
  }

  /**
   * `overwrite`: drops the collection (when there), creates it with the snapshot's options,
   * inserts the documents in ordered batches, then creates the indexes. `append`: inserts into
   * the collection (created as in overwrite when missing); `fail` stops at the first `_id`
   * already there with `TARGET_CONFLICT` and deletes the documents it had inserted, `skip`
   * leaves such documents as they are, `update` replaces them. Not transactional: another
   * failure keeps the documents written so far (the plan says so); a rerun with `--force`
   * starts the collection over.
   */
  async restoreTable(
    table: TableSchema,
    rows: AsyncIterable<CanonicalRow[]>,
    options: RestoreTableOptions,
  ): Promise<RestoreTableResult> {
    const { signal, mode } = options
    const listed = await this.#list(signal)
    const exists = listed.has(table.name)
    const create = mode === 'overwrite' || !exists
    if (mode === 'overwrite' && exists) {
      await this.#run(signal, table.name, () => this.#db.collection(table.name).drop())
    }
    if (create) await this.#createCollection(table, signal)
    // `--only-changed`: the documents to delete go first.
    await this.#deleteKeys(table.name, options.deleteKeys ?? [], signal)
    const result = await this.#load(table.name, rows, create ? 'new' : options.onConflict, options)
    if (create) await this.#createIndexes(table, signal)
    return result
  }

  /** `restore --only-changed`: deletes the documents with these `_id`s, 1000 at a time. */
  async #deleteKeys(
    name: string,
    keys: CanonicalValue[][],
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const collection = this.#db.collection(name)
    for (let at = 0; at < keys.length; at += BATCH_DOCUMENTS) {
      const ids = keys.slice(at, at + BATCH_DOCUMENTS).map(([id]) => {
        const text = String(id)
        return decodeDocument(`{"_id":${text}}`, name, text).get('_id')
      })
      await this.#run(signal, name, () =>
        collection.deleteMany({ _id: { $in: ids } } as Filter<Document>),
      )
    }
  }

  /** Creates the views of a whole restore, each after the view it reads from. */
  async finish(
    objects: RestoreObjects,
    mode: RestoreMode,
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    const { signal } = options
    const views = restoredViews(objects)
    if (views.length === 0) return
    const listed = await this.#list(signal)
    for (const view of views) {
      const there = listed.get(view.name)
      if (there !== undefined && there.type !== 'view') {
        throw new DbsnapError(
          'RESTORE_FAILED',
          `cannot create view "${view.name}": the target has a ${there.type} of that name, which a restore of the snapshot's views does not replace`,
          { details: { view: view.name } },
        )
      }
      if (there !== undefined) {
        if (mode === 'append') continue
        await this.#run(signal, view.name, () => this.#db.collection(view.name).drop())
      }
      const extra = (view.extra ?? {}) as {
        viewOn?: string | null
        pipeline?: unknown[]
        collation?: unknown
      }
      const command: Document = {
        create: view.name,
        viewOn: extra.viewOn,
        pipeline: (extra.pipeline ?? []).map(fromJson),
        ...(extra.collation === null || extra.collation === undefined
          ? {}
          : { collation: fromJson(extra.collation) }),
      }
      const created = await this.#unlessNotImplemented(signal, view.name, () =>
        this.#db.command(command),
      )
      if (!created) {
        this.#warn({ view: view.name }, `the server has no views: view ${view.name} not restored`)
      }
    }
  }

  async close(): Promise<void> {
    await this.#source.close()
  }

  /**
   * Creates the collection with its recorded options (capped, validator, collation,
   * time-series…). An option the server does not implement (FerretDB: validators, collations)
   * is left out with a logged warning rather than failing the restore: the data still comes back,
   * and a diff of the next snapshot shows what differs.
   */
  async #createCollection(table: TableSchema, signal: AbortSignal | undefined): Promise<void> {
    const remaining = collectionOptions(table)
    for (;;) {
      throwIfAborted(signal)
      try {
        await this.#db.command({ create: table.name, ...Object.fromEntries(remaining) })
        return
      } catch (err) {
        const field = notImplementedField(err)
        if (field === undefined || !remaining.has(field)) {
          throw this.#mapped(err, signal, table.name)
        }
        remaining.delete(field)
        this.#warn(
          { collection: table.name, option: field },
          `the server does not implement the collection option ${field}: ${table.name} created without it`,
        )
      }
    }
  }

  /**
   * Creates the secondary indexes in one `createIndexes` (one pass over the data on MongoDB).
   * If the server does not implement one of them, they are created one by one and those it
   * refuses as not implemented are left out with a logged warning.
   */
  async #createIndexes(table: TableSchema, signal: AbortSignal | undefined): Promise<void> {
    const specs = secondaryIndexes(table).map(indexSpec)
    if (specs.length === 0) return
    const create = (indexes: Document[]) => () =>
      this.#db.command({ createIndexes: table.name, indexes })
    if (await this.#unlessNotImplemented(signal, table.name, create(specs))) return
    for (const spec of specs) {
      if (!(await this.#unlessNotImplemented(signal, table.name, create([spec])))) {
        this.#warn(
          { collection: table.name, index: spec.name as string },
          `the server does not implement index ${String(spec.name)} of ${table.name}: not restored`,
        )
      }
    }
  }

  /** Decodes and writes the documents, `BATCH_DOCUMENTS` or `BATCH_CHARS` at a time. */
  async #load(
    name: string,
    rows: AsyncIterable<CanonicalRow[]>,
    write: WriteMode,
    options: RestoreTableOptions,
  ): Promise<RestoreTableResult> {
    const { signal } = options
    const collection = this.#db.collection(name)
    const result: RestoreTableResult = { inserted: 0, updated: 0, skipped: 0 }
    // Append with `fail`: the `_id`s inserted so far, to delete again on a conflict.
    const inserted: string[] | null = write === 'fail' ? [] : null
    let documents: Map<string, unknown>[] = []
    let ids: string[] = []
    let chars = 0
    const flush = async (): Promise<void> => {
      throwIfAborted(signal)
      await this.#write(collection, { documents, ids, write, result, inserted, signal })
      options.onRows?.(documents.length)
      documents = []
      ids = []
      chars = 0
    }
    try {
      for await (const batch of rows) {
        for (const row of batch) {
          const [id, text] = rowParts(row, name)
          documents.push(decodeDocument(text, name, id))
          ids.push(id)
          chars += text.length
          if (documents.length >= BATCH_DOCUMENTS || chars >= BATCH_CHARS) await flush()
        }
      }
      if (documents.length > 0) await flush()
    } catch (err) {
      if (signal?.aborted === true) throw abortError(signal)
      if (isDbsnapError(err)) throw err
      throw new DbsnapError(
        'RESTORE_FAILED',
        `reading the snapshot's documents of collection "${name}" failed: ${err instanceof Error ? err.message : String(err)}`,
        { cause: err, details: { collection: name } },
      )
    }
    return result
  }

  /** Writes one batch, adding what happened to `result`. */
  async #write(collection: Collection, batch: Batch): Promise<void> {
    const { documents, ids, result } = batch
    if (batch.write === 'new') {
      // A new collection: nothing to conflict with (a duplicate would mean a corrupt snapshot).
      await this.#insert(collection, documents, { ordered: true })
      result.inserted += documents.length
      return
    }
    // Which `_id`s the collection already holds, asked before writing: an insert's count of
    // what went in is not to be trusted (FerretDB goes on past an ordered insert's error).
    const present = await this.#present(collection, batch)
    const conflict = ids.find((id) => present.has(id))
    if (batch.write === 'fail' && conflict !== undefined) {
      throw await this.#conflict(collection, conflict, batch.inserted)
    }
    const fresh = documents.filter((_, i) => !present.has(ids[i]!))
    const freshIds = ids.filter((id) => !present.has(id))
    const existing = documents.filter((_, i) => present.has(ids[i]!))
    // Unordered: those that came in since the check (a concurrent writer; `1` vs `1.0`) fail
    // alone with a duplicate key error.
    const raced = await this.#insert(collection, fresh, { ordered: false })
    result.inserted += fresh.length - raced.length
    batch.inserted?.push(...freshIds.filter((_, i) => !raced.includes(i)))
    if (batch.write === 'fail' && raced.length > 0) {
      throw await this.#conflict(collection, freshIds[raced[0]!]!, batch.inserted)
    }
    if (batch.write === 'skip') {
      result.skipped += existing.length + raced.length
      return
    }
    const replace = [...existing, ...raced.map((i) => fresh[i]!)]
    if (replace.length === 0) return
    const written = await this.#run(batch.signal, collection.collectionName, () =>
      collection.bulkWrite(
        replace.map((document) => ({
          replaceOne: {
            filter: { _id: { $eq: document.get('_id') } } as Filter<Document>,
            // Maps keep the field order; the driver types documents as objects.
            replacement: document,
            upsert: true,
          },
        })),
        { ordered: true },
      ),
    )
    result.inserted += written.upsertedCount
    result.updated += written.matchedCount
  }

  /**
   * Inserts documents; resolves to the indexes of those refused as duplicate `_id`s (unordered
   * inserts only), rejects on any other error.
   */
  async #insert(
    collection: Collection,
    documents: Map<string, unknown>[],
    options: { ordered: boolean },
  ): Promise<number[]> {
    if (documents.length === 0) return []
    try {
      // `forceServerObjectId`: a null `_id` stays null (the driver would replace it).
      await collection.insertMany(documents, {
        ordered: options.ordered,
        forceServerObjectId: true,
      })
      return []
    } catch (err) {
      const errors = err instanceof MongoBulkWriteError ? [err.writeErrors].flat() : []
      if (!options.ordered && errors.length > 0 && errors.every((e) => e.code === DUPLICATE_KEY)) {
        return errors.map((e) => e.index)
      }
      throw this.#mapped(err, undefined, collection.collectionName)
    }
  }

  /** The canonical EJSON of the batch's `_id`s the collection holds. */
  async #present(collection: Collection, batch: Batch): Promise<Set<string>> {
    const values = batch.documents.map((document) => document.get('_id'))
    const found = await this.#run(batch.signal, collection.collectionName, () =>
      collection
        .find({ _id: { $in: values } } as Filter<Document>, { projection: { _id: 1 }, raw: true })
        .toArray(),
    )
    return new Set(found.map((raw) => bsonIdToEjson(raw as unknown as Uint8Array) ?? ''))
  }

  /**
   * The error for an `_id` the target already holds. An append that fails on a conflict deletes
   * the documents it inserted (their `_id`s were absent before), so the target is left as it
   * was.
   */
  async #conflict(
    collection: Collection,
    id: string,
    inserted: string[] | null,
  ): Promise<DbsnapError> {
    const name = collection.collectionName
    let undone = ''
    if (inserted !== null) {
      try {
        for (let i = 0; i < inserted.length; i += UNDO_BATCH) {
          const values = inserted.slice(i, i + UNDO_BATCH).map(parseEjson)
          await collection.deleteMany({ _id: { $in: values } } as Filter<Document>)
        }
        undone =
          inserted.length === 0
            ? '; nothing was written'
            : `; the ${inserted.length} documents this restore had inserted were deleted again`
      } catch (err) {
        undone = `; the ${inserted.length} documents this restore had inserted could not be deleted again (${mongoWriteError(err, this.#target).message})`
      }
    }
    const shown = id.length > MAX_ID_TEXT ? `${id.slice(0, MAX_ID_TEXT)}…` : id
    return new DbsnapError(
      'TARGET_CONFLICT',
      `collection "${name}" already holds a document with _id ${shown}${undone}; append with --on-conflict skip or update, or use --mode overwrite`,
      { details: { collection: name, _id: id } },
    )
  }

  /** Runs `what` and returns true, or false when the server answers it is not implemented. */
  async #unlessNotImplemented(
    signal: AbortSignal | undefined,
    collection: string,
    what: () => Promise<unknown>,
  ): Promise<boolean> {
    throwIfAborted(signal)
    try {
      await what()
      return true
    } catch (err) {
      if ((err as { code?: unknown }).code === NOT_IMPLEMENTED) return false
      throw this.#mapped(err, signal, collection)
    }
  }

  #warn(fields: Record<string, string>, message: string): void {
    this.#logger?.warn(fields, message)
    this.warnings.push(message)
  }

  /** Every collection and view of the database, by name. */
  async #list(signal: AbortSignal | undefined): Promise<Map<string, Listed>> {
    const listed = await this.#run(signal, undefined, () =>
      this.#db.listCollections({}, { nameOnly: true, authorizedCollections: true }).toArray(),
    )
    return new Map(listed.map((c) => [c.name, { type: c.type ?? 'collection' }]))
  }

  async #run<T>(
    signal: AbortSignal | undefined,
    collection: string | undefined,
    what: () => Promise<T>,
  ): Promise<T> {
    throwIfAborted(signal)
    try {
      return await what()
    } catch (err) {
      throw this.#mapped(err, signal, collection)
    }
  }

  #mapped(
    err: unknown,
    signal: AbortSignal | undefined,
    collection: string | undefined,
  ): DbsnapError {
    if (signal?.aborted === true) return abortError(signal)
    if (isDbsnapError(err)) return err
    return mongoWriteError(err, this.#target, collection === undefined ? {} : { collection })
  }
}
