import { describe, expect, it } from 'vitest'
import { tableRowsOf } from '../../show/show.js'
import type { CanonicalRow } from '../../canonical/value-encoding.js'
import type { TableSchema } from '../../schema/schema.js'
import { postgresSql } from './postgres-sql.js'

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
})
