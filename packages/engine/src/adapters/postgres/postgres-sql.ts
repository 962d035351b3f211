// A snapshot as a psql script (`dbsnap export --format sql --dialect postgres`): the restore's
// own DDL around `COPY … FROM stdin` blocks, under the session settings the rows were read with.

import { DbsnapError } from '../../errors.js'
import type { ColumnSchema, TableSchema } from '../../schema/schema.js'
import type { ColumnBatch, RestoreObjects, SqlScript, TableRows } from '../target-adapter.js'
import { copyTextField } from './postgres-copy.js'
import {
  PG_RESTORE_SETTINGS,
  copyColumns,
  copyFromStatement,
  quoteLiteral,
  type DdlStatement,
} from './postgres-ddl.js'
import { afterDataStatements, finishStatements } from './postgres-ddl-post-data.js'
import { createTableStatements, preDataStatements } from './postgres-ddl-pre-data.js'
import { checkStatement } from './postgres-statement.js'
import { PG_SESSION_SETTINGS } from './postgres-values.js'

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
    for await (const text of copyText(table, rows.columns())) yield text.toString('utf8')
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
 * Rows as COPY TEXT (generated columns left out, as COPY cannot write them), a buffer per chunk.
 * The restore's hot loop, so rows are never parsed and no string is made of a value or a row:
 * each chunk's columnar payload (`ColumnBatch`) is turned into COPY bytes directly.
 */
export async function* copyText(
  table: TableSchema,
  batches: AsyncIterable<ColumnBatch>,
  onRows?: (rows: number) => void,
): AsyncGenerator<Buffer, void, undefined> {
  const columns = copyColumns(table)
  const kinds = columns.map((i) => KINDS[table.columns[i]!.encoding])
  for await (const batch of batches) {
    if (batch.rows === 0) continue
    yield copyTextOf(table, columns, kinds, batch)
    onRows?.(batch.rows)
  }
}

/** How a column's JSON texts become COPY fields: a JSON string's characters, COPY-escaped. */
const TEXT = 0
/** A JSON number is its PostgreSQL text (`floatText`); big ones, NaN, Infinity are strings. */
const NUMBER = 1
/** `true` or `false`: `t` or `f`. */
const BOOLEAN = 2

const KINDS: Record<ColumnSchema['encoding'], number> = {
  text: TEXT,
  ejson: TEXT,
  integer: NUMBER,
  bigint: NUMBER,
  float: NUMBER,
  boolean: BOOLEAN,
}

const LF = 0x0a
const TAB = 0x09
const QUOTE = 0x22
const BACKSLASH = 0x5c

/**
 * One chunk as COPY TEXT, from its columnar payload. A JSON string goes through byte by byte:
 * JSON escapes every control character, so only its escapes need a look. `\"` and `\/` are
 * their character; `\\`, `\b`, `\f`, `\n`, `\r` and `\t` are COPY's escapes too, spelt the same;
 * a string with a `\u` escape is parsed (JSON.stringify writes those for control characters
 * only). No field is longer than its JSON text, and each value's newline becomes a tab or the
 * row's end, so the payload's size bounds the output. A value that is not canonical JSON of its
 * column's encoding is `DATA_CORRUPT`.
 */
function copyTextOf(
  table: TableSchema,
  columns: number[],
  kinds: number[],
  batch: ColumnBatch,
): Buffer {
  const { rows, payload: buf } = batch
  const { cursor, ends } = columnSections(table, buf)
  const out = Buffer.allocUnsafe(buf.byteLength + rows)
  let o = 0
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < columns.length; c++) {
      const j = columns[c]!
      const start = cursor[j]!
      if (start >= ends[j]!) throw corruptRow(table, `fewer values in ${table.columns[j]!.name}`)
      const kind = kinds[c]!
      const field = o
      let at = start + 1
      let b = buf[start]!
      let ok = true
      if (b === 0x6e) {
        // n: only `null` starts so.
        ok = buf[at] === 0x75 && buf[at + 1] === 0x6c && buf[at + 2] === 0x6c
        at += 3
        out[o++] = BACKSLASH
        out[o++] = 0x4e
      } else if (kind === TEXT) {
        ok = b === QUOTE
        while (ok) {
          // Characters that need nothing are copied as they are scanned, one pass.
          while (PLAIN[(b = buf[at++]!)] === 1) out[o++] = b
          if (b === QUOTE) break
          if (b === BACKSLASH) {
            const e = buf[at++]!
            if (e === QUOTE || e === 0x2f) out[o++] = e
            else if (e === BACKSLASH || ESCAPED_ALIKE[e] === 1) {
              out[o++] = BACKSLASH
              out[o++] = e
            } else if (e === 0x75) {
              at = buf.indexOf(LF, start)
              const text = parsedField(table.columns[j]!, buf.toString('utf8', start, at))
              o = field + out.write(text, field)
              break
            } else ok = false
          } else ok = false
        }
      } else if (kind === NUMBER) {
        // A quoted number (digits, NaN, Infinity) is copied without its quotes.
        const quoted = b === QUOTE
        if (quoted) b = buf[at++]!
        else ok = isDigit(b) || (b === 0x2d && isDigit(buf[at]!))
        const last = quoted ? QUOTE : LF
        while (ok && b !== last) {
          ok = b > 0x20 && b !== BACKSLASH && b !== QUOTE
          out[o++] = b
          b = buf[at++]!
        }
        if (!quoted) at--
      } else if (b === 0x74) {
        ok = buf[at] === 0x72 && buf[at + 1] === 0x75 && buf[at + 2] === 0x65
        at += 3
        out[o++] = 0x74
      } else {
        ok = b === 0x66 && buf[at] === 0x61 && buf[at + 1] === 0x6c && buf[at + 2] === 0x73
        ok &&= buf[at + 3] === 0x65
        at += 4
        out[o++] = 0x66
      }
      // Every value ends at its newline.
      if (!ok || buf[at] !== LF) throw corruptValue(table.columns[j]!, valueAt(buf, start))
      out[o++] = TAB
      cursor[j] = at + 1
    }
    if (columns.length === 0) out[o++] = LF
    else out[o - 1] = LF
  }
  return out.subarray(0, o)
}

/**
 * Where each column's section of a columnar payload starts (`cursor`, advanced by the caller
 * value by value) and ends. Each section ends with a newline, checked here, so no scan of a
 * value runs past its own section.
 */
export function columnSections(
  table: TableSchema,
  buf: Buffer,
): { cursor: number[]; ends: number[] } {
  const width = buf.byteLength >= 8 ? buf.readUInt32LE(4) : -1
  if (width !== table.columns.length || 8 + 4 * width > buf.byteLength) {
    throw corruptRow(table, `${width} values`)
  }
  const cursor = new Array<number>(width)
  const ends = new Array<number>(width)
  let offset = 8 + 4 * width
  for (let j = 0; j < width; j++) {
    cursor[j] = offset
    offset += buf.readUInt32LE(8 + 4 * j)
    ends[j] = offset
    if (offset > buf.byteLength || (offset > cursor[j]! && buf[offset - 1] !== LF)) {
      throw corruptRow(table, `a cut column ${table.columns[j]!.name}`)
    }
  }
  return { cursor, ends }
}

/** Bytes a JSON string holds as they are: not a quote, a backslash or a control character. */
export const PLAIN = new Uint8Array(256).fill(1, 0x20)
PLAIN[QUOTE] = 0
PLAIN[BACKSLASH] = 0

/** Escape letters that JSON and COPY TEXT spell the same way: `b f n r t`. */
const ESCAPED_ALIKE = new Uint8Array(128)
for (const letter of 'bfnrt') ESCAPED_ALIKE[letter.charCodeAt(0)] = 1

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39
}

/** The JSON text of the value at `start`, for an error message. */
function valueAt(buf: Buffer, start: number): string {
  const end = buf.indexOf(LF, start)
  return buf.toString('utf8', start, end === -1 ? buf.byteLength : end)
}

/** The COPY field of a JSON string that holds a `\u` escape, parsed. */
function parsedField(column: ColumnSchema, raw: string): string {
  return copyTextField(parsedString(column, raw))
}

/** The string a column's JSON text `raw` holds; `DATA_CORRUPT` when it holds no string. */
export function parsedString(column: ColumnSchema, raw: string): string {
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch {
    throw corruptValue(column, raw)
  }
  if (typeof value !== 'string') throw corruptValue(column, raw)
  return value
}

export function corruptValue(column: ColumnSchema, raw: string): DbsnapError {
  return new DbsnapError(
    'DATA_CORRUPT',
    `a ${column.encoding} column (${column.name}) holds ${raw.slice(0, 40)}`,
  )
}

export function corruptRow(table: TableSchema, what: string): DbsnapError {
  return new DbsnapError(
    'DATA_CORRUPT',
    `a row of ${table.schema}.${table.name} holds ${what}, the table has ${table.columns.length} columns`,
  )
}
