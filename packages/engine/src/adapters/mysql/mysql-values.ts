// MySQL/MariaDB values <-> canonical values. Rows are read over the text protocol under pinned
// session settings, so the server's text is exact and stable; what the text protocol would lose
// (FLOAT digits) or cannot hold (bytes) is selected in a lossless form instead.

import {
  canonicalBigint,
  canonicalFloat,
  floatText,
  type CanonicalValue,
  type ValueEncoding,
} from '../../canonical/value-encoding.js'
import { DbsnapError } from '../../errors.js'

/**
 * Session settings under which every value's text form is exact and independent of the
 * server's configuration, as `SET SESSION` assignments. Set on every connection that reads rows.
 * - `time_zone`: TIMESTAMP values are shown in UTC.
 * - `sql_mode`: '' so that CHAR values are not padded (PAD_CHAR_TO_FULL_LENGTH), backslash
 *   escapes in literals work (NO_BACKSLASH_ESCAPES) and definitions print with backticks
 *   (ANSI_QUOTES).
 * - `character_set_*` (SET NAMES): every text value arrives as UTF-8, whatever its column's
 *   charset; binary strings arrive as their bytes.
 * - `net_write_timeout`: the server drops a client that does not read for this long; a
 *   consumer holding a batch (an upload being retried) pauses the socket for a while.
 * - `max_sort_length`: tables without a primary key are sorted by 64-byte prefixes and digests
 *   of their values (mysql-read.ts `keylessSortKey`), which a server set below 64 would cut;
 *   pinned to the default 1024, never higher: the sort buffer holds that much per column and row.
 */
export const MYSQL_SESSION_SETTINGS: Readonly<Record<string, string>> = {
  time_zone: "'+00:00'",
  sql_mode: "''",
  character_set_client: 'utf8mb4',
  character_set_connection: 'utf8mb4',
  character_set_results: 'utf8mb4',
  net_write_timeout: '3600',
  max_sort_length: '1024',
}

/**
 * How a column's values travel from the server to a canonical row:
 * - `integer`: TINYINT…INT (signed or not) and YEAR: the driver's number, as is.
 * - `bigint`: BIGINT (signed or not): decimal text -> number or string beyond 2^53.
 * - `bit`: BIT(n), selected as `CAST(… AS UNSIGNED)`: its value as an unsigned integer.
 * - `float`: DOUBLE as the server prints it (shortest round-trip text); FLOAT selected as
 *   `CAST(… AS DOUBLE)`: MariaDB prints FLOAT with 6 digits, which loses bits, and MySQL 8 its
 *   shortest single-precision text, which parses to another double than the stored value.
 * - `text`: DECIMAL, dates and times, strings in any charset, ENUM, SET, JSON: the server's text.
 * - `bytes`: BINARY, VARBINARY, BLOBs: lower-case hex of the bytes.
 * - `geometry`: selected as `CAST(… AS BINARY)`: hex of the server's internal value, the
 *   4-byte little-endian SRID followed by the WKB, what restores the value exactly.
 */
export type MysqlValueKind = 'integer' | 'bigint' | 'bit' | 'float' | 'text' | 'bytes' | 'geometry'

const KIND_BY_DATA_TYPE: Readonly<Record<string, MysqlValueKind>> = {
  tinyint: 'integer',
  smallint: 'integer',
  mediumint: 'integer',
  int: 'integer',
  integer: 'integer',
  year: 'integer',
  bigint: 'bigint',
  bit: 'bit',
  float: 'float',
  double: 'float',
  'double precision': 'float',
  real: 'float',
  binary: 'bytes',
  varbinary: 'bytes',
  tinyblob: 'bytes',
  blob: 'bytes',
  mediumblob: 'bytes',
  longblob: 'bytes',
  geometry: 'geometry',
  point: 'geometry',
  linestring: 'geometry',
  polygon: 'geometry',
  multipoint: 'geometry',
  multilinestring: 'geometry',
  multipolygon: 'geometry',
  geometrycollection: 'geometry',
  geomcollection: 'geometry',
}

/**
 * The value kind of a column from its `information_schema.columns.data_type` (any case).
 * Types not listed (DECIMAL, temporal, strings, ENUM, SET, JSON, MariaDB's UUID and INET) are
 * `text`: the server's text form is exact for them.
 */
export function mysqlValueKind(dataType: string): MysqlValueKind {
  return KIND_BY_DATA_TYPE[dataType.toLowerCase()] ?? 'text'
}

/** The canonical encoding of each value kind (docs/mysql.md). */
export function mysqlValueEncoding(kind: MysqlValueKind): ValueEncoding {
  switch (kind) {
    case 'integer':
      return 'integer'
    case 'bigint':
    case 'bit':
      return 'bigint'
    case 'float':
      return 'float'
    case 'text':
    case 'bytes':
    case 'geometry':
      return 'text'
  }
}

/**
 * The select-list expression for a column (`column` is already a quoted identifier): what
 * makes the server send a value the kind's conversion turns into the canonical value.
 */
export function mysqlSelectExpression(
  column: string,
  kind: MysqlValueKind,
  dataType: string,
): string {
  switch (kind) {
    case 'bit':
      return `CAST(${column} AS UNSIGNED)`
    case 'float':
      return dataType.toLowerCase() === 'float' ? `CAST(${column} AS DOUBLE)` : column
    case 'geometry':
      return `CAST(${column} AS BINARY)`
    default:
      return column
  }
}

/** What mysql2 hands over for one field with the adapter's options (strings for big numbers). */
export type DriverValue = string | number | Buffer | null

/**
 * The conversion from a driver value to a canonical one, or null when the driver's value is
 * already canonical (numbers of `integer` columns, strings of `text` columns): the read loop
 * then leaves those fields alone.
 */
export function mysqlConversion(
  kind: MysqlValueKind,
): ((value: DriverValue) => CanonicalValue) | null {
  switch (kind) {
    case 'integer':
    case 'text':
      return null
    case 'bigint':
    case 'bit':
      return (value) => (value === null ? null : canonicalBigint(String(value)))
    case 'float':
      // The driver parses DOUBLE text into a number; String() would turn -0 into "0".
      return (value) =>
        typeof value === 'number'
          ? Object.is(value, -0)
            ? '-0'
            : value
          : value === null
            ? null
            : canonicalFloat(String(value))
    case 'bytes':
    case 'geometry':
      return (value) =>
        value === null ? null : Buffer.isBuffer(value) ? value.toString('hex') : String(value)
  }
}

/**
 * Canonical value -> the MySQL text form it stands for: what the server printed for `text`
 * columns, hex for bytes and geometry, decimal digits for integers and bits, the shortest
 * round-trip form for floats. `null` for SQL NULL.
 *
 * @throws `DATA_CORRUPT` when the value's JSON type does not fit the kind.
 */
export function canonicalToMysqlText(kind: MysqlValueKind, value: CanonicalValue): string | null {
  if (value === null) return null
  switch (kind) {
    case 'integer':
    case 'bigint':
    case 'bit':
      if (typeof value === 'number' || (typeof value === 'string' && /^-?\d+$/.test(value)))
        return String(value)
      break
    case 'float':
      if (typeof value === 'number' || typeof value === 'string') return floatText(value)
      break
    case 'bytes':
    case 'geometry':
      if (typeof value === 'string' && /^(?:[0-9a-f]{2})*$/.test(value)) return value
      break
    case 'text':
      if (typeof value === 'string') return value
      break
  }
  throw new DbsnapError('DATA_CORRUPT', `a MySQL ${kind} column holds ${JSON.stringify(value)}`)
}

/**
 * Canonical value -> a SQL literal that compares with the column's values as the value itself:
 * numbers unquoted (DECIMAL too, so it compares exactly, not as a double), bytes as `X'…'`,
 * text as a UTF-8 string literal (compared in the column's collation). `escape` quotes a string
 * literal (mysql2's `escape`).
 */
export function canonicalToMysqlLiteral(
  kind: MysqlValueKind,
  dataType: string,
  value: CanonicalValue,
  escape: (text: string) => string,
): string {
  const text = canonicalToMysqlText(kind, value)
  if (text === null) return 'NULL'
  switch (kind) {
    case 'integer':
    case 'bigint':
    case 'bit':
      return text
    case 'float':
      // An exponent makes the literal a DOUBLE; without one `0.1` would be an exact DECIMAL.
      return /e/i.test(text) ? text : `${text}e0`
    case 'bytes':
    case 'geometry':
      return `X'${text}'`
    case 'text':
      if (/^(decimal|numeric)$/i.test(dataType) && /^-?\d+(\.\d+)?$/.test(text)) return text
      return escape(text)
  }
}
