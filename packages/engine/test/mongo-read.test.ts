// Reading MongoDB collections against a real server (FerretDB here): every BSON type read
// exactly, mixed-type _id order checked against compareBsonKeys, resuming, a document near
// 16 MiB, backpressure, and the faults (collection dropped, connection lost, abort, bad login).

import { randomBytes } from 'node:crypto'
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { BSON, MongoClient, type Db, type Document } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testServices, withCredentials, withDatabase } from '../../../test/services.js'
import { connectMongo } from '../src/adapters/mongo/mongo-source.js'
import { bsonToEjson } from '../src/adapters/mongo/mongo-ejson.js'
import { readCollection, type ReadCollectionSpec } from '../src/adapters/mongo/mongo-read.js'
import type { ReadView, SourceAdapter } from '../src/adapters/source-adapter.js'
import { compareBsonKeys } from '../src/canonical/bson-order.js'
import type { CanonicalRow } from '../src/canonical/value-encoding.js'
import { parseConnectionUrl } from '../src/connection/url.js'
import { isDbsnapError, type DbsnapError } from '../src/errors.js'
import type { TableSchema } from '../src/schema/schema.js'
import {
  allTypesDocuments,
  insertExactly,
  type FixtureDocument,
  isFerretDb,
  largeDocument,
  mixedIdDocuments,
} from './fixtures/mongo/all-types.js'

const { mongoUrl } = testServices()
const dbName = `dbsnap_mread_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
const url = withDatabase(mongoUrl, dbName)
const target = parseConnectionUrl(url)

/** Documents of the backpressure collection, and the size of each (≈ 100 MB in all). */
const BIG_DOCS = 25_000
const BIG_DOC_BYTES = 4000

let client: MongoClient
let db: Db
let ferretdb: boolean
const adapters: SourceAdapter[] = []

/** What the driver reads, type-exact: no promotion of Int32/Double/Long, regexes as BSONRegExp. */
const exact = { promoteValues: false, promoteBuffers: false, bsonRegExp: true } as const

async function openView(): Promise<{ view: ReadView; tables: TableSchema[] }> {
  const adapter = await connectMongo(target, {})
  adapters.push(adapter)
  const view = await adapter.openReadView()
  const schema = await view.introspect()
  return { view, tables: schema.tables }
}

async function readAll(
  view: ReadView,
  table: TableSchema,
  afterKey?: string,
): Promise<CanonicalRow[]> {
  const rows: CanonicalRow[] = []
  const options = afterKey === undefined ? {} : { afterKey: [afterKey] }
  for await (const batch of view.readTable(table, options)) rows.push(...batch)
  return rows
}

function tableNamed(tables: TableSchema[], name: string): TableSchema {
  const table = tables.find((t) => t.name === name)
  if (table === undefined) throw new Error(`no collection ${name} in the schema`)
  return table
}

async function failure(promise: Promise<unknown>): Promise<DbsnapError> {
  try {
    await promise
  } catch (err) {
    if (isDbsnapError(err)) return err
    throw err
  }
  throw new Error('expected a DbsnapError')
}

beforeAll(async () => {
  client = new MongoClient(url)
  await client.connect()
  db = client.db(dbName)
  ferretdb = await isFerretDb(db)
  await db.collection<FixtureDocument>('all_types').insertMany(allTypesDocuments({ ferretdb }))
  await insertExactly(db, 'mixed_ids', mixedIdDocuments({ ferretdb }))
  await db.collection<FixtureDocument>('large').insertOne(largeDocument(16 * 1024 * 1024 - 64))
  const pad = 'p'.repeat(BIG_DOC_BYTES)
  for (let i = 0; i < BIG_DOCS; i += 2000) {
    await db
      .collection<FixtureDocument>('big')
      .insertMany(
        Array.from({ length: Math.min(2000, BIG_DOCS - i) }, (_, j) => ({ _id: i + j, pad })),
      )
  }
})

afterAll(async () => {
  for (const adapter of adapters) await adapter.close()
  await db?.dropDatabase()
  await client?.close()
})

describe('every BSON type', () => {
  it('reads rows [_id, document] equal to what the driver reads: type-exact, field order and bytes', async () => {
    const { view, tables } = await openView()
    const rows = await readAll(view, tableNamed(tables, 'all_types'))
    const expected = await db
      .collection<FixtureDocument>('all_types')
      .find({}, { sort: { _id: 1 }, ...exact })
      .toArray()
    const raw = (await db
      .collection<FixtureDocument>('all_types')
      .find({}, { sort: { _id: 1 }, raw: true })
      .toArray()) as unknown as Buffer[]
    expect(rows).toHaveLength(expected.length)
    rows.forEach((row, i) => {
      const [id, text] = row as [string, string]
      const parsed = BSON.EJSON.parse(text, { relaxed: false }) as Document
      expect(parsed, `document ${i}`).toStrictEqual(expected[i])
      expect(Object.keys(parsed)).toEqual(Object.keys(expected[i]!))
      // Parsed and re-serialized, the text gives back the very bytes the server sent.
      expect(Buffer.from(BSON.serialize(parsed)).equals(raw[i]!), `bytes of document ${i}`).toBe(
        true,
      )
      expect(BSON.EJSON.parse(id, { relaxed: false })).toStrictEqual(expected[i]!._id)
    })
  })

  it('keeps 1 (Int32), 1.0 (Double) and 1 (Long) apart, and null apart from a missing field', async () => {
    const { view, tables } = await openView()
    const rows = await readAll(view, tableNamed(tables, 'all_types'))
    const doc = (n: number): string =>
      String(rows.find((r) => r[0] === `{"$numberInt":"${n}"}`)?.[1])
    expect(doc(1)).toContain(
      '"int32":{"$numberInt":"1"},"double":{"$numberDouble":"1.0"},"long":{"$numberLong":"1"}',
    )
    expect(doc(8)).toBe('{"_id":{"$numberInt":"8"},"present":null}')
    expect(doc(9)).toBe('{"_id":{"$numberInt":"9"}}')
    // The server moves `_id` first on insert (MongoDB and FerretDB alike); the rest keeps its order.
    expect(doc(7)).toMatch(/^\{"_id":.*,"zeta":.*,"alpha":.*,"mu":\{"z":.*,"a":null\}\}$/)
  })

  it('reads a document near the 16 MiB limit', async () => {
    const { view, tables } = await openView()
    const rows = await readAll(view, tableNamed(tables, 'large'))
    expect(rows).toHaveLength(1)
    const parsed = BSON.EJSON.parse(String(rows[0]![1]), { relaxed: false }) as Document
    expect(BSON.calculateObjectSize(parsed)).toBeGreaterThan(16 * 1024 * 1024 - 100)
    expect(parsed).toStrictEqual(await db.collection<FixtureDocument>('large').findOne({}, exact))
  })
})

describe('_id order', () => {
  it("reads mixed-type _id values in MongoDB's BSON order, as compareBsonKeys orders them", async () => {
    const { view, tables } = await openView()
    const rows = await readAll(view, tableNamed(tables, 'mixed_ids'))
    const ids = rows.map((r) => String(r[0]))
    const inserted = mixedIdDocuments({ ferretdb }).map((d) =>
      bsonToEjson(BSON.serialize({ _id: d._id as unknown })).slice(7, -1),
    )
    expect(ids).toEqual([...inserted].sort(compareBsonKeys))
    // And that is the server's own order for `sort({_id: 1})`.
    const server = await db
      .collection<FixtureDocument>('mixed_ids')
      .find({}, { sort: { _id: 1 }, ...exact })
      .toArray()
    expect(ids.map((id): unknown => BSON.EJSON.parse(id, { relaxed: false }))).toStrictEqual(
      server.map((d): unknown => d._id),
    )
  })

  it('resumes after any key, across type brackets', async () => {
    const { view, tables } = await openView()
    const table = tableNamed(tables, 'mixed_ids')
    const ids = (await readAll(view, table)).map((r) => String(r[0]))
    for (let i = 0; i < ids.length; i++) {
      const rest = (await readAll(view, table, ids[i])).map((r) => String(r[0]))
      expect(rest, `after ${ids[i]}`).toEqual(ids.slice(i + 1))
    }
  })

  it('rejects an afterKey that is not one canonical EJSON _id', async () => {
    const { view, tables } = await openView()
    const table = tableNamed(tables, 'mixed_ids')
    const read = async (afterKey: (string | number)[]): Promise<unknown> => {
      for await (const _ of view.readTable(table, { afterKey })) return
    }
    expect((await failure(read([1]))).code).toBe('INVALID_ARGUMENT')
    expect((await failure(read(['{"a":', 'b']))).code).toBe('INVALID_ARGUMENT')
    expect((await failure(read(['{"a":']))).code).toBe('INVALID_ARGUMENT')
  })
})

describe('batches and backpressure', () => {
  const spec: ReadCollectionSpec = {
    name: 'big',
    uuid: null,
    sortOutsideIndex: false,
    averageDocumentBytes: null,
  }

  it('bounds batches by rows and by bytes', async () => {
    let sizes: number[] = []
    for await (const batch of readCollection(db, spec, { target, batchRows: 700, batchBytes: 1e9 }))
      sizes.push(batch.length)
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(BIG_DOCS)
    expect(Math.max(...sizes)).toBe(700)
    sizes = []
    // Each row is ≈ 4 KB of EJSON: 64 KiB closes a batch after 16 or 17 rows.
    for await (const batch of readCollection(db, spec, {
      target,
      batchRows: 1000,
      batchBytes: 64 * 1024,
    })) {
      sizes.push(batch.length)
      if (sizes.length === 20) break
    }
    expect(Math.max(...sizes)).toBeLessThanOrEqual(17)
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(16)
  }, 180_000)

  it('asks the server for the next batch only when the consumer wants it, and memory stays flat', async () => {
    const monitored = new MongoClient(url, { monitorCommands: true })
    await monitored.connect()
    let getMores = 0
    monitored.on('commandStarted', (event) => {
      if (event.commandName === 'getMore') getMores++
    })
    try {
      const baseline = liveMemory()
      let peak = 0
      let batches = 0
      let rows = 0
      let duringPause: number | undefined
      for await (const batch of readCollection(monitored.db(dbName), spec, {
        target,
        batchRows: 100,
      })) {
        batches++
        rows += batch.length
        // The driver fetches a server batch (100 documents) when its buffer runs dry: one ahead at most.
        expect(getMores).toBeLessThanOrEqual(batches)
        if (batches === 50) {
          const before = getMores
          await delay(500)
          duringPause = getMores - before
        }
        if (batches % 40 === 0) peak = Math.max(peak, liveMemory() - baseline)
        await delay(0)
      }
      expect(rows).toBe(BIG_DOCS)
      expect(duringPause).toBe(0)
      console.log(
        `mongo backpressure: ${rows} documents (${((BIG_DOCS * BIG_DOC_BYTES) / 1e6).toFixed(0)} MB), ${getMores} getMores, peak live memory growth ${(peak / 1e6).toFixed(1)} MB`,
      )
      // Live memory: the batch held, the driver's one server batch and buffers; not the 100 MB.
      expect(peak).toBeLessThan(24 * 1024 * 1024)
    } finally {
      await monitored.close()
    }
  }, 180_000)
})

describe('cursor replies', () => {
  it('asks the server for about 256 KiB of documents a reply, by the average document size', async () => {
    const monitored = new MongoClient(url, { monitorCommands: true })
    await monitored.connect()
    const batchSizes: number[] = []
    monitored.on('commandStarted', (event) => {
      const size = (event.command as { batchSize?: unknown }).batchSize
      if (typeof size === 'number') batchSizes.push(size)
    })
    try {
      const spec = { name: 'big', uuid: null, sortOutsideIndex: false, averageDocumentBytes: 4096 }
      let batches = 0
      for await (const batch of readCollection(monitored.db(dbName), spec, {
        target,
        batchBytes: 1e9,
      })) {
        expect(batch).toHaveLength(1000)
        if (++batches === 3) break
      }
      // 256 KiB / 4 KiB: 64 documents a reply, for the find and every getMore.
      expect(new Set(batchSizes)).toEqual(new Set([64]))
      expect(batchSizes.length).toBeGreaterThanOrEqual(Math.ceil(3000 / 64))
    } finally {
      await monitored.close()
    }
  })
})

describe('faults', () => {
  it('fails with SOURCE_CHANGED when the collection is dropped during the read', async () => {
    await db
      .collection<FixtureDocument>('dropped_mid')
      .insertMany(Array.from({ length: 300 }, (_, i) => ({ _id: i })))
    const { view, tables } = await openView()
    const table = tableNamed(tables, 'dropped_mid')
    const err = await failure(
      (async () => {
        let batches = 0
        for await (const _ of readCollection(
          db,
          { name: table.name, uuid: null, sortOutsideIndex: false, averageDocumentBytes: null },
          { target, batchRows: 50 },
        )) {
          if (++batches === 1)
            await client.db(dbName).collection<FixtureDocument>('dropped_mid').drop()
        }
      })(),
    )
    expect(err.code).toBe('SOURCE_CHANGED')
    expect(err.message).toContain('collection "dropped_mid" was dropped')
    await view.close()
  })

  it('fails with SOURCE_CHANGED when the collection is dropped, or re-created, before its read', async () => {
    await db.collection<FixtureDocument>('dropped_before').insertOne({ _id: 1 })
    await db.collection<FixtureDocument>('recreated').insertOne({ _id: 1 })
    const { view, tables } = await openView()
    await db.collection<FixtureDocument>('dropped_before').drop()
    await db.collection<FixtureDocument>('recreated').drop()
    await db.collection<FixtureDocument>('recreated').insertOne({ _id: 2 })
    const dropped = await failure(readAll(view, tableNamed(tables, 'dropped_before')))
    expect(dropped.code).toBe('SOURCE_CHANGED')
    const recreated = await failure(readAll(view, tableNamed(tables, 'recreated')))
    expect(recreated.code).toBe('SOURCE_CHANGED')
    expect(recreated.message).toContain('dropped and re-created')
  })

  it('fails with CONNECTION_LOST when the connection drops mid-read, without hanging', async () => {
    const proxy = await tcpProxy(target.host, target.port)
    try {
      const proxied = parseConnectionUrl(url.replace(`:${target.port}/`, `:${proxy.port}/`))
      const adapter = await connectMongo(proxied, { timeoutMs: 2000 })
      adapters.push(adapter)
      const view = await adapter.openReadView()
      const table = tableNamed((await view.introspect()).tables, 'big')
      const started = Date.now()
      const err = await failure(
        (async () => {
          let batches = 0
          for await (const _ of view.readTable(table)) {
            if (++batches === 2) proxy.cut()
          }
        })(),
      )
      expect(err.code).toBe('CONNECTION_LOST')
      expect(err.retryable).toBe(true)
      expect(Date.now() - started).toBeLessThan(15_000)
    } finally {
      await proxy.close()
    }
  })

  it('stops with ABORTED when the signal aborts between batches, and closes the cursor on break', async () => {
    const { view, tables } = await openView()
    const table = tableNamed(tables, 'big')
    const controller = new AbortController()
    const err = await failure(
      (async () => {
        for await (const _ of view.readTable(table, { signal: controller.signal }))
          controller.abort()
      })(),
    )
    expect(err.code).toBe('ABORTED')
    for await (const _ of view.readTable(table)) break
    // The view is still usable after both.
    expect(await readAll(view, tableNamed(tables, 'mixed_ids'))).toHaveLength(
      mixedIdDocuments({ ferretdb }).length,
    )
  })
})

describe('connecting and the read view', () => {
  it('says when the server gives no point-in-time view', async () => {
    const { view } = await openView()
    if (ferretdb) expect(view.warnings?.[0]).toMatch(/^FerretDB has no snapshot reads/)
    else expect(view.warnings ?? []).toEqual([])
  })

  it('rejects a wrong password with CONNECTION_AUTH_FAILED, never showing it', async () => {
    const password = `wrong-${randomBytes(6).toString('hex')}`
    const err = await failure(
      connectMongo(parseConnectionUrl(withCredentials(url, target.user ?? 'x', password)), {}),
    )
    expect(err.code).toBe('CONNECTION_AUTH_FAILED')
    expect(JSON.stringify(err.toJSON())).not.toContain(password)
    expect(err.message).not.toContain(password)
  })

  it('refuses a database with no collections (MongoDB lists no such database)', async () => {
    const err = await failure(
      connectMongo(parseConnectionUrl(withDatabase(mongoUrl, `${dbName}_missing`)), {}),
    )
    expect(err.code).toBe('CONNECTION_DATABASE_NOT_FOUND')
  })

  it('asks for a database name before reading', async () => {
    const adapter = await connectMongo(parseConnectionUrl(mongoUrl), {})
    adapters.push(adapter)
    expect((await failure(adapter.openReadView())).code).toBe('INVALID_ARGUMENT')
  })
})

/** Bytes of heap and buffers still reachable: measured after a full garbage collection. */
function liveMemory(): number {
  collectGarbage()
  const usage = process.memoryUsage()
  return usage.heapUsed + usage.arrayBuffers
}

/** `gc()`, exposed for this test process only. */
const collectGarbage = ((): (() => void) => {
  setFlagsFromString('--expose-gc')
  return runInNewContext('gc') as () => void
})()

/** A TCP proxy to host:port whose connections can all be cut at once (and new ones refused). */
async function tcpProxy(
  host: string,
  port: number,
): Promise<{ port: number; cut(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((inbound) => {
    const outbound = netConnect(port, host)
    for (const s of [inbound, outbound]) {
      sockets.add(s)
      s.on('error', () => undefined)
      s.on('close', () => sockets.delete(s))
    }
    inbound.pipe(outbound).pipe(inbound)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('proxy has no port')
  return {
    port: address.port,
    cut: () => {
      server.close()
      for (const s of sockets) s.destroy()
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  }
}
