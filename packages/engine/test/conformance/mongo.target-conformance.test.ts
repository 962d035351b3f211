// The restore target contract on MongoDB (FerretDB in the tests).

import { randomBytes } from 'node:crypto'
import { Int32, MongoClient } from 'mongodb'
import { testServices, withDatabase } from '../../../../test/services.js'
import { describeTargetConformance, type Row } from './target-conformance.js'

const suffix = randomBytes(4).toString('hex')
const databases: string[] = []
let client: MongoClient | undefined

interface Item {
  _id: Int32
  name: string
}

async function connected(): Promise<MongoClient> {
  client ??= await new MongoClient(testServices().mongoUrl).connect()
  return client
}

const documents = (rows: Row[]): Item[] => rows.map(([id, name]) => ({ _id: new Int32(id), name }))

function databaseOf(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1))
}

describeTargetConformance({
  engine: 'mongodb',
  async database(label, tables) {
    const name = `dbsnap_tconf_${suffix}_${label}`
    databases.push(name)
    const db = (await connected()).db(name)
    for (const [table, rows] of Object.entries(tables)) {
      await db.createCollection(table)
      if (rows.length > 0) await db.collection<Item>(table).insertMany(documents(rows))
    }
    return withDatabase(testServices().mongoUrl, name)
  },
  async rows(url, table) {
    const items = (await connected()).db(databaseOf(url)).collection<Item>(table)
    const found = await items.find({}, { sort: { _id: 1 } }).toArray()
    return found.map(({ _id, name }): Row => [Number(_id), name])
  },
  async setRows(url, table, rows) {
    const items = (await connected()).db(databaseOf(url)).collection<Item>(table)
    await items.deleteMany({})
    if (rows.length > 0) await items.insertMany(documents(rows))
  },
  tableName: (table) => table,
  // Written in batches of 1,000: the two before the conflict are deleted again.
  conflict: (id) =>
    new RegExp(
      `_id \\{"\\$numberInt":"${id}"\\}; the 2000 documents this restore had inserted were deleted again`,
    ),
  async destroy() {
    for (const name of databases) await client?.db(name).dropDatabase()
    await client?.close()
  },
  skips: {
    'rolls back on failure':
      'MongoDB writes are not transactional: a load that fails for another reason than a conflict keeps the documents written so far (docs/mongodb.md); what a conflict wrote is deleted again, as "on-conflict fail" checks',
  },
})
