import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { tableRowsOf } from '../../repository/snapshot-rows.js'
import type { CanonicalRow } from '../../canonical/value-encoding.js'
import type { TableSchema } from '../../schema/schema.js'
import type { TableRows } from '../target-adapter.js'
import { CopyTextParser, copyTextLine } from './postgres-copy.js'
import { copyText, postgresSql } from './postgres-sql.js'

const table: TableSchema = {
  schema: 'public',
  name: 'items',
  kind: 'table',
  columns: [
    {
      name: 'id',
      type: 'bigint',
      encoding: 'bigint',
      nullable: false,
      default: null,
      generated: null,
      identity: null,
      collation: null,
    },
    {
      name: 'double',
      type: 'bigint',
      encoding: 'bigint',
      nullable: true,
      default: null,
      generated: '(id * 2)',
      identity: null,
      collation: null,
    },
    {
      name: 'f',
      type: 'double precision',
      encoding: 'float',
      nullable: true,
      default: null,
      generated: null,
      identity: null,
      collation: null,
    },
    {
      name: 'ok',
      type: 'boolean',
      encoding: 'boolean',
      nullable: true,
      default: null,
      generated: null,
      identity: null,
      collation: null,
    },
    {
      name: 'note',
      type: 'text',
      encoding: 'text',
      nullable: true,
      default: null,
      generated: null,
      identity: null,
      collation: null,
    },
  ],
  primaryKey: null,
  uniqueKeys: [],
  indexes: [],
  foreignKeys: [],
  checks: [],
  triggers: [],
  partitionOf: null,
  partitionBy: null,
  comment: null,
  estimatedRows: null,
  estimatedBytes: null,
}

function batches(...rows: CanonicalRow[]): AsyncIterable<CanonicalRow[]> {
  return (async function* () {
    await Promise.resolve()
    yield rows
  })()
}

async function text(pieces: AsyncIterable<string>): Promise<string> {
  let out = ''
  for await (const piece of pieces) out += piece
  return out
}

describe('postgresSql.tableData', () => {
  it('writes a COPY block without generated columns, values as COPY TEXT', async () => {
    const out = await text(
      postgresSql.tableData(
        table,
        tableRowsOf(
          batches(['9007199254740993', 0, 'NaN', true, 'tab\there \\N'], [1, 2, -0.5, false, null]),
        ),
      ),
    )
    expect(out).toBe(
      'COPY "public"."items" ("id", "f", "ok", "note") FROM stdin;\n' +
        '9007199254740993\tNaN\tt\ttab\\there \\\\N\n' +
        '1\t-0.5\tf\t\\N\n' +
        '\\.\n\n',
    )
  })

  it('refuses a value that does not fit its column encoding', async () => {
    await expect(
      text(postgresSql.tableData(table, tableRowsOf(batches([1, 0, 'x', 'yes', null])))),
    ).rejects.toMatchObject({ code: 'DATA_CORRUPT' })
  })

  it.each([
    ['a string with an unknown escape', '"a\\qb"'],
    ['a string with a raw tab', '"a\tb"'],
    ['a string with a quote inside', '"a"b"'],
    ['a string without its closing quote', '"ab'],
    ['a string that is not JSON after a \\u escape', '"\\u00zz"'],
    ['a number in a text column', '5'],
    ['a word that is not null', 'nil'],
  ])('refuses %s in a text column', async (_name, raw) => {
    await expect(
      text(postgresSql.tableData(table, stored(['1', '2', '0.5', 'true', raw]))),
    ).rejects.toMatchObject({ code: 'DATA_CORRUPT' })
  })

  it.each([
    ['a number with a tab', 'f', '1\t2'],
    ['a number that is a word', 'f', 'abc'],
    ['a boolean that is a word', 'ok', 'yes'],
    ['a boolean cut short', 'ok', 'tru'],
  ])('refuses %s', async (_name, column, raw) => {
    const values = ['1', '2', '0.5', 'true', 'null']
    values[table.columns.findIndex((c) => c.name === column)] = raw
    await expect(text(postgresSql.tableData(table, stored(values)))).rejects.toMatchObject({
      code: 'DATA_CORRUPT',
    })
  })
})

describe('copyText', () => {
  const textTable: TableSchema = {
    ...table,
    columns: [table.columns[0]!, table.columns[2]!, table.columns[3]!, table.columns[4]!],
  }

  it('writes what COPY TO writes for the same values, and reads back as them', async () => {
    const value = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({
        unit: fc.constantFrom(
          '\\',
          '"',
          '/',
          '\b',
          '\f',
          '\n',
          '\r',
          '\t',
          '\v',
          '\u0001',
          'é',
          '😀',
          'a',
        ),
      }),
      fc.constant(null),
    )
    const row = fc.tuple(
      fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String), fc.integer()),
      fc.oneof(
        fc.double({ noNaN: true }).filter((d) => Number.isFinite(d) && !Object.is(d, -0)),
        fc.constantFrom('NaN', 'Infinity', '-Infinity'),
      ),
      fc.oneof(fc.boolean(), fc.constant(null)),
      value,
    )
    await fc.assert(
      fc.asyncProperty(fc.array(row, { maxLength: 20 }), async (rows) => {
        let out = ''
        for await (const piece of copyText(textTable, tableRowsOf(batches(...rows)).columns())) {
          out += piece.toString('utf8')
        }
        const expected = rows.map((r) =>
          copyTextLine(
            r.map((v) =>
              v === null ? null : typeof v === 'boolean' ? (v ? 't' : 'f') : String(v),
            ),
          ),
        )
        expect(out).toBe(expected.join(''))
        const parser = new CopyTextParser({ fieldCount: 4 })
        const back = parser.push(Buffer.from(out, 'utf8'))
        expect(back.map((r) => r[3])).toEqual(rows.map((r) => r[3]))
      }),
      { numRuns: 300 },
    )
  })
})

/** A TableRows of one chunk holding one row of these JSON texts, stored as given. */
function stored(values: string[]): TableRows {
  const sections = values.map((raw) => Buffer.from(`${raw}\n`, 'utf8'))
  const head = Buffer.alloc(8 + 4 * values.length)
  head.writeUInt32LE(1, 0)
  head.writeUInt32LE(values.length, 4)
  sections.forEach((section, j) => head.writeUInt32LE(section.length, 8 + 4 * j))
  const payload = Buffer.concat([head, ...sections])
  return {
    ...tableRowsOf(batches()),
    columns: async function* () {
      await Promise.resolve()
      yield { rows: 1, payload }
    },
  }
}
