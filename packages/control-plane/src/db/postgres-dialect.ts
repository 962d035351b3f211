// PostgreSQL through `pg`: a pool whose values read back in the forms the SQLite side gives, so
// the data layer sees one shape whichever database is behind it (see schema.ts).

import { PostgresDialect } from 'kysely'
import pg from 'pg'

const TIMESTAMPTZ = 1184
const INT8 = 20
const DATE = 1082

const parseTimestamptz = pg.types.getTypeParser(TIMESTAMPTZ) as (value: string) => Date

/**
 * `timestamptz` as ISO-8601 UTC text; `date` as `YYYY-MM-DD` (pg would make a local-midnight
 * Date); `int8` (what COUNT(*) returns) as a number, safe for any count this service keeps.
 * Set on this pool only: other pg users in the process (the engine) keep pg's defaults.
 */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === TIMESTAMPTZ) return (value: string) => parseTimestamptz(value).toISOString()
    if (oid === DATE) return (value: string) => value
    if (oid === INT8) return (value: string) => Number(value)
    return pg.types.getTypeParser(oid, format ?? 'text') as (value: string) => unknown
  }) as pg.CustomTypesConfig['getTypeParser'],
}

export interface PostgresOptions {
  /** Connections in the pool (default 10). */
  max?: number
  /** How long to wait for a connection to open before failing (default 10 s). */
  connectionTimeoutMillis?: number
}

export function postgresDialect(url: string, options: PostgresOptions = {}): PostgresDialect {
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? 10_000,
    application_name: 'dbsnap-control-plane',
    types,
  })
  // An idle connection that dies (server restart) must not crash the process: the pool drops it
  // and the next query opens another.
  pool.on('error', () => undefined)
  return new PostgresDialect({ pool })
}
