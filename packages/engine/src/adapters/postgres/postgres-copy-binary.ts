// A restore's rows as COPY BINARY (PostgreSQL manual, COPY, "Binary Format"): the server then
// reads each value with its type's receive function instead of parsing its text, which takes a
// quarter off its time on a typical table (decision 0037). Only for a table whose every column
// the target holds as one of the built-in types below, taken by the snapshot from that same type:
// the values' text is then PostgreSQL's own output under the pinned session settings
// (PG_SESSION_SETTINGS), whose grammar postgres-binary-values.ts parses exactly. Any other table
// goes as COPY TEXT.

import type pg from 'pg'
import type { ValueEncoding } from '../../canonical/value-encoding.js'
import type { ColumnSchema, TableSchema } from '../../schema/schema.js'
import type { ColumnBatch } from '../target-adapter.js'
import {
  BOOL,
  BYTEA,
  DATE,
  FLOAT4,
  FLOAT8,
  INT2,
  INT4,
  INT8,
  JSONB,
  NUMERIC,
  TEXT,
  TIMESTAMP,
  TIMESTAMPTZ,
  UUID,
  int32,
  writeScalar,
} from './postgres-binary-values.js'
import { PLAIN, columnSections, corruptRow, corruptValue, parsedString } from './postgres-sql.js'

/** The built-in types (by `pg_type.typname` in `pg_catalog`) sent in binary, and their encoding. */
const TYPES: ReadonlyMap<string, { kind: number; encoding: ValueEncoding }> = new Map([
  ['bool', { kind: BOOL, encoding: 'boolean' }],
  ['int2', { kind: INT2, encoding: 'integer' }],
  ['int4', { kind: INT4, encoding: 'integer' }],
  ['int8', { kind: INT8, encoding: 'bigint' }],
  ['float4', { kind: FLOAT4, encoding: 'float' }],
  ['float8', { kind: FLOAT8, encoding: 'float' }],
  ['numeric', { kind: NUMERIC, encoding: 'text' }],
  ['text', { kind: TEXT, encoding: 'text' }],
  ['varchar', { kind: TEXT, encoding: 'text' }],
  ['bpchar', { kind: TEXT, encoding: 'text' }],
  ['json', { kind: TEXT, encoding: 'text' }],
  ['jsonb', { kind: JSONB, encoding: 'text' }],
  ['timestamptz', { kind: TIMESTAMPTZ, encoding: 'text' }],
  ['timestamp', { kind: TIMESTAMP, encoding: 'text' }],
  ['date', { kind: DATE, encoding: 'text' }],
  ['uuid', { kind: UUID, encoding: 'text' }],
  ['bytea', { kind: BYTEA, encoding: 'text' }],
])

/**
 * Tables whose first chunk's columnar payload is smaller go as text: such a table is that one
 * chunk (no chunk is cut before 256 KiB of rows), and the server parses its text in less time
 * than the round trip for its types and the binary writer's first, not yet compiled, calls take.
 */
export const BINARY_MIN_BYTES = 64 * 1024

/** The target relation's columns of built-in types: other columns are not listed. */
const SQL_TARGET_TYPES = `SELECT a.attname::text AS name, t.typname::text AS type
  FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
  WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
    AND t.typnamespace = 'pg_catalog'::regnamespace`

/**
 * How each of `columns` (indexes into `table.columns`) is sent in binary, or null when the table
 * must go as COPY TEXT: a column whose type in `relation` (the target, as SQL) is not one of
 * TYPES, or is not the type the snapshot read it from, or whose encoding is not that type's.
 */
export async function binaryCopyKinds(
  client: pg.Client,
  relation: string,
  table: TableSchema,
  columns: readonly number[],
): Promise<number[] | null> {
  const { rows } = await client.query<{ name: string; type: string }>(SQL_TARGET_TYPES, [relation])
  const types = new Map(rows.map((row) => [row.name, row.type]))
  const kinds: number[] = []
  for (const i of columns) {
    const column = table.columns[i]!
    const type = types.get(column.name)
    const known = type === undefined ? undefined : TYPES.get(type)
    if (known === undefined || known.encoding !== column.encoding) return null
    if (column.extra?.['baseType'] !== type) return null
    kinds.push(known.kind)
  }
  return kinds
}

/** `PGCOPY\n\377\r\n\0`, then no flags and no header extension. */
const HEADER = Buffer.from([
  0x50, 0x47, 0x43, 0x4f, 0x50, 0x59, 0x0a, 0xff, 0x0d, 0x0a, 0x00, 0, 0, 0, 0, 0, 0, 0, 0,
])
/** A field count of -1 ends the data. */
const TRAILER = Buffer.from([0xff, 0xff])

/**
 * Rows as COPY BINARY, a buffer per chunk, straight from each chunk's columnar payload: no row
 * is parsed and no string made except for values that need one (a `\u` escape, a float, a big
 * int8). A value that is not its type's output text is `DATA_CORRUPT`.
 */
export async function* copyBinary(
  table: TableSchema,
  columns: readonly number[],
  kinds: readonly number[],
  batches: AsyncIterable<ColumnBatch>,
  onRows?: (rows: number) => void,
): AsyncGenerator<Buffer, void, undefined> {
  yield Buffer.from(HEADER)
  for await (const batch of batches) {
    if (batch.rows === 0) continue
    yield copyBinaryOf(table, columns, kinds, batch)
    onRows?.(batch.rows)
  }
  yield Buffer.from(TRAILER)
}

/**
 * Bytes a field may take beyond its JSON text: its length word, and what a value longer in
 * binary than in text adds (a numeric's header and padding, an int8 or a timestamp of 1 digit).
 */
const FIELD_EXTRA = 4 + 16

const LF = 0x0a
const QUOTE = 0x22
const BACKSLASH = 0x5c

function copyBinaryOf(
  table: TableSchema,
  columns: readonly number[],
  kinds: readonly number[],
  batch: ColumnBatch,
): Buffer {
  const { rows, payload: buf } = batch
  const { cursor, ends } = columnSections(table, buf)
  const out = Buffer.allocUnsafe(buf.byteLength + rows * (2 + FIELD_EXTRA * columns.length))
  return out.subarray(0, writeRows(table, columns, kinds, buf, rows, cursor, ends, out))
}

/**
 * The rows of a payload into `out`; how many bytes. The loop alone in its function: V8 compiles
 * it on stack replacement within the first chunk, and code after the loop, not yet run then,
 * would throw that compiled code away at the end of every chunk.
 */
function writeRows(
  table: TableSchema,
  columns: readonly number[],
  kinds: readonly number[],
  buf: Buffer,
  rows: number,
  cursor: number[],
  ends: number[],
  out: Buffer,
): number {
  const width = columns.length
  // Locals: an imported binding is looked up again at every use, which cost this loop 60%.
  const text = TEXT
  const jsonb = JSONB
  const word = int32
  const scalar = writeScalar
  let o = 0
  for (let r = 0; r < rows; r++) {
    out[o++] = width >>> 8
    out[o++] = width & 0xff
    for (let c = 0; c < width; c++) {
      const j = columns[c]!
      const start = cursor[j]!
      if (start >= ends[j]!) throw corruptRow(table, `fewer values in ${table.columns[j]!.name}`)
      const kind = kinds[c]!
      // Values are short: a loop finds their end faster than a native indexOf is called. Every
      // section ends with a newline (columnSections), so none runs past its own.
      let end = start
      let next = -1
      if (kind === text || kind === jsonb) {
        if (buf[start] === QUOTE) {
          next = writeString(buf, start, out, o, kind === jsonb, table.columns[j]!)
          end = scanned.end
        } else {
          while (buf[end] !== LF) end++
          if (isNull(buf, start, end)) next = word(out, o, -1)
        }
      } else {
        while (buf[end] !== LF) end++
        next = isNull(buf, start, end) ? word(out, o, -1) : scalar(kind, buf, start, end, out, o)
      }
      if (next === -1 || buf[end] !== LF) {
        throw corruptValue(table.columns[j]!, buf.toString('utf8', start, buf.indexOf(LF, start)))
      }
      o = next
      cursor[j] = end + 1
    }
  }
  return o
}

function isNull(buf: Buffer, start: number, end: number): boolean {
  return (
    end - start === 4 &&
    buf[start] === 0x6e &&
    buf[start + 1] === 0x75 &&
    buf[start + 2] === 0x6c &&
    buf[start + 3] === 0x6c
  )
}

/** Where the JSON string writeString last read ended (its closing quote's next byte). */
const scanned = { end: 0 }

/**
 * A JSON string's characters (at `start`, its opening quote) as a text field (jsonb's prefixed
 * with its format version, 1) at `o` of `out`: the index after the field, or -1 when the text is
 * not a JSON string. Sets `scanned.end` when it is one. A string with a `\u` escape
 * (JSON.stringify writes them for control characters only) is parsed whole.
 */
function writeString(
  buf: Buffer,
  start: number,
  out: Buffer,
  o: number,
  jsonb: boolean,
  column: ColumnSchema,
): number {
  const field = o + 4
  let p = jsonb ? field + 1 : field
  if (jsonb) out[field] = 1
  let at = start + 1
  let b: number
  // Locals: an imported binding is looked up again on every byte.
  const plain = PLAIN
  const escapes = JSON_ESCAPES
  for (;;) {
    while (plain[(b = buf[at++]!)] === 1) out[p++] = b
    if (b === QUOTE) break
    if (b !== BACKSLASH) return -1
    const e = buf[at++]!
    const unescaped = escapes[e]!
    if (unescaped !== 0) {
      out[p++] = unescaped
      continue
    }
    if (e !== 0x75) return -1
    const lf = buf.indexOf(LF, start)
    const value = parsedString(column, buf.toString('utf8', start, lf))
    p = jsonb ? field + 1 : field
    p += out.write(value, p)
    at = lf
    break
  }
  scanned.end = at
  int32(out, o, p - field)
  return p
}

/** What each JSON escape letter stands for (`\u` aside), by its byte: 0 for none. */
const JSON_ESCAPES = new Uint8Array(256)
for (const [letter, byte] of [
  ['"', 0x22],
  ['\\', 0x5c],
  ['/', 0x2f],
  ['b', 0x08],
  ['f', 0x0c],
  ['n', 0x0a],
  ['r', 0x0d],
  ['t', 0x09],
] as const) {
  JSON_ESCAPES[letter.charCodeAt(0)] = byte
}
