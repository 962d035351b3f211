// Ground truth for the data diff on every engine: seeded random inserts, updates and deletes
// applied to a real database between two snapshots. The diff must report exactly those changes
// (no more, no less), and applying the reported changes to the first snapshot's rows must give
// the second's.

import { randomBytes } from 'node:crypto'
import { MongoClient, type Db } from 'mongodb'
import mysql from 'mysql2/promise'
import { afterAll, describe, expect, it } from 'vitest'
import { testServices, withDatabase } from '../../../test/services.js'
import { createTestDatabase, type TestDatabase } from '../../../test/postgres.js'
import { rowKeyText, type CanonicalRow } from '../src/canonical/value-encoding.js'
import { diffSnapshots } from '../src/diff/diff.js'
import type { RowChange } from '../src/diff/diff-format.js'
import { Repository, type StoredSnapshot } from '../src/repository/repository.js'
import { readSnapshotRows } from '../src/repository/snapshot-rows.js'
import { createSnapshot } from '../src/snapshot/snapshot.js'
import { MemoryStorage } from '../src/storage/memory/memory-storage.js'

const ROWS = 20_000
const OPERATIONS = 300
const SEED = 20261125

interface Item {
  id: number
  name: string
  qty: number
  doc: { tags: string[]; nested: { version: number } }
}

/** One engine: where `gt` lives and how to change it. */
interface Engine {
  name: string
  /** Rows and random changes: FerretDB takes about 0.3 s per write, so it gets fewer. */
  rows: number
  operations: number
  create(items: Item[]): Promise<string>
  insert(item: Item): Promise<void>
  update(item: Item): Promise<void>
  remove(id: number): Promise<void>
  destroy(): Promise<void>
}

/** mulberry32: a small seeded PRNG, so a failure replays exactly. */
function random(seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const itemOf = (id: number, version = 0): Item => ({
  id,
  name: `item ${id}`,
  qty: id % 13,
  doc: { tags: ['a', `t${id % 5}`], nested: { version } },
})

function postgres(): Engine {
  let db: TestDatabase
  return {
    name: 'postgres',
    rows: ROWS,
    operations: OPERATIONS,
    async create(items) {
      db = await createTestDatabase('dbsnap_it_gt')
      await db.client.query(
        'CREATE TABLE gt (id integer PRIMARY KEY, name text, qty integer, doc jsonb)',
      )
      await db.client.query(
        `INSERT INTO gt SELECT (r->>'id')::int, r->>'name', (r->>'qty')::int, r->'doc'
         FROM jsonb_array_elements($1::jsonb) r`,
        [JSON.stringify(items)],
      )
      return db.url
    },
    insert: async (i) =>
      void (await db.client.query('INSERT INTO gt VALUES ($1, $2, $3, $4)', [
        i.id,
        i.name,
        i.qty,
        i.doc,
      ])),
    update: async (i) =>
      void (await db.client.query('UPDATE gt SET name = $2, qty = $3, doc = $4 WHERE id = $1', [
        i.id,
        i.name,
        i.qty,
        i.doc,
      ])),
    remove: async (id) => void (await db.client.query('DELETE FROM gt WHERE id = $1', [id])),
    destroy: () => db.drop(),
  }
}

function mariadb(): Engine {
  const database = `dbsnap_it_gt_${randomBytes(4).toString('hex')}`
  let db: mysql.Connection
  return {
    name: 'mysql',
    rows: ROWS,
    operations: OPERATIONS,
    async create(items) {
      const admin = await mysql.createConnection({ uri: testServices().mysqlUrl })
      await admin.query(`CREATE DATABASE \`${database}\``)
      await admin.end()
      const url = withDatabase(testServices().mysqlUrl, database)
      db = await mysql.createConnection({ uri: url })
      await db.query('CREATE TABLE gt (id INT PRIMARY KEY, name VARCHAR(50), qty INT, doc JSON)')
      for (let i = 0; i < items.length; i += 1000) {
        const batch = items
          .slice(i, i + 1000)
          .map((t) => [t.id, t.name, t.qty, JSON.stringify(t.doc)])
        await db.query('INSERT INTO gt VALUES ?', [batch])
      }
      return url
    },
    insert: async (i) =>
      void (await db.query('INSERT INTO gt VALUES (?, ?, ?, ?)', [
        i.id,
        i.name,
        i.qty,
        JSON.stringify(i.doc),
      ])),
    update: async (i) =>
      void (await db.query('UPDATE gt SET name = ?, qty = ?, doc = ? WHERE id = ?', [
        i.name,
        i.qty,
        JSON.stringify(i.doc),
        i.id,
      ])),
    remove: async (id) => void (await db.query('DELETE FROM gt WHERE id = ?', [id])),
    async destroy() {
      await db.query(`DROP DATABASE IF EXISTS \`${database}\``)
      await db.end()
    },
  }
}

function mongo(): Engine {
  const database = `dbsnap_it_gt_${randomBytes(4).toString('hex')}`
  let client: MongoClient
  let db: Db
  const gt = () => db.collection<Omit<Item, 'id'> & { _id: number }>('gt')
  const doc = ({ id, ...rest }: Item) => ({ _id: id, ...rest })
  return {
    name: 'mongodb',
    rows: 5_000,
    operations: 60,
    async create(items) {
      const url = withDatabase(testServices().mongoUrl, database)
      client = new MongoClient(url)
      await client.connect()
      db = client.db(database)
      for (let i = 0; i < items.length; i += 1000)
        await gt().insertMany(items.slice(i, i + 1000).map(doc))
      return url
    },
    insert: async (i) => void (await gt().insertOne(doc(i))),
    update: async (i) => void (await gt().replaceOne({ _id: i.id }, doc(i))),
    remove: async (id) => void (await gt().deleteOne({ _id: id })),
    async destroy() {
      await db.dropDatabase()
      await client.close()
    },
  }
}

const engines = [postgres(), mariadb(), mongo()]
afterAll(async () => {
  for (const engine of engines) await engine.destroy().catch(() => undefined)
})

/** The id of a canonical row of `gt`: a number, or a Mongo `_id` in Extended JSON. */
function idOf(row: CanonicalRow): number {
  const first = row[0]
  return typeof first === 'number'
    ? first
    : Number((JSON.parse(first as string) as { $numberInt: string }).$numberInt)
}

describe('diff ground truth', () => {
  it.each(engines.map((e) => [e.name, e] as const))(
    '%s: reports exactly the random changes, and they turn a into b',
    async (_, engine) => {
      const next = random(SEED)
      const before = new Map<number, Item>()
      for (let id = 1; id <= engine.rows; id++) before.set(id, itemOf(id))
      const url = await engine.create([...before.values()])
      const repository = await Repository.open(new MemoryStorage(), { create: true })
      const snap = async (): Promise<StoredSnapshot> => {
        const { id } = await createSnapshot({ source: url, repository, tables: ['gt'] })
        return { id, manifest: await repository.readManifest(id) }
      }
      const a = await snap()
      const after = new Map(before)
      let nextId = engine.rows + 1
      for (let i = 0; i < engine.operations; i++) {
        const roll = next()
        const ids = [...after.keys()]
        const existing = ids[Math.floor(next() * ids.length)]!
        if (roll < 0.3) {
          const item = itemOf(nextId++, 1)
          after.set(item.id, item)
          await engine.insert(item)
        } else if (roll < 0.7) {
          const item = { ...itemOf(existing, 2), qty: Math.floor(next() * 1000) }
          after.set(existing, item)
          await engine.update(item)
        } else {
          after.delete(existing)
          await engine.remove(existing)
        }
      }
      const b = await snap()

      const diff = diffSnapshots({ repository, snapshot: a }, { repository, snapshot: b })
      const changes: RowChange[] = []
      for await (const change of diff.rowChanges()) changes.push(change)

      const expected = new Set<string>()
      for (const id of new Set([...before.keys(), ...after.keys()])) {
        const x = before.get(id)
        const y = after.get(id)
        if (x === undefined) expected.add(`added ${id}`)
        else if (y === undefined) expected.add(`removed ${id}`)
        else if (JSON.stringify(x) !== JSON.stringify(y)) expected.add(`modified ${id}`)
      }
      const reported = changes.map((c) => `${c.change} ${idOf((c.new ?? c.old)!)}`)
      expect(reported.length).toBe(expected.size)
      expect(new Set(reported)).toEqual(expected)

      // Applying the reported changes to a's rows gives b's rows.
      const rowsOf = async (s: StoredSnapshot): Promise<Map<string, CanonicalRow>> => {
        const table = s.manifest.tables[0]!
        const rows = new Map<string, CanonicalRow>()
        for await (const batch of readSnapshotRows(repository, table)) {
          for (const row of batch) rows.set(rowKeyText(row, [0]), row)
        }
        return rows
      }
      const applied = await rowsOf(a)
      for (const change of changes) {
        const key = JSON.stringify(change.key)
        if (change.change === 'removed') applied.delete(key)
        else applied.set(key, change.new!)
      }
      expect(applied).toEqual(await rowsOf(b))
    },
    180_000,
  )
})
