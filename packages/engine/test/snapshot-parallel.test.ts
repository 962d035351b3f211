// Snapshots read on several connections (`jobs`) against real PostgreSQL and MariaDB servers: the
// same manifest as on one connection, one consistent moment while writers move value between
// tables, MariaDB's fallback without RELOAD, and nothing left open after an abort.

import { randomBytes } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../../../test/postgres.js'
import { testServices, withCredentials, withDatabase } from '../../../test/services.js'
import type { TableEntry } from '../src/repository/manifest.js'
import { tableName } from '../src/schema/table-name.js'
import { Repository } from '../src/repository/repository.js'
import { readSnapshotRows } from '../src/repository/snapshot-rows.js'
import { createSnapshot, type SnapshotOptions } from '../src/snapshot/snapshot.js'
import { MemoryStorage } from '../src/storage/index.js'

const services = testServices()

/** Filler tables besides the two accounts tables: enough for every reader to have work. */
const FILLERS = 16
const FILLER_ROWS = 2000
/**
 * Rows of the accounts tables: `a_accounts`, the largest table, is read first, on the view's own
 * connection; `z_accounts`, of the smallest, among the last, on another one.
 */
const A_ROWS = 20_000
const Z_ROWS = 3000
/** Connections transferring at once, as fast as they can: commits land between any two reads. */
const WRITERS = 3
/** Every account starts with this much; a transfer keeps the sum of both tables. */
const START_BALANCE = 100

/** One test database, seen the same way on either engine. */
interface Engine {
  url: string
  /** A connection of its own that transfers between the two accounts tables. */
  openWriter(): Promise<Writer>
  /** A connection of its own in the test database, for one statement. */
  openSession(): Promise<{ exec(sql: string): Promise<void>; close(): Promise<void> }>
  /** Sessions of the snapshot on the server now (not the test's own). */
  snapshotSessions(): Promise<number>
  drop(): Promise<void>
}

interface Writer {
  /** Moves `amount` from `a_accounts` row `from` to `z_accounts` row `to`, in one transaction. */
  transfer(from: number, to: number, amount: number): Promise<void>
  close(): Promise<void>
}

/** Statements creating the tables, in a dialect both engines take. */
function schemaStatements(): string[] {
  const statements = [
    'CREATE TABLE a_accounts (id INT PRIMARY KEY, balance INT NOT NULL)',
    'CREATE TABLE z_accounts (id INT PRIMARY KEY, balance INT NOT NULL)',
    'CREATE TABLE keyless (v VARCHAR(20), n INT)',
    "INSERT INTO keyless VALUES ('x', 1), ('x', 1), (NULL, 2), ('y', NULL)",
  ]
  const series = (n: number): string =>
    Array.from({ length: n }, (_, i) => `(${i + 1}, ${START_BALANCE})`).join(', ')
  statements.push(`INSERT INTO a_accounts VALUES ${series(A_ROWS)}`)
  statements.push(`INSERT INTO z_accounts VALUES ${series(Z_ROWS)}`)
  for (let f = 0; f < FILLERS; f++) {
    const name = `filler_${String(f).padStart(2, '0')}`
    statements.push(`CREATE TABLE ${name} (id INT PRIMARY KEY, body VARCHAR(200) NOT NULL)`)
    // Tables of different sizes, so that reading them on several connections reorders them.
    const rows = FILLER_ROWS + f * 97
    const values = Array.from(
      { length: rows },
      (_, i) => `(${i + 1}, '${name}-${i}-${'p'.repeat((i * 7 + f) % 90)}')`,
    )
    statements.push(`INSERT INTO ${name} VALUES ${values.join(', ')}`)
  }
  return statements
}

async function postgresEngine(): Promise<Engine> {
  const db: TestDatabase = await createTestDatabase('dbsnap_it_parallel')
  const client = db.client
  for (const statement of schemaStatements()) await client.query(statement)
  await client.query('ANALYZE')
  return {
    url: db.url,
    async openWriter() {
      const writer = new pg.Client({ connectionString: db.url })
      await writer.connect()
      return {
        async transfer(from, to, amount) {
          await writer.query('BEGIN')
          await writer.query('UPDATE a_accounts SET balance = balance - $1 WHERE id = $2', [
            amount,
            from,
          ])
          await writer.query('UPDATE z_accounts SET balance = balance + $1 WHERE id = $2', [
            amount,
            to,
          ])
          await writer.query('COMMIT')
        },
        close: () => writer.end(),
      }
    },
    async openSession() {
      const session = new pg.Client({ connectionString: db.url })
      await session.connect()
      return { exec: async (sql) => void (await session.query(sql)), close: () => session.end() }
    },
    async snapshotSessions() {
      const { rows } = await client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = 'dbsnap'`,
      )
      return rows[0]!.n
    },
    drop: () => db.drop(),
  }
}

async function mariadbEngine(): Promise<Engine> {
  const name = `dbsnap_parallel_${process.pid}_${randomBytes(3).toString('hex')}`
  // The test's connections have no default database: the server's process list then tells
  // them from the snapshot's, which all name it.
  const admin = await mysql.createConnection({ uri: services.mysqlUrl })
  await admin.query(`CREATE DATABASE \`${name}\``)
  await admin.query(`USE \`${name}\``)
  for (const statement of schemaStatements()) await admin.query(statement)
  await admin.query('ANALYZE TABLE a_accounts, z_accounts, keyless')
  await admin.query('USE information_schema')
  return {
    url: withDatabase(services.mysqlUrl, name),
    async openWriter() {
      const writer = await mysql.createConnection({ uri: services.mysqlUrl })
      return {
        async transfer(from, to, amount) {
          await writer.query('START TRANSACTION')
          await writer.query(
            `UPDATE \`${name}\`.a_accounts SET balance = balance - ? WHERE id = ?`,
            [amount, from],
          )
          await writer.query(
            `UPDATE \`${name}\`.z_accounts SET balance = balance + ? WHERE id = ?`,
            [amount, to],
          )
          await writer.query('COMMIT')
        },
        close: () => writer.end(),
      }
    },
    async openSession() {
      const session = await mysql.createConnection({ uri: services.mysqlUrl, database: name })
      return { exec: async (sql) => void (await session.query(sql)), close: () => session.end() }
    },
    async snapshotSessions() {
      const [rows] = await admin.query<mysql.RowDataPacket[]>(
        'SELECT count(*) AS n FROM information_schema.processlist WHERE db = ?',
        [name],
      )
      return Number(rows[0]!.n)
    },
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS \`${name}\``)
      await admin.end()
    },
  }
}

async function snapshot(
  url: string,
  options: Partial<SnapshotOptions> = {},
): Promise<{
  repository: Repository
  result: Awaited<ReturnType<typeof createSnapshot>>
  tables: TableEntry[]
}> {
  const repository = await Repository.open(new MemoryStorage(), { create: true })
  const result = await createSnapshot({ source: url, repository, name: 'parallel', ...options })
  const manifest = await repository.readManifest(result.id)
  return { repository, result, tables: manifest.tables }
}

/** The highest `sample()` seen every 20 ms until `until` settles, and what `until` gave. */
async function peakWhile<T>(
  sample: () => Promise<number>,
  until: Promise<T>,
): Promise<{ peak: number; value: T }> {
  let done = false
  let peak = 0
  const watching = (async () => {
    while (!done) {
      peak = Math.max(peak, await sample())
      await delay(20)
    }
  })()
  try {
    const value = await until
    return { peak, value }
  } finally {
    done = true
    await watching
  }
}

async function balanceOf(repository: Repository, tables: TableEntry[], name: string) {
  const table = tables.find((t) => tableName(t) === name || t.name === name)!
  let sum = 0
  for await (const batch of readSnapshotRows(repository, table)) {
    for (const row of batch) sum += Number(row[1])
  }
  return sum
}

describe.each([
  ['PostgreSQL', postgresEngine],
  ['MariaDB', mariadbEngine],
] as const)('parallel snapshot (%s)', (_engine, open) => {
  let db: Engine

  beforeAll(async () => {
    db = await open()
  }, 120_000)

  afterAll(async () => {
    await db?.drop()
  })

  it('stores the same manifest on 4 connections as on 1, and uses 4', async () => {
    const one = await snapshot(db.url, { jobs: 1 })
    const { peak, value: four } = await peakWhile(
      () => db.snapshotSessions(),
      // Slowed down, so that every reader is seen at work.
      snapshot(db.url, { jobs: 4, maxRowsPerSecond: 40_000 }),
    )
    expect(peak).toBeGreaterThanOrEqual(4)
    expect(four.result.warnings).toEqual([])
    expect(four.tables).toEqual(one.tables)
    expect(four.result.tables).toEqual(one.result.tables)
    expect(four.result.totals).toEqual(one.result.totals)
    expect(four.tables.map((t) => t.name)).toEqual([
      'a_accounts',
      ...Array.from({ length: FILLERS }, (_, f) => `filler_${String(f).padStart(2, '0')}`),
      'keyless',
      'z_accounts',
    ])
  })

  it('reads one moment on every connection while writers move value between tables', async () => {
    let stop = false
    let duringSnapshot = 0
    let snapshotting = false
    const writers = await Promise.all(Array.from({ length: WRITERS }, () => db.openWriter()))
    // Each writer on rows of its own (id ≡ w mod WRITERS): no two wait for one another.
    const writing = writers.map(async (writer, w) => {
      for (let i = 0; !stop; i++) {
        const from = 1 + ((i * 31 * WRITERS + w) % A_ROWS)
        const to = 1 + ((i * WRITERS + w) % Z_ROWS)
        await writer.transfer(from, to, 1 + (i % 7))
        if (snapshotting) duringSnapshot++
      }
    })
    try {
      await delay(100)
      snapshotting = true
      // About 2 s of reading, the accounts tables far apart and on different connections.
      const { repository, tables } = await snapshot(db.url, {
        jobs: 4,
        maxRowsPerSecond: 40_000,
      })
      snapshotting = false
      expect(duringSnapshot).toBeGreaterThan(100)
      const total =
        (await balanceOf(repository, tables, 'a_accounts')) +
        (await balanceOf(repository, tables, 'z_accounts'))
      expect(total).toBe((A_ROWS + Z_ROWS) * START_BALANCE)
    } finally {
      stop = true
      await Promise.all(writing)
      await Promise.all(writers.map((writer) => writer.close()))
    }
  })

  it('leaves a table an ALTER waits for to the view, which holds its lock, and reads it as it was', async () => {
    // The ALTER waits for the view's lock; a reader's own lock request would queue behind the
    // ALTER, waiting for the view through this process, where the server sees no deadlock.
    const session = await db.openSession()
    let altering: Promise<void> | undefined
    try {
      const { result, tables } = await snapshot(db.url, {
        jobs: 4,
        onProgress: (event) => {
          if (event.type === 'start') altering = session.exec('ALTER TABLE keyless ADD extra INT')
        },
      })
      expect(result.warnings).toEqual([])
      const keyless = tables.find((t) => t.name === 'keyless')!
      expect([keyless.columns, keyless.rows]).toEqual([['v', 'n'], 4])
    } finally {
      await altering
      await session.close()
    }
  })

  it('closes every connection and transaction when aborted while reading', async () => {
    const controller = new AbortController()
    const pending = snapshot(db.url, {
      jobs: 4,
      maxRowsPerSecond: 5_000,
      signal: controller.signal,
      onProgress: (event) => {
        if (event.type === 'table' && event.rows > 0) controller.abort()
      },
    })
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' })
    // Closed before createSnapshot settles; the server may take a moment to end a backend.
    for (let i = 0; i < 50 && (await db.snapshotSessions()) > 0; i++) await delay(20)
    expect(await db.snapshotSessions()).toBe(0)
  })
})

describe('parallel snapshot of MariaDB without the RELOAD privilege', () => {
  let db: Engine
  let admin: mysql.Connection
  const user = `dbsnap_noreload_${process.pid}`
  const password = randomBytes(9).toString('hex')

  beforeAll(async () => {
    db = await mariadbEngine()
    admin = await mysql.createConnection({ uri: services.mysqlUrl })
    const database = new URL(db.url).pathname.slice(1)
    await admin.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`)
    await admin.query(
      `GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES ON \`${database}\`.* TO '${user}'@'%'`,
    )
  }, 120_000)

  afterAll(async () => {
    await admin?.query(`DROP USER IF EXISTS '${user}'@'%'`)
    await admin?.end()
    await db?.drop()
  })

  it('reads on one connection and says which privilege is missing when jobs were asked for', async () => {
    const url = withCredentials(db.url, user, password)
    const one = await snapshot(url, { jobs: 1 })
    const asked = await snapshot(url, { jobs: 4 })
    expect(asked.result.warnings).toEqual([
      expect.stringMatching(/^tables are read on one connection: .*needs the RELOAD privilege/),
    ])
    expect(asked.tables).toEqual(one.tables)
    // The default number of jobs is a best effort: no warning when it cannot be had.
    const defaulted = await snapshot(url)
    expect(defaulted.result.warnings).toEqual([])
    expect(defaulted.tables).toEqual(one.tables)
  })
})

describe('parallel snapshot of PostgreSQL for a role that may open one connection', () => {
  let db: TestDatabase
  const role = `dbsnap_onelogin_${process.pid}`
  const password = randomBytes(9).toString('hex')

  beforeAll(async () => {
    db = await createTestDatabase('dbsnap_it_parallel_limit')
    await db.client.query(`
      CREATE TABLE t1 (id int PRIMARY KEY); INSERT INTO t1 SELECT generate_series(1, 100);
      CREATE TABLE t2 (id int PRIMARY KEY); INSERT INTO t2 SELECT generate_series(1, 50);
      CREATE ROLE ${role} LOGIN PASSWORD '${password}' CONNECTION LIMIT 1;
      GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role};`)
  })

  afterAll(async () => {
    await db?.drop()
    const admin = new pg.Client({ connectionString: services.pgUrl })
    await admin.connect()
    await admin.query(`DROP ROLE IF EXISTS ${role}`)
    await admin.end()
  })

  it('reads on the one connection it has, and says why', async () => {
    const url = withCredentials(db.url, role, password)
    const { result } = await snapshot(url, { jobs: 3 })
    expect(result.warnings).toEqual([
      expect.stringMatching(
        /^tables are read on one connection: opening 2 more failed \(.*too many connections for role/,
      ),
    ])
    expect(result.tables.map((t) => [t.name, t.rows])).toEqual([
      ['t1', 100],
      ['t2', 50],
    ])
  })
})
