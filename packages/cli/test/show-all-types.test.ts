// `dbsnap show` on the all-types fixture: every built-in PostgreSQL type, NULLs, a composite key,
// a table without a key and quoted identifiers come back from the repository exactly as
// PostgreSQL returns them for `SELECT … ORDER BY <pk>` (in its text forms).

import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  PG_SESSION_SETTINGS,
  canonicalToPgText,
  pgValueEncoding,
} from '../../engine/src/adapters/postgres/postgres-values.js'
import type { ValueEncoding } from '../../engine/src/canonical/value-encoding.js'
import { json, runCli } from '../../../test/cli.js'
import { testServices, withDatabase } from '../../../test/services.js'

const fixture = readFileSync(
  new URL('../../engine/test/fixtures/postgres/all-types.sql', import.meta.url),
  'utf8',
)
const dbName = `dbsnap_it_show_${process.pid}_${randomBytes(3).toString('hex')}`

interface Shown {
  table: string
  columns: string[]
  key: string[] | null
  rows: (string | number | boolean | null)[][]
}

describe('dbsnap show: every PostgreSQL type', () => {
  const { pgUrl } = testServices()
  const url = withDatabase(pgUrl, dbName)
  let admin: pg.Client
  let db: pg.Client
  let repo: string

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: pgUrl })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${dbName}`)
    db = new pg.Client({ connectionString: url })
    await db.connect()
    await db.query(fixture)
    for (const [name, value] of Object.entries(PG_SESSION_SETTINGS)) {
      await db.query(`SELECT set_config($1, $2, false)`, [name, value])
    }
    repo = await mkdtemp(join(tmpdir(), 'dbsnap-it-show-'))
    const run = await runCli(['snapshot', url, '--repo', repo, '--json'])
    expect(run.code, run.stderr).toBe(0)
  })

  afterAll(async () => {
    await db?.end()
    await admin?.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
    await admin?.end()
    if (repo !== undefined) await rm(repo, { recursive: true, force: true })
  })

  /** Each column's text as SELECT returns it (COPY's text form, which is what a snapshot keeps). */
  const selectText = async (
    table: string,
    columns: string[],
    orderBy: string,
  ): Promise<(string | null)[][]> => {
    const list = columns.map((c) => db.escapeIdentifier(c)).join(', ')
    const { rows } = await db.query<Record<string, string | null>>({
      text: `SELECT ${list} FROM ${table} ORDER BY ${orderBy}`,
      rowMode: 'array',
      types: { getTypeParser: () => (value: string) => value },
    } as pg.QueryConfig)
    return rows as unknown as (string | null)[][]
  }

  const encodings = async (schema: string, table: string): Promise<ValueEncoding[]> => {
    const { rows } = await db.query<{ typname: string }>(
      `SELECT coalesce(bt.typname, t.typname) AS typname
         FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
         LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
        WHERE a.attrelid = format('%I.%I', $1::text, $2::text)::regclass AND a.attnum > 0 AND NOT a.attisdropped
        ORDER BY a.attnum`,
      [schema, table],
    )
    return rows.map((r) => pgValueEncoding(r.typname))
  }

  it.each([
    ['all_types', 'public', 'all_types', 'id'],
    ['composite_pk', 'public', 'composite_pk', '1, 2'],
    ['"Ünï ""Schema"""."Tåble ""1"" x"', 'Ünï "Schema"', 'Tåble "1" x', '1'],
  ])('%s', async (_name, schema, table, orderBy) => {
    const shown = json<Shown>(
      await runCli([
        'show',
        `${dbName}@latest`,
        '--repo',
        repo,
        '--table',
        `${schema}.${table}`,
        '--json',
      ]),
    )
    const types = await encodings(schema, table)
    const expected = await selectText(
      `${db.escapeIdentifier(schema)}.${db.escapeIdentifier(table)}`,
      shown.columns,
      orderBy,
    )
    expect(shown.rows).toHaveLength(expected.length)
    expect(expected.length).toBeGreaterThan(0)
    shown.rows.forEach((row, r) => {
      row.forEach((value, c) => {
        const text = canonicalToPgText(types[c]!, value)
        const want = expected[r]![c]!
        if (types[c] === 'float' && want !== null && text !== null) {
          // JS and PostgreSQL print some exponents differently; the IEEE value is what must match.
          expect(Object.is(Number(text), Number(want)), `${shown.columns[c]} row ${r}`).toBe(true)
        } else {
          expect(text, `${shown.columns[c]} row ${r}`).toBe(want)
        }
      })
    })
  })
})
