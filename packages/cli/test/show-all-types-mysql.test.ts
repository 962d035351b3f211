// `dbsnap show` on the MySQL all-types fixture: every MySQL/MariaDB type, NULLs, edge values,
// a composite key, a table without a key, latin1 text and quoted identifiers come back from the
// repository exactly as the server sends them for `SELECT … ORDER BY <pk>`, value for value.
// Then the rest of the life cycle on MySQL: an unchanged re-snapshot, verify, forget, prune.

import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  MYSQL_SESSION_SETTINGS,
  canonicalToMysqlText,
  mysqlValueKind,
  type MysqlValueKind,
} from '../../engine/src/adapters/mysql/mysql-values.js'
import { json, runCli } from '../../../test/cli.js'
import { testServices, withDatabase } from '../../../test/services.js'

const fixture = readFileSync(
  new URL('../../engine/test/fixtures/mysql/all-types.sql', import.meta.url),
  'utf8',
)
const dbName = `dbsnap_it_show_my_${process.pid}_${randomBytes(3).toString('hex')}`

interface Shown {
  table: string
  columns: string[]
  key: string[] | null
  rows: (string | number | boolean | null)[][]
}

/** What the text protocol carries for one field: text, or the bytes of a binary value. */
type Raw = string | Buffer | null

describe('dbsnap show: every MySQL/MariaDB type', () => {
  const { mysqlUrl } = testServices()
  const url = withDatabase(mysqlUrl, dbName)
  let admin: mysql.Connection
  let db: mysql.Connection
  let repo: string
  let snapshotId: string

  beforeAll(async () => {
    admin = await mysql.createConnection({ uri: mysqlUrl })
    await admin.query(`CREATE DATABASE \`${dbName}\``)
    db = await mysql.createConnection({ uri: url, multipleStatements: true })
    await db.query(fixture)
    const settings = Object.entries(MYSQL_SESSION_SETTINGS).map(([k, v]) => `${k} = ${v}`)
    await db.query(`SET SESSION ${settings.join(', ')}`)
    repo = await mkdtemp(join(tmpdir(), 'dbsnap-it-show-mysql-'))
    const run = await runCli(['snapshot', url, '--repo', repo, '--json'])
    expect(run.code, run.stderr).toBe(0)
    snapshotId = json<{ id: string }>(run).id
  })

  afterAll(async () => {
    await db?.end()
    await admin?.query(`DROP DATABASE IF EXISTS \`${dbName}\``)
    await admin?.end()
    if (repo !== undefined) await rm(repo, { recursive: true, force: true })
  })

  const kinds = async (table: string, columns: string[]): Promise<MysqlValueKind[]> => {
    const [rows] = await db.query<mysql.RowDataPacket[]>(
      `SELECT column_name AS name, data_type AS type FROM information_schema.columns
        WHERE table_schema = database() AND table_name = ?`,
      [table],
    )
    const byName = new Map(rows.map((r) => [r.name as string, r.type as string]))
    return columns.map((c) => mysqlValueKind(byName.get(c)!))
  }

  /**
   * Each field as the text protocol delivers it, untouched by the driver: the text for text
   * types, the bytes for binary strings, BIT and geometry (their internal SRID + WKB form).
   */
  const selectRaw = async (
    table: string,
    columns: string[],
    types: MysqlValueKind[],
    orderBy: string,
  ): Promise<Raw[][]> => {
    const binary = new Set(
      columns.filter((_, i) => ['bytes', 'geometry', 'bit'].includes(types[i]!)),
    )
    const [rows] = await db.query({
      sql: `SELECT ${columns.map((c) => db.escapeId(c)).join(', ')} FROM ${db.escapeId(table)} ORDER BY ${orderBy}`,
      rowsAsArray: true,
      typeCast: (field) => (binary.has(field.name) ? field.buffer() : field.string('utf8')),
    })
    return rows as Raw[][]
  }

  /** FLOAT and DOUBLE over the binary protocol, which carries their IEEE bits exactly. */
  const selectFloats = async (
    table: string,
    columns: string[],
    orderBy: string,
  ): Promise<(number | null)[][]> => {
    const list = columns.map((c) => db.escapeId(c)).join(', ')
    const [rows] = await db.execute({
      sql: `SELECT ${list} FROM ${db.escapeId(table)} ORDER BY ${orderBy}`,
      rowsAsArray: true,
    })
    return rows as (number | null)[][]
  }

  it.each([
    ['all_types', '`id`'],
    ['composite_pk', '`region`, `seq`'],
    ['latin1_table', '`id`'],
    ['Tåble `quoted` "1" x', '1'],
  ])('%s', async (table, orderBy) => {
    const shown = json<Shown>(
      await runCli(['show', snapshotId, '--repo', repo, '--table', table, '--json']),
    )
    const types = await kinds(table, shown.columns)
    const raw = await selectRaw(table, shown.columns, types, orderBy)
    const floatColumns = shown.columns.filter((_, i) => types[i] === 'float')
    const floats = floatColumns.length === 0 ? [] : await selectFloats(table, floatColumns, orderBy)
    expect(raw.length).toBeGreaterThan(0)
    expect(shown.rows).toHaveLength(raw.length)
    shown.rows.forEach((row, r) => {
      expect(row).toHaveLength(shown.columns.length)
      row.forEach((value, c) => {
        const column = shown.columns[c]!
        const kind = types[c]!
        const want = raw[r]![c]!
        const label = `${column} row ${r}`
        const text = canonicalToMysqlText(kind, value)
        if (want === null || text === null) {
          expect(text, label).toBe(want)
        } else if (kind === 'float') {
          // MariaDB's text protocol prints FLOAT with 6 digits; the binary one has its exact value.
          const exact = floats[r]![floatColumns.indexOf(column)]
          expect(Object.is(Number(text), exact), `${label}: ${text} vs ${exact}`).toBe(true)
        } else if (kind === 'integer' || kind === 'bigint') {
          // YEAR prints 0 as 0000, ZEROFILL pads: the value is what must match.
          expect(BigInt(text), label).toBe(BigInt(want as string))
        } else if (kind === 'bit') {
          const bytes = (want as Buffer).toString('hex')
          expect(BigInt(text), label).toBe(BigInt(bytes === '' ? '0' : `0x${bytes}`))
        } else if (kind === 'bytes' || kind === 'geometry') {
          expect(text, label).toBe((want as Buffer).toString('hex'))
        } else {
          expect(text, label).toBe(want)
        }
      })
    })
  })

  it('no_pk: the same multiset of rows, in a byte-wise total order', async () => {
    const shown = json<Shown>(
      await runCli(['show', snapshotId, '--repo', repo, '--table', 'no_pk', '--json']),
    )
    const [rows] = await db.query({
      sql: 'SELECT a, b, c, HEX(d) FROM no_pk',
      rowsAsArray: true,
    })
    const expected = (rows as (string | number | null)[][]).map((r) =>
      JSON.stringify([r[0], r[1], r[2], r[3] === null ? null : String(r[3]).toLowerCase()]),
    )
    const lines = shown.rows.map((r) => JSON.stringify(r))
    expect([...lines].sort()).toEqual([...expected].sort())
    // 'B' and 'b' are equal under utf8mb4_general_ci; bytes order them, and NULLs come first.
    expect(lines.indexOf(JSON.stringify([2, 'B', -0.5, '']))).toBeLessThan(
      lines.indexOf(JSON.stringify([2, 'b', -0.5, ''])),
    )
    expect(shown.rows[0]).toEqual([null, null, null, null])
  })

  it('a second snapshot of the unchanged database writes no chunk', async () => {
    const run = await runCli(['snapshot', url, '--repo', repo, '--json'])
    expect(run.code, run.stderr).toBe(0)
    const second = json<{
      id: string
      tables: { chunksNew: number }[]
      totals: { chunks: number; newObjects: number; reusedChunks: number }
    }>(run)
    expect(second.id).not.toBe(snapshotId)
    expect(second.tables.map((t) => t.chunksNew)).toEqual(second.tables.map(() => 0))
    expect(second.totals.newObjects).toBe(0)
    expect(second.totals.reusedChunks).toBe(second.totals.chunks)
  })

  it('verify reads every chunk back; forget and prune keep the newest snapshot intact', async () => {
    const verify = async (): Promise<{ code: number; problems: unknown[] }> => {
      const run = await runCli(['verify', '--repo', repo, '--read-data-subset', '100%', '--json'])
      return { code: run.code, problems: json<{ problems: unknown[] }>(run).problems }
    }
    expect(await verify()).toEqual({ code: 0, problems: [] })
    const forget = await runCli([
      'forget',
      '--repo',
      repo,
      '--keep-last',
      '1',
      '--prune',
      '--grace',
      '0s',
      '--json',
    ])
    expect(forget.code, forget.stderr).toBe(0)
    const kept = json<{ snapshots: { keep: boolean }[] }>(forget).snapshots.filter((s) => s.keep)
    expect(kept).toHaveLength(1)
    expect(await verify()).toEqual({ code: 0, problems: [] })
    const shown = await runCli(['show', `${dbName}@latest`, '--repo', repo, '--table', 'no_pk'])
    expect(shown.code, shown.stderr).toBe(0)
  })
})
