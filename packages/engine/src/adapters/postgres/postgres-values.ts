// PostgreSQL values <-> canonical values. Rows are read in PostgreSQL's own text format (COPY /
// text protocol) under pinned session settings, so the text is exact and stable; only the
// types JSON holds natively are converted.

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
 * server's configuration. Set on every connection that reads rows.
 */
export const PG_SESSION_SETTINGS: Readonly<Record<string, string>> = {
  DateStyle: 'ISO, YMD',
  IntervalStyle: 'postgres',
  TimeZone: 'UTC',
  extra_float_digits: '3',
  bytea_output: 'hex',
  client_encoding: 'UTF8',
  lc_monetary: 'C',
}

/**
 * The canonical encoding for a column, from the name of its base type in `pg_type` (domains
 * resolved to their base type; arrays are `_`-prefixed and encoded as text).
 */
export function pgValueEncoding(baseTypeName: string): ValueEncoding {
  switch (baseTypeName) {
    case 'bool':
      return 'boolean'
    case 'int2':
    case 'int4':
    case 'oid':
      return 'integer'
    case 'int8':
      return 'bigint'
    case 'float4':
    case 'float8':
      return 'float'
    default:
      return 'text'
  }
}

/** PostgreSQL text form (as COPY or the text protocol gives it) -> canonical value. */
export function pgTextToCanonical(encoding: ValueEncoding, text: string | null): CanonicalValue {
  if (text === null) return null
  switch (encoding) {
    case 'boolean':
      return text === 't'
    case 'integer':
      return Number(text)
    case 'bigint':
      return canonicalBigint(text)
    case 'float':
      return canonicalFloat(text)
    // No PostgreSQL column has the MongoDB-only `ejson` encoding; its values are strings anyway.
    case 'text':
    case 'ejson':
      return text
  }
}

/** Canonical value -> PostgreSQL text form that reads back as the same value (COPY input). */
export function canonicalToPgText(encoding: ValueEncoding, value: CanonicalValue): string | null {
  if (value === null) return null
  switch (encoding) {
    case 'boolean':
      if (typeof value === 'boolean') return value ? 't' : 'f'
      break
    case 'integer':
    case 'bigint':
      if (typeof value === 'number' || typeof value === 'string') return String(value)
      break
    case 'float':
      if (typeof value === 'number' || typeof value === 'string') return floatText(value)
      break
    case 'text':
    case 'ejson':
      if (typeof value === 'string') return value
      break
  }
  throw new DbsnapError('DATA_CORRUPT', `a ${encoding} column holds ${JSON.stringify(value)}`)
}
