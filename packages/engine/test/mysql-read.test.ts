// Reading MySQL/MariaDB tables against a real server: every type read exactly and written back
// identical, key order and resuming, the read view's consistency, DDL guard and MyISAM warning,
// faults and errors with their codes, and bounded memory under a slow consumer.

import { createHash, randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { setTimeout as delay } from 'node:timers/promises'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testServices, withCredentials, withDatabase } from '../../../test/services.js'
import { connectMysql } from '../src/adapters/mysql/mysql-source.js'
import {
  beginReadView,
  readTableRows,
  type ReadTableRowsOptions,
  type ReadTableSpec,
} from '../src/adapters/mysql/mysql-read.js'
import {
  canonicalToMysqlLiteral,
  mysqlValueKind,
  type MysqlValueKind,
} from '../src/adapters/mysql/mysql-values.js'
import type { ReadView, SourceAdapter } from '../src/adapters/source-adapter.js'
import type { CanonicalRow } from '../src/canonical/value-encoding.js'
import { parseConnectionUrl, type ConnectionTarget } from '../src/connection/url.js'
import { Repository } from '../src/repository/repository.js'
import type { TableSchema } from '../src/schema/schema.js'
import { createSnapshot } from '../src/snapshot/snapshot.js'
import { MemoryStorage } from '../src/storage/index.js'

const services = testServices()
const dbName = `dbsnap_read_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
const fixture = readFileSync(new URL('fixtures/mysql/all-types.sql', import.meta.url), 'utf8')
const url = withDatabase(services.mysqlUrl, dbName)
const target: ConnectionTarget = parseConnectionUrl(url)

/** Rows of the big table: about 160 MB of text, which must never be in memory at once. */
const BIG_ROWS = 150_000

let admin: mysql.Connection
const connections: mysql.Connection[] = []
const adapters: SourceAdapter[] = []

/** A new connection to the test database, with the adapter's value options. */
async function connect(): Promise<mysql.Connection> {
  const connection = await mysql.createConnection({
    uri: url,
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    jsonStrings: true,
  })
  connection.on('error', () => undefined)
  connections.push(connection)
  return connection
}

/** The adapter as `dbsnap snapshot` opens it; `timeoutMs` bounds lock waits. */
async function openView(timeoutMs = 10_000, at = url): Promise<ReadView> {
  const adapter = await connectMysql(parseConnectionUrl(at), { timeoutMs })
  adapters.push(adapter)
  return adapter.openReadView()
}

async function tableSpec(connection: mysql.Connection, table: string): Promise<ReadTableSpec> {
  const [columns] = await connection.query<mysql.RowDataPacket[]>(
    `SELECT column_name AS name, data_type AS dataType FROM information_schema.columns
      WHERE table_schema = database() AND table_name = ? ORDER BY ordinal_position`,
    [table],
  )
  const [key] = await connection.query<mysql.RowDataPacket[]>(
    `SELECT column_name AS name FROM information_schema.statistics
      WHERE table_schema = database() AND table_name = ? AND index_name = 'PRIMARY'
      ORDER BY seq_in_index`,
    [table],
  )
  return {
    name: table,
    columns: columns.map((c) => ({ name: c.name as string, dataType: c.dataType as string })),
    primaryKey: key.length === 0 ? null : key.map((k) => k.name as string),
  }
}

async function readAll(
  connection: mysql.Connection,
  spec: ReadTableSpec,
  options: Partial<ReadTableRowsOptions> = {},
): Promise<CanonicalRow[]> {
  const rows: CanonicalRow[] = []
  for await (const batch of readTableRows(connection, spec, { target, ...options })) {
    rows.push(...batch)
  }
  return rows
}

function table(schema: { tables: TableSchema[] }, name: string): TableSchema {
  const found = schema.tables.find((t) => t.name === name)
  if (found === undefined) throw new Error(`no table ${name}`)
  return found
}

beforeAll(async () => {
  admin = await mysql.createConnection({ uri: services.mysqlUrl, multipleStatements: true })
  await admin.query(`CREATE DATABASE \`${dbName}\``)
  const setup = await mysql.createConnection({ uri: url, multipleStatements: true })
  await setup.query(fixture)
  await setup.query(`
    CREATE TABLE big (id INT NOT NULL PRIMARY KEY, body TEXT NOT NULL, n BIGINT NOT NULL);
    CREATE TABLE digits (d INT NOT NULL PRIMARY KEY);
    INSERT INTO digits VALUES (0), (1), (2), (3), (4), (5), (6), (7), (8), (9);
    INSERT INTO big
      SELECT i, REPEAT(MD5(i), 32), i * 1000003
        FROM (SELECT a.d + 10 * b.d + 100 * c.d + 1000 * d.d + 10000 * e.d + 100000 * f.d AS i
                FROM digits a, digits b, digits c, digits d, digits e, digits f) n
       WHERE i < ${BIG_ROWS};
    CREATE TABLE victim (id INT PRIMARY KEY, v VARCHAR(10));
    INSERT INTO victim VALUES (1, 'a'), (2, 'b');
    CREATE TABLE legacy (id INT PRIMARY KEY, v VARCHAR(10)) ENGINE = MyISAM;
    INSERT INTO legacy VALUES (1, 'old');
  `)
  await setup.end()
}, 120_000)

afterAll(async () => {
  for (const adapter of adapters) await adapter.close()
  for (const connection of connections) connection.destroy()
  await admin?.query(`DROP DATABASE IF EXISTS \`${dbName}\``)
  await admin?.query(`DROP USER IF EXISTS 'dbsnap_ro_${process.pid}'@'%'`)
  await admin?.end()
})

describe('every type', () => {
  let rows: CanonicalRow[]
  let spec: ReadTableSpec

  beforeAll(async () => {
    const reader = await connect()
    await beginReadView(reader, { target, lockWaitSeconds: 10 })
    spec = await tableSpec(reader, 'all_types')
    rows = await readAll(reader, spec)
    await reader.query('ROLLBACK')
  })

  const value = (id: number, column: string): unknown => {
    const row = rows.find((r) => r[0] === id)
    return row?.[spec.columns.findIndex((c) => c.name === column)]
  }

  it.each([
    [1, 'c_tinyint_u', 200],
    [3, 'c_tinyint', -128],
    [4, 'c_int_u', 4294967295],
    [1, 'c_int_zerofill', 42],
    [1, 'c_bigint', -1234567890123],
    [3, 'c_bigint', '-9223372036854775808'],
    [4, 'c_bigint_u', '18446744073709551615'],
    [1, 'c_decimal', '12345.678900'],
    [1, 'c_decimal_wide', '-1.000000000000000000000000000001'],
    [1, 'c_float', 0.10000000149011612],
    [6, 'c_float', 0.3333333432674408],
    [5, 'c_float', 1.401298464324817e-45],
    [8, 'c_float', 16777216],
    [4, 'c_float', 3.4028234663852886e38],
    [6, 'c_double', 0.30000000000000004],
    [5, 'c_double', 5e-324],
    [8, 'c_double', 9007199254740992],
    [1, 'c_bit12', 2730],
    [1, 'c_bit64', '9223372036854775809'],
    [4, 'c_bit64', '18446744073709551615'],
    [3, 'c_bit1', 0],
    [1, 'c_datetime6', '2024-02-29 13:45:00.123456'],
    [1, 'c_timestamp3', '2024-02-29 13:45:00.500'],
    [3, 'c_date', '0000-00-00'],
    [3, 'c_datetime', '0000-00-00 00:00:00'],
    [3, 'c_timestamp', '0000-00-00 00:00:00'],
    [1, 'c_time6', '-01:02:03.000004'],
    [3, 'c_time', '-838:59:59'],
    [4, 'c_time', '838:59:59'],
    [3, 'c_year', 0],
    [4, 'c_year', 2155],
    [1, 'c_latin1', 'café crème'],
    [4, 'c_latin1', 'ÀÿÐ ñ ¿¡ «»'],
    [4, 'c_char', 'ÿ😀'],
    [4, 'c_varchar', 'quotes " \' ` \\ backslash\nnew line\ttab\r\0nul'],
    [4, 'c_tinytext', '😀 emoji 𝄞'],
    [1, 'c_binary', '00ff10ab'],
    [3, 'c_binary', '00000000'],
    [1, 'c_longblob', ''],
    [4, 'c_blob', '5c27225c'],
    [4, 'c_enum', "é 'quoted'"],
    [1, 'c_set', 'a,c'],
    [3, 'c_set', ''],
    [1, 'c_geometry', '000000000101000000000000000000f03f0000000000000040'],
    [1, 'c_point', 'e61000000101000000cdcccccccccc2a400000000000404a40'],
    [3, 'c_geometrycollection', '00000000010700000000000000'],
    [2, 'c_json', null],
  ])('row %i %s', (id, column, expected) => {
    expect(value(id, column)).toEqual(expected)
  })

  it('reads the 70 000-character text whole', () => {
    const text = value(4, 'c_mediumtext') as string
    expect(text).toHaveLength(70_003)
    expect(text.endsWith('xend')).toBe(true)
  })

  it('writes every value back identical: the canonical form is restorable', async () => {
    const writer = await connect()
    await writer.query("SET SESSION sql_mode = '', time_zone = '+00:00'")
    await writer.query('CREATE TABLE all_types_copy LIKE all_types')
    const kinds: MysqlValueKind[] = spec.columns.map((c) => mysqlValueKind(c.dataType))
    for (const row of rows) {
      const literals = row.map((v, i) =>
        canonicalToMysqlLiteral(kinds[i]!, spec.columns[i]!.dataType, v, (t) => writer.escape(t)),
      )
      await writer.query(`INSERT INTO all_types_copy VALUES (${literals.join(', ')})`)
    }
    const reader = await connect()
    await beginReadView(reader, { target, lockWaitSeconds: 10 })
    const copied = await readAll(reader, { ...spec, name: 'all_types_copy' })
    expect(copied).toEqual(rows)
  })
})

describe('order and resuming', () => {
  it('reads a composite key in key order and resumes after a key', async () => {
    const reader = await connect()
    await beginReadView(reader, { target, lockWaitSeconds: 10 })
    const spec = await tableSpec(reader, 'composite_pk')
    const rows = await readAll(reader, spec)
    expect(rows.map((r) => [r[0], r[1]])).toEqual([
      ['ap', 0],
      ['eu', 1],
      ['eu', 2],
      ['eu', '18446744073709551615'],
      ['us', 1],
      ['us', '9007199254740993'],
    ])
    const rest = await readAll(reader, spec, { afterKey: ['eu', 2] })
    expect(rest).toEqual(rows.slice(3))
    const tail = await readAll(reader, spec, { afterKey: ['eu', '18446744073709551615'] })
    expect(tail).toEqual(rows.slice(4))
  })

  it('reads a table without a key in the same byte-wise order every time', async () => {
    const reader = await connect()
    await beginReadView(reader, { target, lockWaitSeconds: 10 })
    const spec = await tableSpec(reader, 'no_pk')
    const first = await readAll(reader, spec)
    expect(first).toHaveLength(7)
    expect(await readAll(reader, spec, { batchRows: 1 })).toEqual(first)
    await expect(readAll(reader, spec, { afterKey: [1] })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    })
  })

  it('reads a key-less table of long TEXT/BLOB/JSON values at the default sort_buffer_size, in one order whatever the insertion order', async () => {
    // The server's own default (2 MiB on MariaDB, 256 KiB on MySQL), whatever the test server
    // was started with; put back afterwards.
    const [[before]] = await admin.query<mysql.RowDataPacket[]>(
      'SELECT @@GLOBAL.sort_buffer_size AS size',
    )
    await admin.query('SET GLOBAL sort_buffer_size = DEFAULT')
    try {
      const mib = 1024 * 1024
      // TEXT and BLOB values near their 64 KiB limit, JSON and LONGTEXT ones of 1 MiB, some
      // sharing their first bytes and differing only after 1 KiB, NULLs and duplicates: rows no
      // prefix alone orders.
      const values = [
        `REPEAT('a', 60000), REPEAT(x'00', 60000), JSON_ARRAY(REPEAT('j', ${mib})), CONCAT(REPEAT('l', ${mib}), 'b')`,
        `REPEAT('a', 60000), REPEAT(x'00', 60000), JSON_ARRAY(REPEAT('j', ${mib})), CONCAT(REPEAT('l', ${mib}), 'a')`,
        `CONCAT(REPEAT('a', 1500), 'z'), x'01', '{"k": 1}', NULL`,
        `CONCAT(REPEAT('a', 1500), 'y'), x'01', '{"k": 1}', NULL`,
        `NULL, NULL, NULL, ''`,
        `'short', x'', '[]', 'short'`,
        `'short', x'', '[]', 'short'`,
      ]
      const setup = await connect()
      for (const name of ['long_forward', 'long_backward']) {
        await setup.query(
          `CREATE TABLE ${name} (t TEXT, b BLOB, j JSON, l LONGTEXT) ENGINE = InnoDB`,
        )
      }
      for (const row of values) await setup.query(`INSERT INTO long_forward VALUES (${row})`)
      for (const row of values.toReversed()) {
        await setup.query(`INSERT INTO long_backward VALUES (${row})`)
      }
      const reader = await connect()
      await beginReadView(reader, { target, lockWaitSeconds: 10 })
      const forward = await readAll(reader, await tableSpec(reader, 'long_forward'))
      const backward = await readAll(reader, await tableSpec(reader, 'long_backward'))
      // Digests, so that a failure prints rows, not megabytes.
      const digests = (rows: CanonicalRow[]): string[] =>
        rows.map((row) => createHash('sha256').update(JSON.stringify(row)).digest('hex'))
      expect(forward).toHaveLength(values.length)
      expect(forward.map((row) => (row[3] as string | null)?.length ?? null)).toContain(mib + 1)
      expect(digests(forward)).toEqual(digests(backward))
      const again = await readAll(reader, await tableSpec(reader, 'long_forward'), { batchRows: 1 })
      expect(digests(again)).toEqual(digests(forward))
    } finally {
      await admin.query(`SET GLOBAL sort_buffer_size = ${Number(before!.size)}`)
    }
  })

  it('refuses an afterKey of the wrong length', async () => {
    const reader = await connect()
    const spec = await tableSpec(reader, 'composite_pk')
    await expect(readAll(reader, spec, { afterKey: ['eu'] })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    })
  })
})

describe('read view', () => {
  it('sees the database as of when it opened, whatever commits later', async () => {
    const view = await openView()
    const schema = await view.introspect()
    await view.lockTables([table(schema, 'composite_pk')])
    await admin.query(`INSERT INTO \`${dbName}\`.composite_pk VALUES ('zz', 1, 'later')`)
    try {
      const rows: CanonicalRow[] = []
      for await (const batch of view.readTable(table(schema, 'composite_pk'))) rows.push(...batch)
      expect(rows.map((r) => r[0])).not.toContain('zz')
      expect(rows).toHaveLength(6)
    } finally {
      await admin.query(`DELETE FROM \`${dbName}\`.composite_pk WHERE region = 'zz'`)
      await view.close()
    }
  })

  it('keeps DDL out of locked tables until it closes', async () => {
    const view = await openView()
    const schema = await view.introspect()
    await view.lockTables([table(schema, 'victim')])
    const ddl = await mysql.createConnection({ uri: url })
    try {
      await ddl.query('SET SESSION lock_wait_timeout = 1')
      await expect(ddl.query('DROP TABLE victim')).rejects.toMatchObject({
        code: 'ER_LOCK_WAIT_TIMEOUT',
      })
      const rows: CanonicalRow[] = []
      for await (const batch of view.readTable(table(schema, 'victim'))) rows.push(...batch)
      expect(rows).toEqual([
        [1, 'a'],
        [2, 'b'],
      ])
    } finally {
      await view.close()
      await ddl.end()
    }
  })

  it('fails with SOURCE_CHANGED for a table altered or dropped after the view opened', async () => {
    await admin.query(
      `CREATE TABLE \`${dbName}\`.altered (id INT PRIMARY KEY); CREATE TABLE \`${dbName}\`.dropped (id INT PRIMARY KEY)`,
    )
    const view = await openView()
    const schema = await view.introspect()
    await admin.query(
      `ALTER TABLE \`${dbName}\`.altered ADD COLUMN x INT, ALGORITHM = COPY; DROP TABLE \`${dbName}\`.dropped`,
    )
    try {
      await expect(view.lockTables([table(schema, 'altered')])).rejects.toMatchObject({
        code: 'SOURCE_CHANGED',
        retryable: true,
      })
      await expect(view.lockTables([table(schema, 'dropped')])).rejects.toMatchObject({
        code: 'SOURCE_CHANGED',
      })
    } finally {
      await view.close()
    }
  })

  it('gives up on a table another session keeps locked, with SOURCE_CHANGED', async () => {
    const locker = await mysql.createConnection({ uri: url })
    await locker.query('LOCK TABLES victim WRITE')
    const view = await openView(1000)
    try {
      const schema = await view.introspect()
      const started = Date.now()
      await expect(view.lockTables([table(schema, 'victim')])).rejects.toMatchObject({
        code: 'SOURCE_CHANGED',
        message: expect.stringMatching(/locked by another session/) as unknown,
      })
      expect(Date.now() - started).toBeLessThan(5000)
    } finally {
      await view.close()
      await locker.end()
    }
  })

  it('snapshots a MyISAM table with a warning in the result', async () => {
    const repository = await Repository.open(new MemoryStorage(), { create: true })
    const result = await createSnapshot({ source: url, repository, tables: ['legacy', 'victim'] })
    expect(result.tables.map((t) => [t.table, t.rows])).toEqual([
      ['legacy', 1],
      ['victim', 2],
    ])
    expect(result.warnings).toEqual([
      'table `legacy` uses the MyISAM engine, which has no transactions: its rows are read as they are when it is read, not as of the snapshot',
    ])
  })

  it('names the tables of a non-transactional engine', async () => {
    const view = await openView()
    try {
      const schema = await view.introspect()
      const tables = [table(schema, 'legacy'), table(schema, 'victim')]
      expect(view.consistencyWarnings?.(tables)).toEqual([
        'table `legacy` uses the MyISAM engine, which has no transactions: its rows are read as they are when it is read, not as of the snapshot',
      ])
    } finally {
      await view.close()
    }
  })
})

describe('faults', () => {
  it('stops early by killing the statement: the read view and its snapshot stay usable', async () => {
    const reader = await connect()
    await beginReadView(reader, { target, lockWaitSeconds: 10 })
    const spec = await tableSpec(reader, 'big')
    await admin.query(`INSERT INTO \`${dbName}\`.victim VALUES (3, 'c')`)
    const killed: number[] = []
    const cancel = async (threadId: number): Promise<void> => {
      killed.push(threadId)
      await admin.query(`KILL QUERY ${threadId}`)
    }
    try {
      let batches = 0
      for await (const batch of readTableRows(reader, spec, { target, batchRows: 100, cancel })) {
        expect(batch).toHaveLength(100)
        if (++batches === 3) break
      }
      expect(killed).toEqual([reader.threadId])
      // The same transaction: the row committed after the view opened is still not seen.
      expect(await readAll(reader, await tableSpec(reader, 'victim'))).toEqual([
        [1, 'a'],
        [2, 'b'],
      ])
      expect(await readAll(reader, spec, { cancel })).toHaveLength(BIG_ROWS)
    } finally {
      await admin.query(`DELETE FROM \`${dbName}\`.victim WHERE id = 3`)
    }
  })

  it('stops early through the adapter and reads on', async () => {
    const view = await openView()
    try {
      const schema = await view.introspect()
      const big = table(schema, 'big')
      for await (const batch of view.readTable(big)) {
        expect(batch.length).toBeGreaterThan(0)
        break
      }
      let rows = 0
      for await (const batch of view.readTable(big)) rows += batch.length
      expect(rows).toBe(BIG_ROWS)
    } finally {
      await view.close()
    }
  })

  it('without a way to cancel, stops early by ending the connection', async () => {
    const reader = await connect()
    await beginReadView(reader, { target, lockWaitSeconds: 10 })
    const spec = await tableSpec(reader, 'big')
    let batches = 0
    for await (const batch of readTableRows(reader, spec, { target, batchRows: 100 })) {
      expect(batch).toHaveLength(100)
      if (++batches === 3) break
    }
    await expect(readAll(reader, spec)).rejects.toMatchObject({ code: 'CONNECTION_LOST' })
  })

  it('aborts through the signal', async () => {
    const reader = await connect()
    await beginReadView(reader, { target, lockWaitSeconds: 10 })
    const spec = await tableSpec(reader, 'big')
    const controller = new AbortController()
    let batches = 0
    await expect(
      (async () => {
        for await (const batch of readTableRows(reader, spec, {
          target,
          batchRows: 100,
          signal: controller.signal,
        })) {
          expect(batch.length).toBeGreaterThan(0)
          if (++batches === 2) controller.abort()
        }
      })(),
    ).rejects.toMatchObject({ code: 'ABORTED' })
  })

  it('reports a connection killed mid-read as CONNECTION_LOST', async () => {
    const reader = await connect()
    await beginReadView(reader, { target, lockWaitSeconds: 10 })
    const spec = await tableSpec(reader, 'big')
    const threadId = reader.threadId
    let batches = 0
    await expect(
      (async () => {
        for await (const batch of readTableRows(reader, spec, { target, batchRows: 500 })) {
          expect(batch.length).toBeGreaterThan(0)
          if (++batches === 2) await admin.query(`KILL ${threadId}`)
        }
      })(),
    ).rejects.toMatchObject({ code: 'CONNECTION_LOST', retryable: true })
  })
})

describe('errors', () => {
  const user = `dbsnap_ro_${process.pid}`
  const password = randomBytes(12).toString('hex')
  const asUser = withCredentials(url, user, password)

  beforeAll(async () => {
    await admin.query(`CREATE USER '${user}'@'%' IDENTIFIED BY '${password}'`)
    await admin.query(`GRANT SELECT ON \`${dbName}\`.* TO '${user}'@'%'`)
  })

  it('names the wrong credentials without the password', async () => {
    const wrong = withCredentials(url, user, 'not-the-password')
    const error = await connectMysql(parseConnectionUrl(wrong), {}).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'CONNECTION_AUTH_FAILED' })
    expect(JSON.stringify(error)).not.toContain('not-the-password')
    expect(String((error as Error).message)).not.toContain('not-the-password')
  })

  it('names a missing database', async () => {
    const missing = withDatabase(services.mysqlUrl, `${dbName}_missing`)
    await expect(connectMysql(parseConnectionUrl(missing), {})).rejects.toMatchObject({
      code: 'CONNECTION_DATABASE_NOT_FOUND',
    })
  })

  it('names each missing privilege: TRIGGER and EVENT, then SHOW VIEW', async () => {
    await admin.query(`CREATE VIEW \`${dbName}\`.some_view AS SELECT 1 AS one`)
    const view = await openView(10_000, asUser)
    await expect(view.introspect()).rejects.toMatchObject({
      code: 'CONNECTION_PRIVILEGE_MISSING',
      message: expect.stringMatching(/GRANT TRIGGER, EVENT, SHOW VIEW ON `dbsnap_read_/) as unknown,
    })
    await view.close()
    await admin.query(`GRANT TRIGGER, EVENT ON \`${dbName}\`.* TO '${user}'@'%'`)
    const again = await openView(10_000, asUser)
    const error = await again.introspect().catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'CONNECTION_PRIVILEGE_MISSING',
      details: { grant: `SHOW VIEW ON \`${dbName}\`.*` },
    })
    expect(String((error as Error).message)).not.toContain(password)
    await again.close()
    await admin.query(`GRANT SHOW VIEW ON \`${dbName}\`.* TO '${user}'@'%'`)
    const granted = await openView(10_000, asUser)
    const schema = await granted.introspect()
    expect(schema.views.map((v) => v.name)).toContain('some_view')
    await granted.close()
    await admin.query(`DROP VIEW \`${dbName}\`.some_view`)
  })

  it('names a table the account may not SELECT from', async () => {
    await admin.query(`REVOKE SELECT ON \`${dbName}\`.* FROM '${user}'@'%'`)
    await admin.query(`GRANT INSERT ON \`${dbName}\`.victim TO '${user}'@'%'`)
    const view = await openView(10_000, asUser)
    try {
      const schema = await view.introspect()
      await expect(view.lockTables([table(schema, 'victim')])).rejects.toMatchObject({
        code: 'CONNECTION_PRIVILEGE_MISSING',
        message: expect.stringMatching(/lacks the SELECT privilege/) as unknown,
      })
    } finally {
      await view.close()
    }
  })
})

describe('backpressure', () => {
  it('reads a table far bigger than memory allows with a slow consumer, in bounded batches', async () => {
    const reader = await connect()
    await beginReadView(reader, { target, lockWaitSeconds: 10 })
    const spec = await tableSpec(reader, 'big')
    const socket = (reader as unknown as { connection: { stream: { bytesRead: number } } })
      .connection.stream
    const baseline = process.memoryUsage().heapUsed
    let peakHeap = 0
    let maxBatch = 0
    let maxBatchText = 0
    let rows = 0
    let consumed = 0
    let maxAhead = 0
    let batches = 0
    let bytesDuringPause: number | undefined
    const options = { target, batchRows: 500, batchBytes: 256 * 1024 }
    for await (const batch of readTableRows(reader, spec, options)) {
      batches++
      maxBatch = Math.max(maxBatch, batch.length)
      rows += batch.length
      let batchText = 0
      for (const row of batch) {
        const text = String(row[1]).length
        // Bytes of the text-protocol row: values, a length byte per short value and 3 for the
        // 1 KB text, and the packet header.
        consumed += String(row[0]).length + text + String(row[2]).length + 5 + 4
        batchText += text
      }
      maxBatchText = Math.max(maxBatchText, batchText)
      maxAhead = Math.max(maxAhead, socket.bytesRead - consumed)
      if (batches % 25 === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)
      if (batches === 100) {
        // A long pause: the socket must stop reading while the consumer holds the batch.
        await delay(300)
        const before = socket.bytesRead
        await delay(300)
        bytesDuringPause = socket.bytesRead - before
      } else {
        await delay(1)
      }
    }
    expect(rows).toBe(BIG_ROWS)
    expect(maxBatch).toBeLessThanOrEqual(500)
    // Closed once its text passes 256 KiB: at most one 1 KB row beyond.
    expect(maxBatchText).toBeLessThanOrEqual(256 * 1024 + 1024)
    expect(bytesDuringPause).toBe(0)
    // Read-ahead stays at a batch and the socket's buffers, not the ~160 MB the table is.
    expect(maxAhead).toBeLessThan(8 * 1024 * 1024)
    const growth = peakHeap - baseline
    console.log(
      `backpressure: ${rows} rows, ${(consumed / 1e6).toFixed(0)} MB read, max read-ahead ${(maxAhead / 1e6).toFixed(1)} MB, heap growth ${(growth / 1e6).toFixed(0)} MB`,
    )
    expect(growth).toBeLessThan(100 * 1024 * 1024)
  }, 120_000)
})
