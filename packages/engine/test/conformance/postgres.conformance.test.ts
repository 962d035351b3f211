// The adapter contract on PostgreSQL.

import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { testServices, withCredentials, withDatabase } from '../../../../test/services.js'
import { describeAdapterConformance } from './adapter-conformance.js'

const database = `dbsnap_conf_pg_${randomBytes(4).toString('hex')}`
let admin: pg.Client | undefined
let db: pg.Client | undefined

async function client(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url })
  await c.connect()
  return c
}

describeAdapterConformance({
  engine: 'postgres',
  table: { schema: 'public', name: 'items' },
  columns: ['id', 'name', 'qty'],
  primaryKey: ['id'],
  async create(rows) {
    const { pgUrl } = testServices()
    admin = await client(pgUrl)
    await admin.query(`CREATE DATABASE ${database}`)
    const url = withDatabase(pgUrl, database)
    db = await client(url)
    await db.query(`CREATE TABLE items (id integer PRIMARY KEY, name text NOT NULL, qty integer)`)
    await db.query(
      `INSERT INTO items SELECT g, 'item ' || g, g % 7 FROM generate_series(1, $1::int) g`,
      [rows],
    )
    return url
  },
  async insert(id) {
    await db!.query(`INSERT INTO items VALUES ($1::int, 'item ' || $1, $1::int % 7)`, [id])
  },
  async remove(id) {
    await db!.query(`DELETE FROM items WHERE id = $1`, [id])
  },
  async dropItems() {
    await db!.query(`DROP TABLE items`)
  },
  lockedByReaders: async () => {
    await db!.query('BEGIN')
    try {
      await db!.query('LOCK TABLE items IN ACCESS EXCLUSIVE MODE NOWAIT')
      return false
    } catch (err) {
      if ((err as { code?: string }).code === '55P03') return true
      throw err
    } finally {
      await db!.query('ROLLBACK')
    }
  },
  async destroy() {
    await db?.end()
    await admin?.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`)
    await admin?.end()
  },
  idOf: (row) => row[0] as number,
  keyOf: (id) => [id],
  // The test server trusts local connections whatever the password; a role it does not know
  // is refused all the same.
  wrongCredentials: (url) => withCredentials(url, 'dbsnap_conf_nobody', 'not-the-password'),
})
