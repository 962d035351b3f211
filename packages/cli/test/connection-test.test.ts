import { randomBytes } from 'node:crypto'
import mysql from 'mysql2/promise'
import { MongoClient } from 'mongodb'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json, runCli } from '../../../test/cli.js'
import { blackhole, closedPort } from '../../../test/net.js'
import { testServices, withCredentials, withDatabase } from '../../../test/services.js'

const suffix = `${process.pid}_${randomBytes(3).toString('hex')}`
const dbName = `dbsnap_it_conn_${suffix}`
const roUser = `dbsnap_it_ro_${suffix}`
const roPassword = `pw-${randomBytes(8).toString('hex')}`

interface Described {
  engine: string
  product: string
  serverVersion: string
  database: string | null
  sizeBytes: number | null
  objects: Record<string, number>
  currentUser: string | null
  superuser: boolean
  excessPrivileges: string[]
}

interface Failed {
  error: { code: string; message: string; retryable: boolean }
}

/** Asserts a failed run: exit code, error code, one line on stderr, nothing secret anywhere. */
async function expectFailure(
  args: string[],
  code: string,
  exit: number,
  secret?: string,
): Promise<string> {
  const text = await runCli(args)
  expect(text.code, text.stderr).toBe(exit)
  expect(text.stdout).toBe('')
  const lines = text.stderr.trim().split('\n')
  expect(lines).toHaveLength(1)
  expect(lines[0]).toMatch(new RegExp(`^dbsnap: error \\[${code}\\]: `))
  const asJson = await runCli([...args, '--json'])
  expect(asJson.code).toBe(exit)
  expect(json<Failed>(asJson).error.code).toBe(code)
  if (secret !== undefined) {
    for (const output of [text.stdout, text.stderr, asJson.stdout, asJson.stderr])
      expect(output).not.toContain(secret)
  }
  return lines[0] ?? ''
}

describe('dbsnap connection test: PostgreSQL', () => {
  const { pgUrl } = testServices()
  const url = withDatabase(pgUrl, dbName)

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: pgUrl })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${dbName}`)
    await admin.query(`CREATE ROLE ${roUser} LOGIN PASSWORD '${roPassword}'`)
    await admin.end()
    const db = new pg.Client({ connectionString: url })
    await db.connect()
    await db.query(`
      CREATE TABLE customers (id bigint PRIMARY KEY, name text);
      CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers);
      CREATE SCHEMA sales;
      CREATE TABLE sales.invoices (id bigint PRIMARY KEY);
      CREATE VIEW big_orders AS SELECT * FROM orders WHERE id > 100;
      GRANT USAGE ON SCHEMA sales TO ${roUser};
      GRANT SELECT ON ALL TABLES IN SCHEMA public, sales TO ${roUser};`)
    await db.end()
  })

  afterAll(async () => {
    const admin = new pg.Client({ connectionString: pgUrl })
    await admin.connect()
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
    await admin.query(`DROP ROLE IF EXISTS ${roUser}`)
    await admin.end()
  })

  it('describes the database and flags a superuser', async () => {
    const run = await runCli(['connection', 'test', url, '--json'])
    expect(run.code, run.stderr).toBe(0)
    const result = json<Described>(run)
    expect(result).toMatchObject({
      engine: 'postgres',
      product: 'PostgreSQL',
      database: dbName,
      objects: { tables: 3, views: 1, schemas: 2 },
      superuser: true,
    })
    expect(result.serverVersion).toMatch(/^\d+\.\d+/)
    expect(result.sizeBytes).toBeGreaterThan(0)
    expect(result.excessPrivileges).toContain('SUPERUSER')
  })

  it('finds nothing to warn about for a read-only role, and never shows its password', async () => {
    const roUrl = withCredentials(url, roUser, roPassword)
    const run = await runCli(['connection', 'test', roUrl, '--json', '--log-level', 'trace'])
    expect(run.code, run.stderr).toBe(0)
    expect(json<Described>(run)).toMatchObject({
      currentUser: roUser,
      superuser: false,
      excessPrivileges: [],
    })
    expect(run.stdout + run.stderr).not.toContain(roPassword)
    const text = await runCli(['connection', 'test', roUrl])
    expect(text.stdout).toMatch(/^✔ Connected to PostgreSQL \d+/)
    expect(text.stdout).toContain('read-only: enough for snapshots')
  })

  it('reports a missing database', async () => {
    await expectFailure(
      ['connection', 'test', withDatabase(pgUrl, `${dbName}_missing`)],
      'CONNECTION_DATABASE_NOT_FOUND',
      3,
    )
  })

  it('reports a user the server does not accept', async () => {
    const line = await expectFailure(
      ['connection', 'test', withCredentials(url, `${roUser}_nobody`, 'hunter2-secret')],
      'CONNECTION_AUTH_FAILED',
      3,
      'hunter2-secret',
    )
    expect(line).toContain(`${roUser}_nobody`)
  })
})

describe('dbsnap connection test: MySQL/MariaDB', () => {
  const { mysqlUrl } = testServices()
  const url = withDatabase(mysqlUrl, dbName)

  beforeAll(async () => {
    const admin = await mysql.createConnection({
      uri: mysqlUrl.replace(/^mariadb:/, 'mysql:'),
      multipleStatements: true,
    })
    await admin.query(`
      CREATE DATABASE ${dbName};
      CREATE TABLE ${dbName}.customers (id bigint PRIMARY KEY, name text);
      CREATE TABLE ${dbName}.orders (id bigint PRIMARY KEY);
      CREATE VIEW ${dbName}.big_orders AS SELECT * FROM ${dbName}.orders WHERE id > 100;
      CREATE USER '${roUser}'@'%' IDENTIFIED BY '${roPassword}';
      GRANT SELECT, SHOW VIEW, TRIGGER, EVENT ON ${dbName}.* TO '${roUser}'@'%';`)
    await admin.end()
  })

  afterAll(async () => {
    const admin = await mysql.createConnection({
      uri: mysqlUrl.replace(/^mariadb:/, 'mysql:'),
      multipleStatements: true,
    })
    await admin.query(`DROP DATABASE IF EXISTS ${dbName}; DROP USER IF EXISTS '${roUser}'@'%';`)
    await admin.end()
  })

  it('describes the database and flags a superuser', async () => {
    const run = await runCli(['connection', 'test', url, '--json'])
    expect(run.code, run.stderr).toBe(0)
    const result = json<Described>(run)
    expect(result).toMatchObject({
      engine: 'mysql',
      database: dbName,
      objects: { tables: 2, views: 1 },
      superuser: true,
    })
    expect(['MariaDB', 'MySQL']).toContain(result.product)
    expect(result.excessPrivileges.length).toBeGreaterThan(0)
  })

  it('finds nothing to warn about for a read-only user, and never shows its password', async () => {
    const run = await runCli([
      'connection',
      'test',
      withCredentials(url, roUser, roPassword),
      '--json',
      '--log-level',
      'trace',
    ])
    expect(run.code, run.stderr).toBe(0)
    expect(json<Described>(run)).toMatchObject({ superuser: false, excessPrivileges: [] })
    expect(run.stdout + run.stderr).not.toContain(roPassword)
  })

  it('reports a wrong password without echoing it', async () => {
    await expectFailure(
      ['connection', 'test', withCredentials(url, roUser, 'wrong-secret-pw')],
      'CONNECTION_AUTH_FAILED',
      3,
      'wrong-secret-pw',
    )
  })

  it('reports a missing database', async () => {
    await expectFailure(
      ['connection', 'test', withDatabase(mysqlUrl, `${dbName}_missing`)],
      'CONNECTION_DATABASE_NOT_FOUND',
      3,
    )
  })
})

describe('dbsnap connection test: MongoDB', () => {
  const { mongoUrl } = testServices()
  const url = withDatabase(mongoUrl, dbName)

  beforeAll(async () => {
    const client = new MongoClient(mongoUrl)
    await client.connect()
    const db = client.db(dbName)
    await db.collection('customers').insertMany([{ name: 'a' }, { name: 'b' }])
    await db.collection('orders').insertOne({ total: 1 })
    await client.close()
  })

  afterAll(async () => {
    const client = new MongoClient(mongoUrl)
    await client.connect()
    await client.db(dbName).dropDatabase()
    await client.close()
  })

  it('describes the database', async () => {
    const run = await runCli(['connection', 'test', url, '--json'])
    expect(run.code, run.stderr).toBe(0)
    const result = json<Described>(run)
    expect(result).toMatchObject({
      engine: 'mongodb',
      database: dbName,
      objects: { collections: 2 },
    })
    expect(['MongoDB', 'FerretDB']).toContain(result.product)
    // FerretDB reports no roles: DBSnap must say "unknown", never "read-only".
    expect(result.excessPrivileges).toEqual(
      result.product === 'FerretDB' ? null : expect.any(Array),
    )
  })

  it('reports a missing database', async () => {
    await expectFailure(
      ['connection', 'test', withDatabase(mongoUrl, `${dbName}_missing`)],
      'CONNECTION_DATABASE_NOT_FOUND',
      3,
    )
  })

  it('reports a wrong password without echoing it', async ({ skip }) => {
    const parsed = new URL(mongoUrl)
    if (parsed.username === '') skip('the MongoDB test server runs without authentication')
    await expectFailure(
      [
        'connection',
        'test',
        withCredentials(url, decodeURIComponent(parsed.username), 'wrong-secret-pw'),
      ],
      'CONNECTION_AUTH_FAILED',
      3,
      'wrong-secret-pw',
    )
  })
})

describe('dbsnap connection test: bad input and network failures', () => {
  it.each([
    ['not a url at all', 'CONNECTION_URL_INVALID'],
    ['postgres://', 'CONNECTION_URL_INVALID'],
    ['postgres://u:hunter2-secret@db:99999/x', 'CONNECTION_URL_INVALID'],
    ['redis://u:hunter2-secret@localhost:6379', 'CONNECTION_SCHEME_UNSUPPORTED'],
  ])('%s -> %s (exit 2)', async (url, code) => {
    await expectFailure(['connection', 'test', url], code, 2, 'hunter2-secret')
  })

  it.each(['postgres', 'mysql', 'mongodb'])(
    '%s: unknown host -> CONNECTION_DNS_FAILED',
    async (scheme) => {
      await expectFailure(
        ['connection', 'test', `${scheme}://u:hunter2-secret@no-such-host.invalid/db`],
        'CONNECTION_DNS_FAILED',
        3,
        'hunter2-secret',
      )
    },
  )

  it.each(['postgres', 'mysql', 'mongodb'])(
    '%s: nothing listening -> CONNECTION_REFUSED',
    async (scheme) => {
      const port = await closedPort()
      await expectFailure(
        ['connection', 'test', `${scheme}://u:hunter2-secret@127.0.0.1:${port}/db`],
        'CONNECTION_REFUSED',
        3,
        'hunter2-secret',
      )
    },
  )

  it.each(['postgres', 'mysql', 'mongodb'])(
    '%s: server never answers -> CONNECTION_TIMEOUT within --timeout',
    async (scheme) => {
      const hole = await blackhole()
      try {
        const started = Date.now()
        const line = await expectFailure(
          [
            'connection',
            'test',
            `${scheme}://u:hunter2-secret@127.0.0.1:${hole.port}/db`,
            '--timeout',
            '700ms',
          ],
          'CONNECTION_TIMEOUT',
          3,
          'hunter2-secret',
        )
        expect(line).toContain('within 700ms')
        expect(Date.now() - started).toBeLessThan(15_000)
      } finally {
        await hole.close()
      }
    },
  )

  it('rejects a malformed --timeout', async () => {
    await expectFailure(
      ['connection', 'test', 'postgres://h/db', '--timeout', 'soon'],
      'INVALID_ARGUMENT',
      2,
    )
  })
})
