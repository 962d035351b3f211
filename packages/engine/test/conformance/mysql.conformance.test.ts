// The adapter contract on MySQL/MariaDB.

import { randomBytes } from 'node:crypto'
import mysql from 'mysql2/promise'
import { testServices, withCredentials, withDatabase } from '../../../../test/services.js'
import { describeAdapterConformance } from './adapter-conformance.js'

const database = `dbsnap_conf_my_${randomBytes(4).toString('hex')}`
let db: mysql.Connection | undefined

describeAdapterConformance({
  engine: 'mysql',
  table: { schema: '', name: 'items' },
  columns: ['id', 'name', 'qty'],
  primaryKey: ['id'],
  async create(rows) {
    const { mysqlUrl } = testServices()
    const admin = await mysql.createConnection({ uri: mysqlUrl })
    await admin.query(`CREATE DATABASE \`${database}\``)
    await admin.end()
    const url = withDatabase(mysqlUrl, database)
    db = await mysql.createConnection({ uri: url })
    await db.query(
      'CREATE TABLE items (id INT NOT NULL PRIMARY KEY, name TEXT NOT NULL, qty INT) ENGINE=InnoDB',
    )
    // Batches of plain multi-row INSERTs: MariaDB caps recursive CTEs at 1,000 iterations.
    for (let from = 1; from <= rows; from += 1000) {
      const ids = Array.from({ length: Math.min(1000, rows - from + 1) }, (_, i) => from + i)
      await db.query('INSERT INTO items VALUES ?', [ids.map((i) => [i, `item ${i}`, i % 7])])
    }
    return url
  },
  async insert(id) {
    await db!.query(`INSERT INTO items VALUES (?, CONCAT('item ', ?), ? % 7)`, [id, id, id])
  },
  async remove(id) {
    await db!.query('DELETE FROM items WHERE id = ?', [id])
  },
  async dropItems() {
    await db!.query('DROP TABLE items')
  },
  lockedByReaders: async () => {
    // A transaction that read the table holds its metadata lock; the shortest wait is 1 s.
    await db!.query('SET SESSION lock_wait_timeout = 1')
    try {
      await db!.query('LOCK TABLES items WRITE')
      return false
    } catch (err) {
      if ((err as { code?: string }).code === 'ER_LOCK_WAIT_TIMEOUT') return true
      throw err
    } finally {
      await db!.query('UNLOCK TABLES')
    }
  },
  async destroy() {
    await db?.query(`DROP DATABASE IF EXISTS \`${database}\``)
    await db?.end()
  },
  idOf: (row) => row[0] as number,
  keyOf: (id) => [id],
  wrongCredentials: (url) => withCredentials(url, 'root', 'not-the-password'),
})
