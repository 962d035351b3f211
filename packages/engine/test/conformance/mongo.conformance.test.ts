// The adapter contract on MongoDB (tested on FerretDB).

import { randomBytes } from 'node:crypto'
import { MongoClient, type Collection, type Db } from 'mongodb'
import { testServices, withDatabase } from '../../../../test/services.js'
import { describeAdapterConformance } from './adapter-conformance.js'

const database = `dbsnap_conf_mo_${randomBytes(4).toString('hex')}`
let client: MongoClient | undefined
let db: Db | undefined

interface Item {
  _id: number
  name: string
  qty: number
}

const items = (): Collection<Item> => db!.collection<Item>('items')
const item = (id: number): Item => ({
  _id: id,
  name: `item ${id}`,
  qty: id % 7,
})

describeAdapterConformance({
  engine: 'mongodb',
  table: { schema: '', name: 'items' },
  columns: ['_id', 'document'],
  primaryKey: ['_id'],
  async create(rows) {
    const url = withDatabase(testServices().mongoUrl, database)
    client = new MongoClient(url)
    await client.connect()
    db = client.db(database)
    for (let from = 1; from <= rows; from += 1000) {
      const ids = Array.from({ length: Math.min(1000, rows - from + 1) }, (_, i) => from + i)
      await items().insertMany(ids.map(item))
    }
    return url
  },
  async insert(id) {
    await items().insertOne(item(id))
  },
  async remove(id) {
    await items().deleteOne({ _id: id })
  },
  async dropItems() {
    await items().drop()
  },
  async destroy() {
    await db?.dropDatabase()
    await client?.close()
  },
  // `_id` in canonical Extended JSON: {"$numberInt":"42"}.
  idOf: (row) => Number((JSON.parse(row[0] as string) as { $numberInt: string }).$numberInt),
  keyOf: (id) => [JSON.stringify({ $numberInt: String(id) })],
  wrongCredentials: (url) => {
    const wrong = new URL(url)
    wrong.password = 'not-the-password'
    return wrong.href
  },
  skips: {
    'sees one moment':
      'FerretDB accepts snapshot reads without honouring them, so a MongoDB snapshot of it is not point-in-time (docs/mongodb.md); the adapter warns instead',
  },
})
