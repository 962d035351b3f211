// How a COPY BINARY field is written for each built-in type a PostgreSQL restore sends in
// binary (decision 0037), from the value's canonical JSON text: the exact output grammar of each
// type under the pinned session settings (docs/snapshot-format.md), and nothing else, is parsed.
// The row and string loop is postgres-copy-binary.ts.

export const BOOL = 0
export const INT2 = 1
export const INT4 = 2
export const INT8 = 3
export const FLOAT4 = 4
export const FLOAT8 = 5
export const NUMERIC = 6
export const TEXT = 7
export const JSONB = 8
export const TIMESTAMPTZ = 9
export const TIMESTAMP = 10
export const DATE = 11
export const UUID = 12
export const BYTEA = 13

const QUOTE = 0x22

/** `value` (an int16 or uint16) big-endian at `o` of `out`; the index after it. */
export function int16(out: Buffer, o: number, value: number): number {
  out[o] = (value >>> 8) & 0xff
  out[o + 1] = value & 0xff
  return o + 2
}

/** `value` (an int32 or uint32) big-endian at `o` of `out`; the index after it. */
export function int32(out: Buffer, o: number, value: number): number {
  out[o] = value >>> 24
  out[o + 1] = (value >>> 16) & 0xff
  out[o + 2] = (value >>> 8) & 0xff
  out[o + 3] = value & 0xff
  return o + 4
}

/** The value of JSON text `buf[start, end)` as a binary field at `o` of `out`; -1 when not one. */
export function writeScalar(
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
      const from = start + 1
      const to = end - 1
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
        case BYTEA:
          return writeBytea(buf, from, to, out, o)
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

/**
 * bytea's output text under `bytea_output = hex` (`\x00ff`; in the JSON text its backslash is
 * escaped, `\\x00ff`) as its bytes.
 */
function writeBytea(buf: Buffer, from: number, to: number, out: Buffer, o: number): number {
  const digits = to - from - 3
  if (buf[from] !== 0x5c || buf[from + 1] !== 0x5c || buf[from + 2] !== 0x78) return -1
  if (digits < 0 || digits % 2 !== 0) return -1
  let p = int32(out, o, digits / 2)
  for (let i = from + 3; i < to; i += 2) {
    const high = hexDigit(buf[i]!)
    const low = hexDigit(buf[i + 1]!)
    if (high < 0 || low < 0) return -1
    out[p++] = (high << 4) | low
  }
  return p
}

function hexDigit(b: number): number {
  if (b >= 0x30 && b <= 0x39) return b - 0x30
  if (b >= 0x61 && b <= 0x66) return b - 0x57
  if (b >= 0x41 && b <= 0x46) return b - 0x37
  return -1
}
