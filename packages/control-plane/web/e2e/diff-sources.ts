// Throwaway databases of the three engines for the diff pages' browser tests, each seeded and
// then changed between two snapshots: PostgreSQL with 10,000 row changes (and a schema change
// and a nested JSON change), MariaDB with a JSON column, MongoDB with a nested document field.
// Created on the test services (scripts/services.sh), dropped after.

import { randomBytes } from 'node:crypto'
import { MongoClient } from 'mongodb'
import mysql from 'mysql2/promise'
import type pg from 'pg'
import { onServer, testServiceUrl } from './source-database.ts'

export interface DiffSource {
  engine: 'postgres' | 'mysql' | 'mongodb'
  url: string
  /** Applies the changes the diff is to find. */
  change(): Promise<void>
  drop(): Promise<void>
}

const uniqueName = (engine: string) =>
  `h_web_${engine}_${process.pid}_${randomBytes(3).toString('hex')}`

function withDatabase(server: string, name: string): string {
  const url = new URL(server)
  url.pathname = `/${name}`
  return url.href
}

/** Row changes of `public.events`: 2,000 removed, 4,000 modified, 4,000 added. */
export const PG_EVENTS = { removed: 2_000, modified: 4_000, added: 4_000 } as const
/** Rows `events` holds before the change (ids 1..6000). */
const PG_BEFORE = PG_EVENTS.removed + PG_EVENTS.modified

const doc = (version: number) => JSON.stringify({ tags: ['a', 'b'], nested: { version } })

/**
 * `events (id, label, amount, doc jsonb)`: ids 1–2000 removed, 2001–6000 relabelled `changed
 * <id>` (2001's doc.nested.version 1 → 2 too), 6001–10000 added; `customers` gets a column and
 * loses a row.
 */
export async function postgresSource(): Promise<DiffSource> {
  const server = testServiceUrl('DBSNAP_TEST_PG_URL')
  const name = uniqueName('pg')
  await onServer(server, (client) => client.query(`CREATE DATABASE ${name}`))
  const url = withDatabase(server, name)
  const run = (sql: string) => onServer(url, (client: pg.Client) => client.query(sql))
  await run(`
    CREATE TABLE events (id int PRIMARY KEY, label text NOT NULL, amount numeric, doc jsonb);
    INSERT INTO events SELECT g, 'event ' || g, g * 1.5, '${doc(1)}' FROM generate_series(1, ${PG_BEFORE}) g;
    CREATE TABLE customers (id int PRIMARY KEY, email text);
    INSERT INTO customers SELECT g, 'customer' || g || '@example.com' FROM generate_series(1, 20) g;`)
  return {
    engine: 'postgres',
    url,
    change: () =>
      run(`
        DELETE FROM events WHERE id <= ${PG_EVENTS.removed};
        UPDATE events SET label = 'changed ' || id WHERE id > ${PG_EVENTS.removed};
        UPDATE events SET doc = '${doc(2)}' WHERE id = ${PG_EVENTS.removed + 1};
        INSERT INTO events SELECT g, 'event ' || g, g * 1.5, '${doc(1)}'
          FROM generate_series(${PG_BEFORE + 1}, ${PG_BEFORE + PG_EVENTS.added}) g;
        ALTER TABLE customers ADD COLUMN country text;
        DELETE FROM customers WHERE id = 7;`).then(() => undefined),
    drop: () =>
      onServer(server, (client) =>
        client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
      ).then(() => undefined),
  }
}

/** `items (id, name, doc JSON)` with 10 rows: 3 renamed, 1's doc.nested.version 1 → 2, 2 removed, 11 added. */
export async function mariadbSource(): Promise<DiffSource> {
  const server = testServiceUrl('DBSNAP_TEST_MYSQL_URL')
  const name = uniqueName('my')
  const admin = await mysql.createConnection({ uri: server })
  await admin.query(`CREATE DATABASE \`${name}\``)
  const url = withDatabase(server, name)
  const db = await mysql.createConnection({ uri: url, multipleStatements: true })
  await db.query('CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(50), doc JSON)')
  await db.query('INSERT INTO items VALUES ?', [
    Array.from({ length: 10 }, (_, i) => [i + 1, `item ${i + 1}`, doc(1)]),
  ])
  return {
    engine: 'mysql',
    url,
    change: async () => {
      await db.query(
        `UPDATE items SET name = 'renamed' WHERE id = 3; UPDATE items SET doc = '${doc(2)}' WHERE id = 1;
         DELETE FROM items WHERE id = 2; INSERT INTO items VALUES (11, 'item 11', '${doc(1)}')`,
      )
    },
    drop: async () => {
      await db.end()
      await admin.query(`DROP DATABASE IF EXISTS \`${name}\``)
      await admin.end()
    },
  }
}

/** `items` with 10 documents: document 1's doc.nested.version 1 → 2, 3 renamed, 2 removed. */
export async function mongoSource(): Promise<DiffSource> {
  const server = testServiceUrl('DBSNAP_TEST_MONGO_URL')
  const name = uniqueName('mongo')
  const url = withDatabase(server, name)
  const client = new MongoClient(url)
  await client.connect()
  const items = client.db(name).collection<{ _id: number; name: string; doc: unknown }>('items')
  await items.insertMany(
    Array.from({ length: 10 }, (_, i) => ({
      _id: i + 1,
      name: `item ${i + 1}`,
      doc: { tags: ['a', 'b'], nested: { version: 1, note: 'kept' } },
    })),
  )
  return {
    engine: 'mongodb',
    url,
    change: async () => {
      await items.updateOne({ _id: 1 }, { $set: { 'doc.nested.version': 2 } })
      await items.updateOne({ _id: 3 }, { $set: { name: 'renamed' } })
      await items.deleteOne({ _id: 2 })
    },
    drop: async () => {
      await client.db(name).dropDatabase()
      await client.close()
    },
  }
}
