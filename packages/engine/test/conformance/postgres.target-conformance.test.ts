// The restore target contract on PostgreSQL.

import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { testServices, withDatabase } from '../../../../test/services.js'
import { describeTargetConformance, type Row } from './target-conformance.js'

const suffix = randomBytes(4).toString('hex')
const databases: string[] = []
const clients = new Map<string, pg.Client>()
let admin: pg.Client | undefined

async function client(url: string): Promise<pg.Client> {
  let c = clients.get(url)
  if (c === undefined) {
    c = new pg.Client({ connectionString: url })
    await c.connect()
    clients.set(url, c)
  }
  return c
}

async function insert(db: pg.Client, table: string, rows: Row[]): Promise<void> {
  await db.query(
    `INSERT INTO ${pg.escapeIdentifier(table)} SELECT * FROM unnest($1::int[], $2::text[])`,
    [rows.map(([id]) => id), rows.map(([, name]) => name)],
  )
}

describeTargetConformance({
  engine: 'postgres',
  async database(label, tables) {
    const { pgUrl } = testServices()
    admin ??= await client(pgUrl)
    const name = `dbsnap_tconf_${suffix}_${label}`
    databases.push(name)
    await admin.query(`CREATE DATABASE ${name}`)
    const url = withDatabase(pgUrl, name)
    const db = await client(url)
    for (const [table, rows] of Object.entries(tables)) {
      await db.query(
        `CREATE TABLE ${pg.escapeIdentifier(table)} (id integer PRIMARY KEY, name text NOT NULL)`,
      )
      await insert(db, table, rows)
    }
    return url
  },
  async rows(url, table) {
    const db = await client(url)
    const { rows } = await db.query<{ id: number; name: string }>(
      `SELECT id, name FROM ${pg.escapeIdentifier(table)} ORDER BY id`,
    )
    return rows.map(({ id, name }): Row => [id, name])
  },
  async setRows(url, table, rows) {
    const db = await client(url)
    await db.query(`DELETE FROM ${pg.escapeIdentifier(table)}`)
    await insert(db, table, rows)
  },
  tableName: (table) => `public.${table}`,
  conflict: (id) => new RegExp(`Key \\(id\\)=\\(${id}\\) already exists`),
  async destroy() {
    for (const c of clients.values()) if (c !== admin) await c.end().catch(() => undefined)
    for (const name of databases) await admin?.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    await admin?.end()
  },
})
