// Streams a MongoDB collection as canonical rows `[_id, document]` (canonical Extended JSON v2),
// in `_id` order as MongoDB compares BSON values, checked document by document as it arrives.

import { batchLimits, type BatchedReadOptions } from '../batch-limits.js'
import { BSON, type ClientSession, type Db, type Document, type FindOptions } from 'mongodb'
import {
  BSON_BRACKETS,
  bsonBracket,
  compareBsonKeys,
  type BsonBracket,
} from '../../canonical/bson-order.js'
import type { CanonicalRow, CanonicalValue } from '../../canonical/value-encoding.js'
import type { ConnectionTarget } from '../../connection/url.js'
import { DbsnapError, abortError, isDbsnapError, throwIfAborted } from '../../errors.js'
import { bsonIdToEjson, bsonToEjson } from './mongo-ejson.js'
import { mongoQueryError } from './mongo-errors.js'

/** The collection to read, as introspection found it. */
export interface ReadCollectionSpec {
  name: string
  /** The collection's UUID when the server reports one: a drop and re-create changes it. */
  uuid: string | null
  /**
   * True when `_id` order needs a sort outside the `_id` index: a collection with a default
   * collation (its index orders strings by it, MongoDB's BSON order by bytes) or a time-series
   * collection (no `_id` index at all). The server then sorts with `allowDiskUse`.
   */
  sortOutsideIndex: boolean
  /** Average document size the server reports (collStats), to size the cursor's batches. */
  averageDocumentBytes: number | null
}

/**
 * Batches of at most 1000 documents (also the cursor's batch size) and about 256 KiB of EJSON
 * text by default; `afterKey` is an `_id` as its canonical EJSON, the only key value.
 */
export interface ReadCollectionOptions extends BatchedReadOptions {
  /** The read view's session (snapshot or causally consistent), if it has one. */
  session?: ClientSession
  /** The server is FerretDB, whose `$type` knows only the types it stores (for `afterKey`). */
  ferretdb?: boolean
  /** The connection's target, for error messages. */
  target: ConnectionTarget
}

const DEFAULT_BATCH_ROWS = 1000
/**
 * A quarter of PostgreSQL's 1 MiB: a document is one long string, and the batch the consumer
 * holds outlives V8's young generation, so big batches end up in the old one until a full GC.
 * Measured on ~3 KiB documents: 1 MiB batches peaked at ~270 MiB RSS, 256 KiB at ~205 MiB.
 */
const DEFAULT_BATCH_BYTES = 256 * 1024
/**
 * Bytes of documents the cursor asks the server for at a time (by the average document size):
 * each reply is one buffer the driver allocates and drops, freed only by a full GC.
 */
const CURSOR_BATCH_BYTES = 256 * 1024

/**
 * Documents of one collection in `_id` order, as canonical rows `[_id, document]`, in batches of
 * at most `batchRows` rows and about `batchBytes` characters.
 *
 * One `find` sorted on `_id`, asked for raw BSON so each document becomes EJSON straight from
 * the server's bytes. The driver holds one server batch at a time (at most `batchRows`
 * documents and about 256 KiB by the average document size; the server caps a reply at 16 MiB)
 * and sends the next getMore only when the consumer asks for more, so memory stays bounded
 * whatever the collection's size.
 *
 * Every `_id` is checked to come strictly after the one before by `compareBsonKeys`, the order
 * the engine diffs in: a server that sorts differently (a MongoDB-compatible server with its own
 * rules) fails the read with `QUERY_FAILED` rather than producing rows out of order.
 *
 * Once the cursor is exhausted the collection must still exist with the same UUID: a collection
 * dropped (or dropped and re-created) during the read fails with `SOURCE_CHANGED`, whether the
 * server killed the cursor or (FerretDB) quietly returned fewer documents.
 */
export async function* readCollection(
  db: Db,
  collection: ReadCollectionSpec,
  options: ReadCollectionOptions,
): AsyncGenerator<CanonicalRow[]> {
  const { signal, target } = options
  const { rows: batchRows, bytes: batchBytes } = batchLimits(options, {
    rows: DEFAULT_BATCH_ROWS,
    bytes: DEFAULT_BATCH_BYTES,
  })
  const filter = afterKeyFilter(collection.name, options.afterKey, options.ferretdb ?? false)
  throwIfAborted(signal)
  const findOptions: FindOptions = {
    sort: { _id: 1 },
    raw: true,
    batchSize: cursorBatchSize(batchRows, collection.averageDocumentBytes),
    ...(options.session === undefined ? {} : { session: options.session }),
    // Strings in BSON order (bytes), not in the collection's collation; the sort then cannot use
    // the `_id` index and may spill to disk.
    ...(collection.sortOutsideIndex ? { collation: { locale: 'simple' }, allowDiskUse: true } : {}),
  }
  const cursor = db.collection(collection.name).find(filter, findOptions)
  const onAbort = (): void => void cursor.close().catch(() => undefined)
  signal?.addEventListener('abort', onAbort, { once: true })
  let previous: string | undefined
  try {
    let batch: CanonicalRow[] = []
    let bytes = 0
    // With `raw: true` the cursor yields each document's BSON bytes, typed as documents.
    for await (const raw of cursor as AsyncIterable<unknown>) {
      throwIfAborted(signal)
      const doc = raw as Uint8Array
      const id = bsonIdToEjson(doc)
      if (id === undefined) {
        throw new DbsnapError(
          'QUERY_FAILED',
          `collection "${collection.name}" returned a document without _id; DBSnap keys documents by _id`,
          { details: { collection: collection.name } },
        )
      }
      if (previous !== undefined) assertAfter(previous, id, collection.name)
      previous = id
      const text = bsonToEjson(doc)
      batch.push([id, text])
      bytes += id.length + text.length
      if (batch.length >= batchRows || bytes >= batchBytes) {
        yield batch
        batch = []
        bytes = 0
        throwIfAborted(signal)
      }
    }
    if (batch.length > 0) yield batch
  } catch (err) {
    if (signal?.aborted === true) throw abortError(signal)
    if (isDbsnapError(err)) throw err
    if (err instanceof RangeError) {
      throw new DbsnapError(
        'QUERY_FAILED',
        `collection "${collection.name}" returned a document DBSnap cannot decode: ${err.message}`,
        { cause: err, details: { collection: collection.name } },
      )
    }
    const mapped = mongoQueryError(err, target, { collection: collection.name })
    if (mapped.code === 'SOURCE_CHANGED') await assertUnchanged(db, collection, target, mapped)
    throw mapped
  } finally {
    signal?.removeEventListener('abort', onAbort)
    await cursor.close().catch(() => undefined)
  }
  await assertUnchanged(db, collection, target)
}

/** Documents per server reply: `batchRows`, fewer for big documents (about 256 KiB a reply). */
function cursorBatchSize(batchRows: number, averageDocumentBytes: number | null): number {
  if (averageDocumentBytes === null || averageDocumentBytes <= 0) return batchRows
  return Math.max(1, Math.min(batchRows, Math.floor(CURSOR_BATCH_BYTES / averageDocumentBytes)))
}

/**
 * Fails unless `next` comes strictly after `previous` in MongoDB's BSON order. The message names
 * the keys' types, never their values (an `_id` may be personal data).
 */
export function assertAfter(previous: string, next: string, collection: string): void {
  if (compareBsonKeys(previous, next) < 0) return
  const types = `${bsonBracket(next)} after ${bsonBracket(previous)}`
  throw new DbsnapError(
    'QUERY_FAILED',
    `the server returned the _id values of collection "${collection}" out of MongoDB's BSON order (an _id of type ${types}${compareBsonKeys(previous, next) === 0 ? ', equal to it' : ''}); this server sorts differently from MongoDB, so the collection cannot be snapshotted in key order`,
    { details: { collection } },
  )
}

/**
 * The filter for documents after `afterKey`: `$gt` only matches values of the key's own type
 * bracket (MongoDB's type bracketing), so the brackets after it are added by `$type`.
 */
function afterKeyFilter(
  collection: string,
  afterKey: CanonicalValue[] | undefined,
  ferretdb: boolean,
): Document {
  if (afterKey === undefined) return {}
  const [key] = afterKey
  if (afterKey.length !== 1 || typeof key !== 'string') {
    throw new DbsnapError(
      'INVALID_ARGUMENT',
      `afterKey for collection "${collection}" must be one _id as canonical EJSON text, got ${JSON.stringify(afterKey)}`,
    )
  }
  let bracket: BsonBracket
  let value: unknown
  try {
    bracket = bsonBracket(key)
    value = BSON.EJSON.parse(key, { relaxed: false })
  } catch (cause) {
    throw new DbsnapError(
      'INVALID_ARGUMENT',
      `afterKey for collection "${collection}" is not canonical EJSON: ${JSON.stringify(key)}`,
      { cause },
    )
  }
  const later = BSON_BRACKETS.slice(BSON_BRACKETS.indexOf(bracket) + 1)
    .flatMap((b) => (b === 'string' ? ['string', 'symbol'] : [b]))
    // FerretDB refuses aliases of types it cannot store, and so cannot hold: leave them out.
    .filter((alias) => !ferretdb || FERRETDB_TYPE_ALIASES.has(alias))
  return { $or: [{ _id: { $gt: value } }, { _id: { $type: later } }] }
}

/** The `$type` aliases FerretDB v1 accepts: the types it stores. */
const FERRETDB_TYPE_ALIASES = new Set([
  'null',
  'number',
  'string',
  'object',
  'array',
  'binData',
  'objectId',
  'bool',
  'date',
  'timestamp',
  'regex',
])

/**
 * Fails with `SOURCE_CHANGED` when the collection no longer exists or is another collection of
 * the same name (new UUID); with `cause`, rethrows it when the collection is unchanged.
 */
async function assertUnchanged(
  db: Db,
  collection: ReadCollectionSpec,
  target: ConnectionTarget,
  cause?: DbsnapError,
): Promise<void> {
  let found: Document[]
  try {
    found = await db.listCollections({ name: collection.name }).toArray()
  } catch (err) {
    throw cause ?? mongoQueryError(err, target, { collection: collection.name })
  }
  const info = found[0]?.info as { uuid?: unknown } | undefined
  const uuid = info?.uuid === undefined ? null : uuidText(info.uuid)
  const what =
    found.length === 0
      ? 'was dropped (or renamed)'
      : collection.uuid !== null && uuid !== null && uuid !== collection.uuid
        ? 'was dropped and re-created'
        : undefined
  if (what === undefined) {
    if (cause !== undefined) throw cause
    return
  }
  throw new DbsnapError(
    'SOURCE_CHANGED',
    `collection "${collection.name}" ${what} while the snapshot read it; take the snapshot again`,
    { cause, retryable: true, details: { collection: collection.name } },
  )
}

/** A collection UUID as the server reports it (a UUID object, or a string on FerretDB). */
export function uuidText(value: unknown): string | null {
  if (typeof value === 'string') return value
  if (value instanceof BSON.Binary) return value.toUUID().toHexString(true)
  return null
}
