// Reading PostgreSQL tables through COPY against a real server: every built-in type read exactly
// and written back byte-identical, key order and resuming, faults, and bounded memory.

import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { setTimeout as delay } from 'node:timers/promises'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { testServices, withDatabase } from '../../../test/services.js'
import { rowLine, type CanonicalRow } from '../src/canonical/value-encoding.js'
import { copyTextLine } from '../src/adapters/postgres/postgres-copy.js'
import {
  beginReadView,
  readTableRows,
  type ReadTableRowsOptions,
  type ReadTableSpec,
} from '../src/adapters/postgres/postgres-read.js'
import {
  PG_SESSION_SETTINGS,
  canonicalToPgText,
  pgValueEncoding,
} from '../src/adapters/postgres/postgres-values.js'

const services = testServices()
const dbName = `dbsnap_read_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`
const fixture = readFileSync(new URL('fixtures/postgres/all-types.sql', import.meta.url), 'utf8')

/** Rows of the table that must not fit in memory when buffered (COPY text ≈ 300 MB). */
const BIG_ROWS = 300_000

/** The columns of all_types after id, in table order: one test each. */
const ALL_TYPES_COLUMNS = [
  'c_smallint', 'c_int', 'c_bigint', 'c_numeric', 'c_numeric_scaled', 'c_real', 'c_double',
  'c_bool', 'c_text', 'c_char', 'c_varchar', 'c_qchar', 'c_name', 'c_bytea', 'c_date', 'c_time',
  'c_time_p', 'c_timetz', 'c_timestamp', 'c_timestamptz', 'c_interval', 'c_uuid', 'c_json',
  'c_jsonb', 'c_int_array', 'c_int_matrix', 'c_text_array', 'c_float_array', 'c_bytea_array',
  'c_mood', 'c_mood_array', 'c_amount', 'c_pair', 'c_pair_array', 'c_int4range', 'c_int8range',
  'c_numrange', 'c_tstzrange', 'c_daterange', 'c_int4multirange', 'c_datemultirange', 'c_inet',
  'c_cidr', 'c_macaddr', 'c_macaddr8', 'c_money', 'c_bit', 'c_varbit', 'c_xml', 'c_tsvector',
  'c_tsquery', 'c_point', 'c_line', 'c_lseg', 'c_box', 'c_path', 'c_polygon', 'c_circle', 'c_oid',
  'c_pg_lsn',
] // prettier-ignore

/**
 * Types whose `::text` is a cast function rather than the output function COPY uses, and what
 * it makes of the output text.
 */
const TEXT_CASTS: Record<string, (output: string) => string> = {
  // bpchar -> text drops the padding.
  c_char: (output) => output.trimEnd(),
  // bool -> text spells the value out.
  c_bool: (output) => (output === 't' ? 'true' : 'false'),
  // inet -> text always shows the netmask, the output function omits a full-length one.
  c_inet: (output) =>
    output.includes('/') ? output : `${output}/${output.includes(':') ? 128 : 32}`,
  // xml -> text keeps a version-only XML declaration the output function leaves out.
  c_xml: (output) => (output === '<doc/>' ? '<?xml version="1.0"?><doc/>' : output),
}

let admin: pg.Client
let url: string
const clients: pg.Client[] = []

/** A new connection to the test database; connection errors are expected in fault tests. */
async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url })
  client.on('error', () => undefined)
  await client.connect()
  clients.push(client)
  return client
}

/** A connection with the session settings of a read view but no transaction, for writing. */
async function connectWithSettings(): Promise<pg.Client> {
  const client = await connect()
  const settings = Object.entries(PG_SESSION_SETTINGS).map(
    ([name, value]) =>
      `set_config(${client.escapeLiteral(name)}, ${client.escapeLiteral(value)}, false)`,
  )
  await client.query(`SELECT ${settings.join(', ')}`)
  return client
}

async function pidOf(client: pg.Client): Promise<number> {
  const result = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
  return result.rows[0]?.pid ?? -1
}

/** The read spec of a table, from the catalog: columns in order with encodings and types. */
async function tableSpec(
  client: pg.Client,
  schema: string,
  name: string,
  options: { withTypes?: boolean } = {},
): Promise<ReadTableSpec> {
  const relation = `${client.escapeIdentifier(schema)}.${client.escapeIdentifier(name)}`
  const columns = await client.query<{ name: string; type: string; base: string }>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type,
            coalesce(bt.typname, t.typname) AS base
       FROM pg_attribute a
       JOIN pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
      WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [relation],
  )
  const key = await client.query<{ name: string }>(
    `SELECT a.attname AS name
       FROM pg_index i
       CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = $1::regclass AND i.indisprimary
      ORDER BY k.ord`,
    [relation],
  )
  return {
    schema,
    name,
    columns: columns.rows.map((c) => ({
      name: c.name,
      encoding: pgValueEncoding(c.base),
      ...(options.withTypes === false ? {} : { type: c.type }),
    })),
    primaryKey: key.rows.length === 0 ? null : key.rows.map((r) => r.name),
  }
}

async function readBatches(
  client: pg.Client,
  spec: ReadTableSpec,
  options: ReadTableRowsOptions = {},
): Promise<CanonicalRow[][]> {
  const batches: CanonicalRow[][] = []
  for await (const batch of readTableRows(client, spec, options)) batches.push(batch)
  return batches
}

async function readAll(
  client: pg.Client,
  spec: ReadTableSpec,
  options: ReadTableRowsOptions = {},
): Promise<CanonicalRow[]> {
  return (await readBatches(client, spec, options)).flat()
}

/** Rows as the text protocol gives them: each value the type's output function's exact text. */
async function rawRows(client: pg.Client, sql: string): Promise<(string | null)[][]> {
  const result = await client.query<(string | null)[]>({
    text: sql,
    rowMode: 'array',
    types: { getTypeParser: () => (text: string) => text },
  })
  return result.rows
}

/** The error a promise rejects with (or undefined). */
async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (err: unknown) => err,
  )
}

beforeAll(async () => {
  admin = new pg.Client({ connectionString: services.pgUrl })
  await admin.connect()
  await admin.query(`CREATE DATABASE ${dbName}`)
  url = withDatabase(services.pgUrl, dbName)
  const setup = await connect()
  await setup.query(fixture)
  await setup.query(`
    CREATE TABLE public.big (id int PRIMARY KEY, payload text NOT NULL, n bigint NOT NULL);
    INSERT INTO public.big
      SELECT i, repeat(md5(i::text), 31), i::bigint * 1000003 FROM generate_series(1, ${BIG_ROWS}) i;
    CREATE TABLE public.small (id int PRIMARY KEY, v text);
    INSERT INTO public.small SELECT i, 'v' || i FROM generate_series(1, 5000) i;
    ANALYZE;
  `)
})

afterAll(async () => {
  for (const client of clients) await client.end().catch(() => undefined)
  await admin?.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`)
  await admin?.end()
})

describe('every built-in type', () => {
  let spec: ReadTableSpec
  let rows: CanonicalRow[]
  let raw: (string | null)[][]
  let cast: Map<string, (string | null)[]>

  beforeAll(async () => {
    const reader = await connect()
    await beginReadView(reader)
    spec = await tableSpec(reader, 'public', 'all_types')
    rows = await readAll(reader, spec, { batchRows: 4 })
    // The same values over a normal query in a session with the same settings.
    const plain = await connectWithSettings()
    raw = await rawRows(plain, 'SELECT * FROM public.all_types ORDER BY id')
    cast = new Map()
    for (const column of ALL_TYPES_COLUMNS) {
      const values = await rawRows(
        plain,
        `SELECT ${plain.escapeIdentifier(column)}::text FROM public.all_types ORDER BY id`,
      )
      cast.set(
        column,
        values.map((v) => v[0] ?? null),
      )
    }
  })

  it('covers every column of the table, and reads all rows in key order', () => {
    expect(spec.columns.map((c) => c.name)).toEqual(['id', ...ALL_TYPES_COLUMNS])
    expect(rows.map((r) => r[0])).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9])
    // Row 7 is NULL in every column but the key.
    expect(rows[6]?.slice(1).every((v) => v === null)).toBe(true)
  })

  it.each(ALL_TYPES_COLUMNS)('%s: the COPY value is the text a query returns', (column) => {
    const index = spec.columns.findIndex((c) => c.name === column)
    const encoding = spec.columns[index]?.encoding ?? 'text'
    const texts = cast.get(column) ?? []
    let nonNull = 0
    rows.forEach((row, r) => {
      const value = row[index] ?? null
      const text = canonicalToPgText(encoding, value)
      const expected = raw[r]?.[index] ?? null
      if (expected === null) {
        expect(value, `row ${r + 1}`).toBeNull()
        return
      }
      nonNull++
      if (encoding === 'float') {
        // JavaScript and PostgreSQL print exponents differently (1e+308 / 1e308, 1e-05 /
        // 0.00001): the same IEEE value is what has to come back.
        expect(
          Object.is(Number(text), Number(expected)),
          `row ${r + 1}: ${text} vs ${expected}`,
        ).toBe(true)
      } else {
        expect(text, `row ${r + 1}`).toBe(expected)
      }
      // `::text` is the output function too, but for the types with a cast of their own.
      const viaCast = texts[r] ?? null
      const castExpected = TEXT_CASTS[column]?.(expected) ?? expected
      if (encoding !== 'float') expect(viaCast, `row ${r + 1} ::text`).toBe(castExpected)
    })
    expect(nonNull).toBeGreaterThan(0)
  })

  it('holds the values JSON cannot as canonical strings', () => {
    const at = (id: number, column: string): unknown =>
      rows[id - 1]?.[spec.columns.findIndex((c) => c.name === column)]
    expect(at(2, 'c_bigint')).toBe('9223372036854775807')
    expect(at(5, 'c_bigint')).toBe(9007199254740991)
    expect(at(8, 'c_bigint')).toBe('9007199254740993')
    expect(at(4, 'c_double')).toBe('NaN')
    expect(at(5, 'c_real')).toBe('Infinity')
    expect(at(6, 'c_double')).toBe('-Infinity')
    expect(at(8, 'c_double')).toBe('-0')
    expect(at(8, 'c_real')).toBe('-0')
    expect(at(9, 'c_double')).toBe(5e-324)
    expect(at(1, 'c_bool')).toBe(true)
    expect(at(2, 'c_oid')).toBe(4294967295)
    expect(at(2, 'c_qchar')).toBe('\\303')
    expect(at(3, 'c_int_array')).toBe('[0:1]={1,2}')
    expect(at(1, 'c_json')).toBe('{"b": 1,  "a": [1, 2.50, {"c": null}], "a": "dup"}')
    expect(at(2, 'c_bytea')).toMatch(/^\\x000102.*fdfeff$/)
  })

  it('writes back byte-identical through COPY FROM, and re-reads to identical canonical rows', async () => {
    const writer = await connectWithSettings()
    await writer.query('CREATE TABLE public.all_types_copy (LIKE public.all_types)')
    const lines = rows.map((row) =>
      copyTextLine(
        row.map((value, i) => canonicalToPgText(spec.columns[i]?.encoding ?? 'text', value)),
      ),
    )
    await pipeline(
      Readable.from(lines),
      writer.query(copyFrom('COPY public.all_types_copy FROM STDIN')),
    )
    const copied = await rawRows(writer, 'SELECT * FROM public.all_types_copy ORDER BY id')
    expect(copied).toEqual(raw)
    // And a second snapshot of the copy gives the same canonical lines, byte for byte.
    const reader = await connect()
    await beginReadView(reader)
    const again = await readAll(reader, { ...spec, name: 'all_types_copy' })
    expect(again.map(rowLine)).toEqual(rows.map(rowLine))
  })
})

describe('order and resuming', () => {
  let reader: pg.Client

  beforeAll(async () => {
    reader = await connect()
    await beginReadView(reader)
  })

  it('resumes after a single-column key', async () => {
    const spec = await tableSpec(reader, 'public', 'all_types')
    const ids = async (afterKey: number): Promise<unknown[]> =>
      (await readAll(reader, spec, { afterKey: [afterKey] })).map((r) => r[0])
    expect(await ids(3)).toEqual([4, 5, 6, 7, 8, 9])
    expect(await ids(0)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(await ids(9)).toEqual([])
  })

  it.each([true, false])(
    'follows a composite key with collated text and bigints beyond 2^53 (casts: %s)',
    async (withTypes) => {
      const spec = await tableSpec(reader, 'public', 'composite_pk', { withTypes })
      const rows = await readAll(reader, spec, { batchRows: 7 })
      const expected = await rawRows(
        reader,
        'SELECT name, n FROM public.composite_pk ORDER BY name, n',
      )
      expect(rows).toHaveLength(112)
      expect(rows.map((r) => [r[0], canonicalToPgText('bigint', r[1] ?? null)])).toEqual(expected)
      // The key's ICU collation, not byte order: 'a' comes before 'B'.
      const names = [...new Set(rows.map((r) => r[0] as string))]
      expect(names).not.toEqual([...names].sort())
      expect(names.indexOf('a')).toBeLessThan(names.indexOf('B'))
      expect(rows.some((r) => r[1] === '9007199254740993')).toBe(true)
      for (let k = 0; k < rows.length; k++) {
        const key = rows[k] ?? []
        const rest = await readAll(reader, spec, {
          afterKey: [key[0] ?? null, key[1] ?? null],
          batchRows: 50,
        })
        expect(rest, `after row ${k}`).toEqual(rows.slice(k + 1))
      }
    },
  )

  it('reads a table without a primary key whole, duplicates included, in a stable order', async () => {
    const spec = await tableSpec(reader, 'public', 'no_pk')
    expect(spec.primaryKey).toBeNull()
    const first = await readAll(reader, spec, { batchRows: 3 })
    const second = await readAll(reader, spec)
    expect(second).toEqual(first)
    expect(first).toHaveLength(8)
    const expected = await rawRows(
      reader,
      'SELECT * FROM public.no_pk ORDER BY a::text COLLATE "C", b::text COLLATE "C", j::text COLLATE "C", p::text COLLATE "C"',
    )
    expect(
      first.map((r) => r.map((v, i) => canonicalToPgText(spec.columns[i]?.encoding ?? 'text', v))),
    ).toEqual(expected)
    expect(first.filter((r) => r[1] === 'dup')).toHaveLength(4)
    expect(first.slice(-2)).toEqual([
      [null, null, null, null],
      [null, null, null, null],
    ])
    await expect(readAll(reader, spec, { afterKey: [1] })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    })
  })

  it('quotes names with quotes, spaces and unicode', async () => {
    const spec = await tableSpec(reader, 'Ünï "Schema"', 'Tåble "1" x')
    expect(spec.columns.map((c) => c.name)).toEqual(['Key Col', 'Ü "quoted" col', 'select'])
    expect(await readAll(reader, spec)).toEqual([
      [1, 'one', 'x'],
      [2, 'two', null],
    ])
    expect(await readAll(reader, spec, { afterKey: [1] })).toEqual([[2, 'two', null]])
  })

  it('reads an empty table as no batches and a table without columns as empty rows', async () => {
    expect(await readBatches(reader, await tableSpec(reader, 'public', 'empty_table'))).toEqual([])
    expect(await readAll(reader, await tableSpec(reader, 'public', 'no_columns'))).toEqual([
      [],
      [],
      [],
    ])
  })

  it('bounds batches by rows and by bytes', async () => {
    const spec = await tableSpec(reader, 'public', 'big')
    let count = 0
    let maxRows = 0
    for await (const batch of readTableRows(reader, spec, {
      batchRows: 1000,
      batchBytes: 64 * 1024,
    })) {
      // Sized as the reader sizes rows: their text plus one per field.
      const sizes = batch.map((row) => row.reduce<number>((n, v) => n + String(v).length, 3))
      const bytes = sizes.reduce((a, b) => a + b, 0)
      expect(bytes - (sizes.at(-1) ?? 0)).toBeLessThan(64 * 1024)
      maxRows = Math.max(maxRows, batch.length)
      count += batch.length
      if (count > 20_000) break
    }
    expect(maxRows).toBeGreaterThan(60)
    expect(maxRows).toBeLessThan(70)
    for await (const batch of readTableRows(reader, spec, { batchRows: 10 })) {
      expect(batch).toHaveLength(10)
      break
    }
  })

  it('rejects a bad afterKey and bad batch sizes', async () => {
    const spec = await tableSpec(reader, 'public', 'composite_pk')
    const cases: ReadTableRowsOptions[] = [
      { afterKey: ['a'] },
      { afterKey: ['a', null] },
      { afterKey: ['a', true] },
      { batchRows: 0 },
      { batchBytes: 0 },
    ]
    for (const options of cases) {
      await expect(readAll(reader, spec, options), JSON.stringify(options)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      })
    }
    expect(reader.getTransactionStatus()).toBe('T')
  })
})

describe('faults', () => {
  it('reports a backend terminated mid-COPY as CONNECTION_LOST', async () => {
    const reader = await connect()
    await beginReadView(reader)
    const pid = await pidOf(reader)
    const spec = await tableSpec(reader, 'public', 'big')
    let batches = 0
    const err = await failure(
      (async () => {
        for await (const _batch of readTableRows(reader, spec, { batchRows: 100 })) {
          if (batches++ === 0) await admin.query('SELECT pg_terminate_backend($1)', [pid])
        }
      })(),
    )
    expect(err).toMatchObject({ code: 'CONNECTION_LOST', retryable: true })
    expect(batches).toBeLessThan(BIG_ROWS / 100)
  })

  it("reads a parent table's own rows only, not those of tables that inherit from it", async () => {
    const writer = await connect()
    await writer.query(`
      CREATE TABLE public.parent (id int PRIMARY KEY, v text);
      CREATE TABLE public.child (extra int) INHERITS (public.parent);
      INSERT INTO public.parent VALUES (1, 'parent');
      INSERT INTO public.child VALUES (2, 'child', 0);
    `)
    const reader = await connect()
    await beginReadView(reader)
    expect(await readAll(reader, await tableSpec(reader, 'public', 'parent'))).toEqual([
      [1, 'parent'],
    ])
    expect(await readAll(reader, await tableSpec(reader, 'public', 'child'))).toEqual([
      [2, 'child', 0],
    ])
  })

  it('reports a table dropped before the view reads it as TABLE_NOT_FOUND, and the view survives', async () => {
    const writer = await connect()
    await writer.query(
      'CREATE TABLE public.doomed (id int PRIMARY KEY); INSERT INTO public.doomed VALUES (1)',
    )
    const reader = await connect()
    await beginReadView(reader)
    const spec = await tableSpec(reader, 'public', 'doomed')
    // The view has not touched the table, so it holds no lock on it and the DROP goes through.
    await writer.query('DROP TABLE public.doomed')
    const err = await failure(readAll(reader, spec))
    expect(err).toMatchObject({ code: 'TABLE_NOT_FOUND', details: { sqlstate: '42P01' } })
    expect(reader.getTransactionStatus()).toBe('T')
    expect((await reader.query('SELECT count(*)::int AS n FROM public.small')).rows).toEqual([
      { n: 5000 },
    ])
  })

  it('reads each table of a view in one query, its savepoint released by the next one', async () => {
    const writer = await connect()
    await writer.query(
      'CREATE TABLE public.gone (id int PRIMARY KEY); INSERT INTO public.gone VALUES (1)',
    )
    const reader = await connect()
    await beginReadView(reader)
    const small = await tableSpec(reader, 'public', 'small')
    const gone = await tableSpec(reader, 'public', 'gone')
    await writer.query('DROP TABLE public.gone')
    const sent: string[] = []
    const query = reader.query.bind(reader) as (...args: unknown[]) => unknown
    ;(reader as { query: unknown }).query = (...args: unknown[]) => {
      const first = args[0]
      sent.push(typeof first === 'string' ? first : (first as { text: string }).text)
      return query(...args)
    }
    try {
      expect(await readAll(reader, small)).toHaveLength(5000)
      // A failed read between good ones: rolled back to its own savepoint, the view goes on.
      expect(await failure(readAll(reader, gone))).toMatchObject({ code: 'TABLE_NOT_FOUND' })
      expect(await readAll(reader, small)).toHaveLength(5000)
      expect(await readAll(reader, small)).toHaveLength(5000)
    } finally {
      ;(reader as { query: unknown }).query = query
    }
    expect(sent.map((text) => text.replace(/ COPY \(.*$/s, ' COPY'))).toEqual([
      'SAVEPOINT dbsnap_read; COPY',
      'RELEASE SAVEPOINT dbsnap_read; SAVEPOINT dbsnap_read; COPY',
      'ROLLBACK TO SAVEPOINT dbsnap_read; RELEASE SAVEPOINT dbsnap_read',
      'SAVEPOINT dbsnap_read; COPY',
      'RELEASE SAVEPOINT dbsnap_read; SAVEPOINT dbsnap_read; COPY',
    ])
    // Savepoints do not pile up: the last read's is the only one left.
    await reader.query('RELEASE SAVEPOINT dbsnap_read')
    expect(await failure(reader.query('RELEASE SAVEPOINT dbsnap_read'))).toMatchObject({
      code: '3B001',
    })
    await reader.query('ROLLBACK')
    // A new view starts without one to release.
    await beginReadView(reader)
    expect(await readAll(reader, small)).toHaveLength(5000)
  })

  it('reports a column dropped before the view reads it as SOURCE_CHANGED', async () => {
    const writer = await connect()
    await writer.query(
      "CREATE TABLE public.altered (id int PRIMARY KEY, gone text, kept text); INSERT INTO public.altered VALUES (1, 'g', 'k')",
    )
    const reader = await connect()
    await beginReadView(reader)
    const spec = await tableSpec(reader, 'public', 'altered')
    await writer.query('ALTER TABLE public.altered DROP COLUMN gone, ADD COLUMN added int')
    expect(await failure(readAll(reader, spec))).toMatchObject({
      code: 'SOURCE_CHANGED',
      details: { sqlstate: '42703' },
    })
    // Dropping and adding columns does not rewrite the table: the snapshot's rows are still seen.
    const kept = { ...spec, columns: spec.columns.filter((c) => c.name !== 'gone') }
    expect(await readAll(reader, kept)).toEqual([[1, 'k']])
  })

  it('sees a table rewritten or truncated after the snapshot as empty (not MVCC-safe in PostgreSQL)', async () => {
    const writer = await connect()
    await writer.query(`
      CREATE TABLE public.rewritten (id int PRIMARY KEY, v int); INSERT INTO public.rewritten VALUES (1, 1), (2, 2);
      CREATE TABLE public.truncated (id int PRIMARY KEY); INSERT INTO public.truncated VALUES (1), (2);
    `)
    const reader = await connect()
    await beginReadView(reader)
    const rewritten = await tableSpec(reader, 'public', 'rewritten')
    const truncated = await tableSpec(reader, 'public', 'truncated')
    await writer.query('ALTER TABLE public.rewritten ALTER COLUMN v TYPE bigint')
    await writer.query('TRUNCATE public.truncated')
    // PostgreSQL documents these as not MVCC-safe: an older snapshot sees the new, empty heap.
    // Locking the tables right after the view opens (lockTables) is what excludes this.
    expect(await readAll(reader, rewritten)).toEqual([])
    expect(await readAll(reader, truncated)).toEqual([])
  })

  it('makes a DROP wait once the view has read the table, and the read completes', async () => {
    const reader = await connect()
    await beginReadView(reader)
    const spec = await tableSpec(reader, 'public', 'small')
    const writer = await connect()
    let count = 0
    for await (const batch of readTableRows(reader, spec, { batchRows: 10 })) {
      if (count === 0) {
        const err = await failure(
          writer.query("SET lock_timeout = '300ms'; DROP TABLE public.small"),
        )
        expect(err).toMatchObject({ code: '55P03' })
      }
      count += batch.length
    }
    expect(count).toBe(5000)
  })

  it('cancels the COPY on an early break and leaves the view usable, with the same snapshot', async () => {
    const reader = await connect()
    await beginReadView(reader)
    const pid = await pidOf(reader)
    const writer = await connect()
    await writer.query('INSERT INTO public.small VALUES (100001, $1)', ['after the snapshot'])
    const spec = await tableSpec(reader, 'public', 'big')
    const started = Date.now()
    for await (const batch of readTableRows(reader, spec, { batchRows: 100 })) {
      expect(batch).toHaveLength(100)
      break
    }
    // Well below the grace period after which the connection would be destroyed instead.
    expect(Date.now() - started).toBeLessThan(3000)
    expect(reader.getTransactionStatus()).toBe('T')
    const activity = await admin.query<{ state: string }>(
      'SELECT state FROM pg_stat_activity WHERE pid = $1',
      [pid],
    )
    expect(activity.rows).toEqual([{ state: 'idle in transaction' }])
    const small = await readAll(reader, await tableSpec(reader, 'public', 'small'))
    expect(small).toHaveLength(5000)
    await writer.query('DELETE FROM public.small WHERE id = 100001')
  })

  it('cancels an autocommit COPY on an early break and leaves the connection idle', async () => {
    const reader = await connectWithSettings()
    const spec = await tableSpec(reader, 'public', 'big')
    for await (const _batch of readTableRows(reader, spec)) break
    expect(reader.getTransactionStatus()).toBe('I')
    expect((await reader.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
  })

  it('stops with ABORTED when the signal aborts between batches', async () => {
    const reader = await connect()
    await beginReadView(reader)
    const spec = await tableSpec(reader, 'public', 'big')
    const controller = new AbortController()
    let batches = 0
    const err = await failure(
      (async () => {
        for await (const _batch of readTableRows(reader, spec, { signal: controller.signal })) {
          if (++batches === 2) controller.abort(new Error('user pressed ^C'))
        }
      })(),
    )
    expect(err).toMatchObject({ code: 'ABORTED' })
    expect(batches).toBe(2)
    expect(reader.getTransactionStatus()).toBe('T')
    expect((await reader.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
  })

  it('keeps the connection when the consumer holds a batch past the grace period after an abort', async () => {
    const reader = await connect()
    await beginReadView(reader)
    const spec = await tableSpec(reader, 'public', 'big')
    const controller = new AbortController()
    const rows = readTableRows(reader, spec, { batchRows: 100, signal: controller.signal })
    expect((await rows.next()).value).toHaveLength(100)
    controller.abort()
    // Longer than the 5 s the server gets to stop once the reader drains.
    await delay(5500)
    expect(await failure(rows.next())).toMatchObject({ code: 'ABORTED' })
    expect(reader.getTransactionStatus()).toBe('T')
    expect((await reader.query('SELECT count(*)::int AS n FROM public.small')).rows).toEqual([
      { n: 5000 },
    ])
  })

  it('stops with ABORTED at once while the COPY waits on the server (a lock)', async () => {
    // A table of its own: views of earlier tests still hold ACCESS SHARE locks on theirs.
    const locker = await connect()
    await locker.query('CREATE TABLE public.lock_target (id int PRIMARY KEY)')
    await locker.query('BEGIN; LOCK TABLE public.lock_target IN ACCESS EXCLUSIVE MODE')
    const reader = await connect()
    await beginReadView(reader)
    const spec = await tableSpec(reader, 'public', 'lock_target')
    const controller = new AbortController()
    setTimeout(() => controller.abort(), 300)
    const started = Date.now()
    const err = await failure(readAll(reader, spec, { signal: controller.signal }))
    expect(err).toMatchObject({ code: 'ABORTED' })
    expect(Date.now() - started).toBeLessThan(3000)
    await locker.query('ROLLBACK')
    expect(reader.getTransactionStatus()).toBe('T')
    expect(await readAll(reader, spec)).toEqual([])
  })

  it('does not start when the signal is already aborted', async () => {
    const reader = await connect()
    const spec = await tableSpec(reader, 'public', 'small')
    const err = await failure(readAll(reader, spec, { signal: AbortSignal.abort() }))
    expect(err).toMatchObject({ code: 'ABORTED' })
    await expect(beginReadView(reader, { signal: AbortSignal.abort() })).rejects.toMatchObject({
      code: 'ABORTED',
    })
  })

  it('reports statement_timeout as CONNECTION_TIMEOUT, and the view survives it', async () => {
    const reader = await connect()
    await beginReadView(reader)
    await reader.query("SET LOCAL statement_timeout = '400ms'")
    const spec = await tableSpec(reader, 'public', 'big')
    const err = await failure(
      (async () => {
        for await (const _batch of readTableRows(reader, spec, { batchRows: 100 })) await delay(50)
      })(),
    )
    expect(err).toMatchObject({ code: 'CONNECTION_TIMEOUT', details: { sqlstate: '57014' } })
    expect(reader.getTransactionStatus()).toBe('T')
    await reader.query('SET LOCAL statement_timeout = 0')
  })

  it('refuses a second read on a connection while one is running', async () => {
    const reader = await connect()
    await beginReadView(reader)
    const spec = await tableSpec(reader, 'public', 'small')
    const first = readTableRows(reader, spec, { batchRows: 10 })
    expect((await first.next()).value).toHaveLength(10)
    await expect(readAll(reader, spec)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    let rest = 10
    for await (const batch of first) rest += batch.length
    expect(rest).toBe(5000)
  })

  it('refuses to open a read view inside a transaction', async () => {
    const reader = await connect()
    await reader.query('BEGIN')
    await expect(beginReadView(reader)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    await reader.query('ROLLBACK')
  })
})

describe('backpressure', () => {
  it('reads a table far bigger than memory allows with a slow consumer, in bounded batches', async () => {
    const reader = await connect()
    await beginReadView(reader)
    const pid = await pidOf(reader)
    const spec = await tableSpec(reader, 'public', 'big')
    const socket = reader.connection.stream as unknown as { bytesRead: number }
    const baseline = process.memoryUsage().heapUsed
    let peakHeap = 0
    let maxBatch = 0
    let rows = 0
    let consumed = 0
    let maxAhead = 0
    let batches = 0
    let stalled: { waitEvent: string | null; bytesDuringPause: number } | undefined
    for await (const batch of readTableRows(reader, spec, { batchRows: 500 })) {
      batches++
      maxBatch = Math.max(maxBatch, batch.length)
      rows += batch.length
      // Bytes of COPY text the rows stand for, plus each row's 5-byte CopyData header.
      for (const row of batch)
        consumed += String(row[0]).length + String(row[1]).length + String(row[2]).length + 3 + 5
      maxAhead = Math.max(maxAhead, socket.bytesRead - consumed)
      if (batches % 25 === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed)
      if (batches === 100) {
        // A long pause: the socket must stop and the server must block writing to us.
        await delay(300)
        const before = socket.bytesRead
        await delay(300)
        const activity = await admin.query<{ wait_event: string | null }>(
          'SELECT wait_event FROM pg_stat_activity WHERE pid = $1',
          [pid],
        )
        stalled = {
          waitEvent: activity.rows[0]?.wait_event ?? null,
          bytesDuringPause: socket.bytesRead - before,
        }
      } else {
        await delay(1)
      }
    }
    expect(rows).toBe(BIG_ROWS)
    expect(maxBatch).toBe(500)
    expect(stalled).toEqual({ waitEvent: 'ClientWrite', bytesDuringPause: 0 })
    // Read-ahead stays at socket and stream buffers, not the ~300 MB the table is.
    expect(maxAhead).toBeLessThan(16 * 1024 * 1024)
    const growth = peakHeap - baseline
    console.log(
      `backpressure: ${rows} rows, ${(consumed / 1e6).toFixed(0)} MB read, max read-ahead ${(maxAhead / 1e6).toFixed(1)} MB, heap growth ${(growth / 1e6).toFixed(0)} MB`,
    )
    expect(growth).toBeLessThan(150 * 1024 * 1024)
  })
})
