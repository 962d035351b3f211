// A restore's rows as COPY BINARY (PostgreSQL manual, COPY, "Binary Format"): the server then
// reads each value with its type's receive function instead of parsing its text, which takes a
// quarter off its time on a typical table (decision 0037). Only for a table whose every column
// the target holds as one of the built-in types below, taken by the snapshot from that same type:
// the values' text is then PostgreSQL's own output under the pinned session settings
// (PG_SESSION_SETTINGS), whose grammar is parsed here exactly. Any other table goes as COPY TEXT.

import type pg from 'pg'
import type { ValueEncoding } from '../../canonical/value-encoding.js'
import type { ColumnSchema, TableSchema } from '../../schema/schema.js'
import type { ColumnBatch } from '../target-adapter.js'
import { PLAIN, columnSections, corruptRow, corruptValue, parsedString } from './postgres-sql.js'

const BOOL = 0
const INT2 = 1
const INT4 = 2
const INT8 = 3
const FLOAT4 = 4
const FLOAT8 = 5
const NUMERIC = 6
const TEXT = 7
const JSONB = 8
const TIMESTAMPTZ = 9
const TIMESTAMP = 10
const DATE = 11
const UUID = 12

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
      if (kind === TEXT || kind === JSONB) {
        if (buf[start] === QUOTE) {
          next = writeString(buf, start, out, o, kind === JSONB, table.columns[j]!)
          end = scanned.end
        } else {
          while (buf[end] !== LF) end++
          if (isNull(buf, start, end)) next = int32(out, o, -1)
        }
      } else {
        while (buf[end] !== LF) end++
        next = isNull(buf, start, end)
          ? int32(out, o, -1)
          : writeScalar(kind, buf, start, end, out, o)
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
 * not a JSON string. Sets `scanned.end`. A string with a `\u` escape (JSON.stringify writes them
 * for control characters only) is parsed whole.
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
    scanned.end = at - 1
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

/** `value` (an int16 or uint16) big-endian at `o` of `out`; the index after it. */
function int16(out: Buffer, o: number, value: number): number {
  out[o] = (value >>> 8) & 0xff
  out[o + 1] = value & 0xff
  return o + 2
}

/** `value` (an int32 or uint32) big-endian at `o` of `out`; the index after it. */
function int32(out: Buffer, o: number, value: number): number {
  out[o] = value >>> 24
  out[o + 1] = (value >>> 16) & 0xff
  out[o + 2] = (value >>> 8) & 0xff
  out[o + 3] = value & 0xff
  return o + 4
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

/** The value of JSON text `buf[start, end)` as a binary field at `o` of `out`; -1 when not one. */
function writeScalar(
  kind: number,
  buf: Buffer,
  start: number,
  end: number,
  out: Buffer,
  o: number,
): number {
  switch (kind) {
    case BOOL: {
      const value = end - start === 4
      if (!(value ? isTrue(buf, start) : end - start === 5 && isFalse(buf, start))) return -1
      int32(out, o, 1)
      out[o + 4] = value ? 1 : 0
      return o + 5
    }
    case INT2:
    case INT4: {
      const value = parseInteger(buf, start, end)
      const bound = kind === INT2 ? 0x8000 : 0x80000000
      if (value === null || value < -bound || value >= bound) return -1
      if (kind === INT2) {
        int32(out, o, 2)
        int16(out, o + 4, value)
        return o + 6
      }
      int32(out, o, 4)
      int32(out, o + 4, value)
      return o + 8
    }
    case INT8: {
      const quoted = buf[start] === QUOTE
      if (quoted && buf[end - 1] !== QUOTE) return -1
      const from = quoted ? start + 1 : start
      const to = quoted ? end - 1 : end
      int32(out, o, 8)
      const value = parseInteger(buf, from, to)
      if (value !== null) {
        writeInt64(out, o + 4, value)
        return o + 12
      }
      const text = buf.toString('latin1', from, to)
      if (!/^-?[0-9]{1,19}$/.test(text)) return -1
      const big = BigInt(text)
      if (big < -(2n ** 63n) || big >= 2n ** 63n) return -1
      out.writeBigInt64BE(big, o + 4)
      return o + 12
    }
    case FLOAT4:
    case FLOAT8: {
      const value = parseFloatValue(buf.toString('latin1', start, end))
      if (value === null) return -1
      if (kind === FLOAT4) {
        int32(out, o, 4)
        out.writeFloatBE(value, o + 4)
        return o + 8
      }
      int32(out, o, 8)
      out.writeDoubleBE(value, o + 4)
      return o + 12
    }
    default: {
      if (buf[start] !== QUOTE || buf[end - 1] !== QUOTE || end - start < 2) return -1
      const [from, to] = [start + 1, end - 1]
      switch (kind) {
        case NUMERIC:
          return writeNumeric(buf, from, to, out, o)
        case TIMESTAMPTZ:
        case TIMESTAMP:
          return writeTimestamp(buf, from, to, out, o, kind === TIMESTAMPTZ)
        case DATE:
          return writeDate(buf, from, to, out, o)
        case UUID:
          return writeUuid(buf, from, to, out, o)
      }
      return -1
    }
  }
}

/** A JSON integer of at most 15 digits (always exact as a double), else null. */
function parseInteger(buf: Buffer, start: number, end: number): number | null {
  let i = start
  const negative = buf[i] === 0x2d
  if (negative) i++
  const digits = end - i
  if (digits < 1 || digits > 15) return null
  let value = 0
  for (; i < end; i++) {
    const d = buf[i]! - 0x30
    if (d < 0 || d > 9) return null
    value = value * 10 + d
  }
  return negative ? -value : value
}

/** A canonical float: a JSON number, or `"NaN"`, `"Infinity"`, `"-Infinity"`, `"-0"`. */
function parseFloatValue(text: string): number | null {
  switch (text) {
    case '"NaN"':
      return NaN
    case '"Infinity"':
      return Infinity
    case '"-Infinity"':
      return -Infinity
    case '"-0"':
      return -0
  }
  if (!/^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?$/.test(text)) return null
  return Number(text)
}

const MAX_SAFE = Number.MAX_SAFE_INTEGER

/** An exact integer of at most 2^53 as a big-endian int64. */
function writeInt64(out: Buffer, o: number, value: number): void {
  const high = Math.floor(value / 0x1_0000_0000)
  int32(out, o, high)
  int32(out, o + 4, value - high * 0x1_0000_0000)
}

/** Sign words of a binary numeric. */
const NUMERIC_POS = 0x0000
const NUMERIC_NEG = 0x4000
const NUMERIC_NAN = 0xc000
const NUMERIC_PINF = 0xd000
const NUMERIC_NINF = 0xf000

/**
 * numeric's output text (`-12.3400`, `NaN`, `Infinity`, `-Infinity`) as its binary form: digit
 * count, weight (of the first base-10000 digit), sign and display scale, then the base-10000
 * digits, grouped from the decimal point. Leading and trailing zero digits are left for the
 * server to strip, as `numeric_recv` does.
 */
function writeNumeric(buf: Buffer, from: number, to: number, out: Buffer, o: number): number {
  const first = buf[from] === 0x2d ? buf[from + 1] : buf[from]
  const special =
    first === 0x4e || first === 0x49 ? NUMERIC_SPECIALS.get(buf.toString('latin1', from, to)) : -1
  if (special === undefined) return -1
  if (special !== -1) {
    int32(out, o, 8)
    int16(out, o + 4, 0)
    int16(out, o + 6, 0)
    int16(out, o + 8, special)
    int16(out, o + 10, 0)
    return o + 12
  }
  let i = from
  const negative = buf[i] === 0x2d
  if (negative) i++
  const intStart = i
  while (i < to && isDigit(buf[i]!)) i++
  const intEnd = i
  let fracStart = i
  let fracEnd = i
  if (i < to && buf[i] === 0x2e) {
    fracStart = ++i
    while (i < to && isDigit(buf[i]!)) i++
    fracEnd = i
    if (fracEnd === fracStart) return -1
  }
  if (i !== to || intEnd === intStart) return -1
  const intDigits = intEnd - intStart
  const scale = fracEnd - fracStart
  const intGroups = Math.ceil(intDigits / 4)
  const groups = intGroups + Math.ceil(scale / 4)
  if (groups > 0xffff || scale > 0x3fff) return -1
  int32(out, o, 8 + 2 * groups)
  int16(out, o + 4, groups)
  int16(out, o + 6, intGroups - 1)
  int16(out, o + 8, negative ? NUMERIC_NEG : NUMERIC_POS)
  int16(out, o + 10, scale)
  let p = o + 12
  // The integer part's first group holds what is left over from groups of four.
  let k = intStart
  let take = intDigits - 4 * (intGroups - 1)
  for (let g = 0; g < intGroups; g++) {
    let digit = 0
    for (let n = 0; n < take; n++) digit = digit * 10 + (buf[k++]! - 0x30)
    int16(out, p, digit)
    p += 2
    take = 4
  }
  // The fraction's last group is padded with zeros on the right.
  for (k = fracStart; k < fracEnd; k += 4) {
    let digit = 0
    for (let n = 0; n < 4; n++) digit = digit * 10 + (k + n < fracEnd ? buf[k + n]! - 0x30 : 0)
    int16(out, p, digit)
    p += 2
  }
  return p
}

const NUMERIC_SPECIALS: ReadonlyMap<string, number> = new Map([
  ['NaN', NUMERIC_NAN],
  ['Infinity', NUMERIC_PINF],
  ['-Infinity', NUMERIC_NINF],
])

/** Days from 1970-01-01 to 2000-01-01, PostgreSQL's epoch for dates and timestamps. */
const PG_EPOCH_DAYS = 10957
const US_PER_DAY = 86_400_000_000

/**
 * A date's output text under DateStyle ISO (`2024-02-29`, `0044-03-15 BC`, `infinity`) as days
 * since 2000-01-01 (int32; the infinities are its extremes).
 */
function writeDate(buf: Buffer, from: number, to: number, out: Buffer, o: number): number {
  int32(out, o, 4)
  const text = to - from <= 9 ? buf.toString('latin1', from, to) : ''
  if (text === 'infinity' || text === '-infinity') {
    int32(out, o + 4, text === 'infinity' ? 0x7fffffff : -0x80000000)
    return o + 8
  }
  const date = parseDate(buf, from, to)
  if (date === null || !endsAt(date.at, to, date.bc)) return -1
  int32(out, o + 4, date.days - PG_EPOCH_DAYS)
  return o + 8
}

/**
 * A timestamp's output text under DateStyle ISO and TimeZone UTC (`2024-01-01 00:00:07.123`,
 * with `+00` for timestamptz, `… BC` before year 1, `infinity`) as microseconds since
 * 2000-01-01 00:00 (int64; the infinities are its extremes).
 */
function writeTimestamp(
  buf: Buffer,
  from: number,
  to: number,
  out: Buffer,
  o: number,
  zoned: boolean,
): number {
  int32(out, o, 8)
  const text = to - from <= 9 ? buf.toString('latin1', from, to) : ''
  if (text === 'infinity' || text === '-infinity') {
    out.writeBigInt64BE(text === 'infinity' ? 2n ** 63n - 1n : -(2n ** 63n), o + 4)
    return o + 12
  }
  const date = parseDate(buf, from, to)
  if (date === null) return -1
  let i = date.at
  if (buf[i] !== 0x20) return -1
  const hour = twoDigits(buf, i + 1)
  const minute = buf[i + 3] === 0x3a ? twoDigits(buf, i + 4) : -1
  const second = buf[i + 6] === 0x3a ? twoDigits(buf, i + 7) : -1
  if (hour > 23 || minute > 59 || second > 59 || hour < 0 || minute < 0 || second < 0) return -1
  i += 9
  let micros = 0
  if (buf[i] === 0x2e) {
    i++
    let n = 0
    for (; n < 6 && i < to && isDigit(buf[i]!); n++, i++) micros = micros * 10 + (buf[i]! - 0x30)
    if (n === 0) return -1
    for (; n < 6; n++) micros *= 10
  }
  let offsetSeconds = 0
  if (zoned) {
    const sign = buf[i] === 0x2b ? 1 : buf[i] === 0x2d ? -1 : 0
    const hours = sign === 0 ? -1 : twoDigits(buf, i + 1)
    if (hours < 0) return -1
    i += 3
    let minutes = 0
    let seconds = 0
    if (buf[i] === 0x3a && i < to) {
      minutes = twoDigits(buf, i + 1)
      i += 3
      if (buf[i] === 0x3a && i < to) {
        seconds = twoDigits(buf, i + 1)
        i += 3
      }
    }
    if (minutes < 0 || seconds < 0 || minutes > 59 || seconds > 59) return -1
    offsetSeconds = sign * (hours * 3600 + minutes * 60 + seconds)
  }
  if (!endsAt(i, to, date.bc)) return -1
  const days = date.days - PG_EPOCH_DAYS
  const ofDay = ((hour * 60 + minute) * 60 + second - offsetSeconds) * 1_000_000 + micros
  const value = days * US_PER_DAY + ofDay
  if (Math.abs(value) <= MAX_SAFE) writeInt64(out, o + 4, value)
  else out.writeBigInt64BE(BigInt(days) * BigInt(US_PER_DAY) + BigInt(ofDay), o + 4)
  return o + 12
}

/**
 * `YYYY-MM-DD` (four or more year digits) at `from`, with the ` BC` that may end the whole text
 * looked up: days since 1970-01-01 of the proleptic Gregorian calendar, as PostgreSQL counts
 * them, and where the date ends.
 */
function parseDate(
  buf: Buffer,
  from: number,
  to: number,
): { days: number; at: number; bc: boolean } | null {
  let i = from
  let year = 0
  while (i < to && isDigit(buf[i]!) && i - from < 7) year = year * 10 + (buf[i++]! - 0x30)
  if (i - from < 4 || buf[i] !== 0x2d || buf[i + 3] !== 0x2d) return null
  const month = twoDigits(buf, i + 1)
  const day = twoDigits(buf, i + 4)
  const bc = to - from > 3 && buf[to - 3] === 0x20 && buf[to - 2] === 0x42 && buf[to - 1] === 0x43
  if (bc && year === 0) return null
  // Year 1 BC is year 0 of the astronomical count the day arithmetic uses.
  const astronomical = bc ? 1 - year : year
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(astronomical, month)) return null
  return { days: daysFromCivil(astronomical, month, day), at: i + 6, bc }
}

/** Whether a value parsed up to `i` is the whole text: up to `to`, or to the ` BC` before it. */
function endsAt(i: number, to: number, bc: boolean): boolean {
  return bc ? to - i === 3 : i === to
}

/** Days in a month of an astronomical year (0 is 1 BC, a leap year). */
function daysInMonth(year: number, month: number): number {
  if (month !== 2) return MONTH_DAYS[month - 1]!
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

function isTrue(buf: Buffer, i: number): boolean {
  return buf[i] === 0x74 && buf[i + 1] === 0x72 && buf[i + 2] === 0x75 && buf[i + 3] === 0x65
}

function isFalse(buf: Buffer, i: number): boolean {
  return (
    buf[i] === 0x66 &&
    buf[i + 1] === 0x61 &&
    buf[i + 2] === 0x6c &&
    buf[i + 3] === 0x73 &&
    buf[i + 4] === 0x65
  )
}

/** Days since 1970-01-01 of a proleptic Gregorian date (astronomical year: 0 is 1 BC). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year
  const era = Math.floor(y / 400)
  const yearOfEra = y - era * 400
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1
  const dayOfEra =
    yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear
  return era * 146097 + dayOfEra - 719468
}

function twoDigits(buf: Buffer, i: number): number {
  const a = buf[i]! - 0x30
  const b = buf[i + 1]! - 0x30
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1
}

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39
}

/** A uuid's output text (`a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11`) as its 16 bytes. */
function writeUuid(buf: Buffer, from: number, to: number, out: Buffer, o: number): number {
  if (to - from !== 36) return -1
  int32(out, o, 16)
  let p = o + 4
  for (let i = from; i < to;) {
    if (i - from === 8 || i - from === 13 || i - from === 18 || i - from === 23) {
      if (buf[i] !== 0x2d) return -1
      i++
      continue
    }
    const high = hexDigit(buf[i]!)
    const low = hexDigit(buf[i + 1]!)
    if (high < 0 || low < 0) return -1
    out[p++] = (high << 4) | low
    i += 2
  }
  return p
}

function hexDigit(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30
  if (b >= 0x61 && b <= 0x66) return b - 0x57
  if (b >= 0x41 && b <= 0x46) return b - 0x37
  return -1
}
