// A throwaway PostgreSQL database for the browser tests to snapshot: created on the test server
// (DBSNAP_TEST_PG_URL, or the .test-services.env that scripts/services.sh writes) with a small
// table, dropped after; and the test services' URLs for the other engines' databases.

import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'

const ENV_FILE = join(import.meta.dirname, '../../../../.test-services.env')

/** A test service's URL (DBSNAP_TEST_PG_URL…), from the environment or .test-services.env. */
export function testServiceUrl(key: string): string {
  const fromEnv = process.env[key]
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv
  if (existsSync(ENV_FILE)) {
    const line = readFileSync(ENV_FILE, 'utf8')
      .split('\n')
      .find((l) => l.startsWith(`${key}=`))
    if (line !== undefined) return line.slice(key.length + 1).trim()
  }
  throw new Error(`the browser tests need ${key}: run scripts/services.sh up`)
}

export interface SourceDatabase {
  name: string
  url: string
  drop(): Promise<void>
}

export async function onServer<T>(url: string, run: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    return await run(client)
  } finally {
    await client.end()
  }
}

/** A database with `orders` (`rows` rows) on the test server. */
export async function createSourceDatabase(rows = 250): Promise<SourceDatabase> {
  const server = testServiceUrl('DBSNAP_TEST_PG_URL')
  const name = `dbsnap_web_e2e_${process.pid}_${randomBytes(3).toString('hex')}`
  await onServer(server, (client) => client.query(`CREATE DATABASE ${name}`))
  const parsed = new URL(server)
  parsed.pathname = `/${name}`
  const url = parsed.href
  await onServer(url, async (client) => {
    await client.query('CREATE TABLE orders (id int PRIMARY KEY, customer text, total numeric)')
    await client.query(
      `INSERT INTO orders SELECT i, 'customer ' || i, i * 1.5 FROM generate_series(1, $1) i`,
      [rows],
    )
  })
  return {
    name,
    url,
    drop: () =>
      onServer(server, (client) =>
        client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
      ).then(() => undefined),
  }
}
