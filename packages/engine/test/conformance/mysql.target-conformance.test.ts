// The restore target contract on MySQL/MariaDB.

import { randomBytes } from 'node:crypto'
import mysql from 'mysql2/promise'
import { testServices, withDatabase } from '../../../../test/services.js'
import { describeTargetConformance, type Row } from './target-conformance.js'

const suffix = randomBytes(4).toString('hex')
const databases: string[] = []
const connections = new Map<string, mysql.Connection>()

async function connection(url: string): Promise<mysql.Connection> {
  let c = connections.get(url)
  if (c === undefined) {
    c = await mysql.createConnection({ uri: url })
    connections.set(url, c)
  }
  return c
}

async function insert(db: mysql.Connection, table: string, rows: Row[]): Promise<void> {
  if (rows.length > 0) await db.query(`INSERT INTO ${db.escapeId(table)} VALUES ?`, [rows])
}

describeTargetConformance({
  engine: 'mysql',
  async database(label, tables) {
    const { mysqlUrl } = testServices()
    const admin = await connection(mysqlUrl)
    const name = `dbsnap_tconf_${suffix}_${label}`
    databases.push(name)
    await admin.query(`CREATE DATABASE ${admin.escapeId(name)}`)
    const url = withDatabase(mysqlUrl, name)
    const db = await connection(url)
    for (const [table, rows] of Object.entries(tables)) {
      await db.query(
        `CREATE TABLE ${db.escapeId(table)} (id INT PRIMARY KEY, name VARCHAR(100) NOT NULL)`,
      )
      await insert(db, table, rows)
    }
    return url
  },
  async rows(url, table) {
    const db = await connection(url)
    const [rows] = await db.query(`SELECT id, name FROM ${db.escapeId(table)} ORDER BY id`)
    return (rows as { id: number; name: string }[]).map(({ id, name }): Row => [id, name])
  },
  async setRows(url, table, rows) {
    const db = await connection(url)
    await db.query(`DELETE FROM ${db.escapeId(table)}`)
    await insert(db, table, rows)
  },
  tableName: (table) => table,
  conflict: (id) => new RegExp(`'${id}' for key 'PRIMARY'`),
  async destroy() {
    const admin = connections.get(testServices().mysqlUrl)
    for (const name of databases) await admin?.query(`DROP DATABASE IF EXISTS \`${name}\``)
    for (const c of connections.values()) await c.end().catch(() => undefined)
  },
})
