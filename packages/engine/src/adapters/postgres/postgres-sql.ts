// A snapshot as a psql script (`dbsnap export --format sql --dialect postgres`): the restore's
// own DDL around `COPY … FROM stdin` blocks, under the session settings the rows were read with.

import { DbsnapError } from '../../errors.js'
import type { ColumnSchema, TableSchema } from '../../schema/schema.js'
import type { ColumnBatch, RestoreObjects, SqlScript, TableRows } from '../target-adapter.js'
import { copyTextField } from './postgres-copy.js'
import {
  PG_RESTORE_SETTINGS,
  afterDataStatements,
  copyColumns,
  copyFromStatement,
  createTableStatements,
  finishStatements,
  preDataStatements,
  quoteLiteral,
  type DdlStatement,
} from './postgres-ddl.js'
import { checkStatement } from './postgres-statement.js'
import { PG_SESSION_SETTINGS } from './postgres-values.js'

/** Script text is handed on in pieces of about this many characters. */
const PIECE_CHARS = 64 * 1024

/**
 * Loadable with `psql -v ON_ERROR_STOP=1 -f script.sql` into an empty database; the values'
 * text is read back under the settings it was written with, so a snapshot of the loaded
 * database has the same rows, byte for byte.
 */
export const postgresSql: SqlScript = {
  preData(objects: RestoreObjects): string {
    const settings = Object.entries({ ...PG_SESSION_SETTINGS, ...PG_RESTORE_SETTINGS }).map(
      ([name, value]) =>
        `SELECT pg_catalog.set_config(${quoteLiteral(name)}, ${quoteLiteral(value)}, false);`,
    )
    const statements = [
      ...preDataStatements(objects),
      ...objects.tables.flatMap((table) => createTableStatements(table, objects.schema.sequences)),
    ]
    return [
      '-- DBSnap export: load with psql -v ON_ERROR_STOP=1 into an empty database.',
      ...settings,
      '',
      ...statements.map(scriptLine),
      '',
    ].join('\n')
  },

  async *tableData(table: TableSchema, rows: TableRows): AsyncIterable<string> {
    yield `${copyFromStatement(table)};\n`
    for await (const text of copyText(table, rows.columns())) yield text
    yield '\\.\n\n'
  },

  postData(objects: RestoreObjects): string {
    const statements = [
      ...objects.tables.flatMap((table) => afterDataStatements(table)),
      ...finishStatements(objects),
    ]
    return `${statements.map(scriptLine).join('\n')}\n`
  },
}

/**
 * A statement as a script line, once checked: psql runs every statement it is given, so a
 * definition that is more than one statement must never reach the script (`checkStatement`).
 */
function scriptLine(statement: DdlStatement): string {
  checkStatement(statement)
  return `${statement.sql};`
}

/**
 * Rows as COPY TEXT lines (generated columns left out, as COPY cannot write them), in pieces of
 * about 64 KiB. The restore's hot loop, so rows are never parsed: the chunk's values come column
 * by column as their JSON texts, as the chunk stores them, and each becomes its COPY field
 * directly. A JSON string without a backslash holds no character COPY escapes (JSON escapes
 * every control character), so most text goes through as a slice.
 */
export async function* copyText(
  table: TableSchema,
  batches: AsyncIterable<ColumnBatch>,
  onRows?: (rows: number) => void,
): AsyncGenerator<string, void, undefined> {
  const columns = copyColumns(table)
  const writers = columns.map((i) => fieldWriter(table.columns[i]!))
  const width = table.columns.length
  let piece = ''
  for await (const batch of batches) {
    if (batch.columns.length !== width) throw corruptRow(table, `${batch.columns.length} values`)
    const fields = columns.map((i, j) => batch.columns[i]!.map(writers[j]!))
    for (let r = 0; r < batch.rows; r++) {
      let line = fields[0]?.[r] ?? ''
      for (let j = 1; j < fields.length; j++) line += `\t${fields[j]![r]!}`
      piece += `${line}\n`
      if (piece.length >= PIECE_CHARS) {
        yield piece
        piece = ''
      }
    }
    onRows?.(batch.rows)
  }
  if (piece !== '') yield piece
}

/** Characters COPY TEXT escapes (see `copyTextField`). */
const NEEDS_ESCAPE = /[\\\b\f\n\r\t\v]/

/** One column's value, as its JSON text in a canonical row -> its COPY TEXT field. */
function fieldWriter(column: ColumnSchema): (raw: string) => string {
  const write = valueWriter(column)
  return (raw) => (raw === 'null' ? '\\N' : write(raw))
}

/** The same for a value that is not null. */
function valueWriter(column: ColumnSchema): (raw: string) => string {
  const quoted = (raw: string): boolean => raw.charCodeAt(0) === 0x22
  switch (column.encoding) {
    case 'boolean':
      return (raw) => {
        if (raw === 'true') return 't'
        if (raw === 'false') return 'f'
        throw corruptValue(column, raw)
      }
    case 'integer':
    case 'bigint':
    case 'float':
      // A number's JSON text is its PostgreSQL text (`floatText`); big integers and NaN,
      // Infinity, -0 are strings of digits or words, without escapes.
      return (raw) => {
        if (quoted(raw)) return raw.slice(1, -1)
        if (/^-?\d/.test(raw)) return raw
        throw corruptValue(column, raw)
      }
    case 'text':
    case 'ejson':
      return (raw) => {
        if (!quoted(raw)) throw corruptValue(column, raw)
        if (!raw.includes('\\')) return raw.slice(1, -1)
        const value = JSON.parse(raw) as string
        return NEEDS_ESCAPE.test(value) ? copyTextField(value) : value
      }
  }
}

function corruptValue(column: ColumnSchema, raw: string): DbsnapError {
  return new DbsnapError(
    'DATA_CORRUPT',
    `a ${column.encoding} column (${column.name}) holds ${raw.slice(0, 40)}`,
  )
}

function corruptRow(table: TableSchema, what: string): DbsnapError {
  return new DbsnapError(
    'DATA_CORRUPT',
    `a row of ${table.schema}.${table.name} holds ${what}, the table has ${table.columns.length} columns`,
  )
}
