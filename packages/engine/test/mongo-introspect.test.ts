// introspectMongo against the real server (FerretDB here): collections, capped options, indexes
// and the exact normalized form; what MongoDB 7.0 returns beyond FerretDB (views, validators,
// partial/TTL/text/hashed/wildcard indexes, time-series, collation) is covered by the unit tests
// of src/adapters/mongo/mongo-introspect.test.ts.

import { randomBytes } from 'node:crypto'
import { MongoClient, type Db } from 'mongodb'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testServices, withDatabase } from '../../../test/services.js'
import { connectMongo } from '../src/adapters/mongo/mongo-source.js'
import { introspectMongo } from '../src/adapters/mongo/mongo-introspect.js'
import { parseConnectionUrl } from '../src/connection/url.js'
import type { DatabaseSchema } from '../src/schema/schema.js'
import type { FixtureDocument } from './fixtures/mongo/all-types.js'

const { mongoUrl } = testServices()
const dbName = `dbsnap_mintro_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
const url = withDatabase(mongoUrl, dbName)
const target = parseConnectionUrl(url)

let client: MongoClient
let db: Db
let schema: DatabaseSchema

beforeAll(async () => {
  client = new MongoClient(url)
  await client.connect()
  db = client.db(dbName)
  await db.collection<FixtureDocument>('orders').insertMany([
    { _id: 1, email: 'a@x', total: 5 },
    { _id: 2, email: 'b@x', total: 7 },
  ])
  await db.collection<FixtureDocument>('orders').createIndex({ email: 1 }, { unique: true })
  await db
    .collection<FixtureDocument>('orders')
    .createIndex({ total: -1, email: 1 }, { name: 'by_total' })
  await db.createCollection('log', { capped: true, size: 65536, max: 100 })
  await db.createCollection('empty')
  schema = await introspectMongo(db, { target })
})

afterAll(async () => {
  await db?.dropDatabase()
  await client?.close()
})

describe('introspectMongo', () => {
  it('lists collections by name, each with the _id and document columns and the _id key', () => {
    expect(schema.engine).toBe('mongodb')
    expect(schema.tables.map((t) => t.name)).toEqual(['empty', 'log', 'orders'])
    for (const table of schema.tables) {
      expect(table).toMatchObject({
        schema: '',
        kind: 'collection',
        primaryKey: { name: '_id_', columns: ['_id'] },
        foreignKeys: [],
      })
      expect(table.columns.map((c) => `${c.name}:${c.encoding}`)).toEqual([
        '_id:ejson',
        'document:ejson',
      ])
      expect(table.extra?.uuid).toMatch(
        /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
      )
    }
    expect(schema.views).toEqual([])
  })

  it('keeps the indexes with their key order, directions and options', () => {
    const orders = schema.tables.find((t) => t.name === 'orders')!
    expect(
      orders.indexes.map((i) => ({
        name: i.name,
        unique: i.unique,
        method: i.method,
        columns: i.columns,
        definition: i.definition,
      })),
    ).toEqual([
      {
        name: '_id_',
        unique: true,
        method: 'btree',
        columns: ['_id'],
        definition: 'createIndex({"_id":{"$numberInt":"1"}})',
      },
      {
        name: 'by_total',
        unique: false,
        method: 'btree',
        columns: ['total', 'email'],
        definition: 'createIndex({"total":{"$numberInt":"-1"},"email":{"$numberInt":"1"}})',
      },
      {
        name: 'email_1',
        unique: true,
        method: 'btree',
        columns: ['email'],
        definition: 'createIndex({"email":{"$numberInt":"1"}}, {"unique":true})',
      },
    ])
    expect(orders.estimatedRows).toBe(2)
  })

  it('keeps capped options', () => {
    const log = schema.tables.find((t) => t.name === 'log')!
    expect(log.extra).toMatchObject({
      capped: { size: 65536, max: 100 },
      validation: null,
      timeseries: null,
    })
    expect(schema.tables.find((t) => t.name === 'orders')!.extra?.capped).toBeNull()
  })

  it('is deterministic, and the read view introspects the same', async () => {
    expect(await introspectMongo(db, { target })).toEqual(schema)
    const adapter = await connectMongo(target, {})
    try {
      const view = await adapter.openReadView()
      expect(await view.introspect()).toEqual(schema)
      await view.close()
    } finally {
      await adapter.close()
    }
  })
})
