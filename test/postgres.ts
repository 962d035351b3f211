// A throwaway PostgreSQL database per test file: created under a unique name, dropped after.

import { randomBytes } from 'node:crypto'
import pg from 'pg'
import { testServices, withDatabase } from './services.js'

export interface TestDatabase {
  name: string
  url: string
  /** A connection to the database, for setting up and changing data. */
  client: pg.Client
  /** Closes the connection and drops the database (with any session still on it). */
  drop(): Promise<void>
}

/** Creates `<prefix>_<random>` on the test server; call `drop()` in `afterAll`. */
export async function createTestDatabase(prefix: string): Promise<TestDatabase> {
  const { pgUrl } = testServices()
  const name = `${prefix}_${process.pid}_${randomBytes(3).toString('hex')}`
  const admin = new pg.Client({ connectionString: pgUrl })
  await admin.connect()
  try {
    await admin.query(`CREATE DATABASE ${name}`)
  } finally {
    await admin.end()
  }
  const url = withDatabase(pgUrl, name)
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  return {
    name,
    url,
    client,
    async drop() {
      await client.end().catch(() => undefined)
      const again = new pg.Client({ connectionString: pgUrl })
      await again.connect()
      try {
        await again.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
      } finally {
        await again.end()
      }
    },
  }
}
