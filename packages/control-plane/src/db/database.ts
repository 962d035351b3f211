// Opens the control plane's database: SQLite (one file, the embedded default) or PostgreSQL
// (`DATABASE_URL=postgres://…`, for replicas), behind one Kysely instance with one schema.

import { CamelCasePlugin, Kysely, sql } from 'kysely'
import { ControlPlaneError, reasonOf } from '../errors.js'
import { postgresDialect, type PostgresOptions } from './postgres-dialect.js'
import type { Database } from './schema.js'
import { sqliteDialect } from './sqlite-dialect.js'

export type DialectName = 'sqlite' | 'postgres'

export type DatabaseLocation =
  { dialect: 'sqlite'; path: string } | { dialect: 'postgres'; url: string }

export interface ControlPlaneDb {
  readonly db: Kysely<Database>
  readonly dialect: DialectName
  /** Where the database is, without a password: for messages and logs. */
  readonly where: string
  /** Ends the pool or closes the file. */
  close(): Promise<void>
}

/**
 * Reads `DATABASE_URL`: `postgres://` or `postgresql://` URLs name a PostgreSQL database;
 * `sqlite:PATH`, a plain path or `:memory:` a SQLite file.
 */
export function parseDatabaseUrl(value: string): DatabaseLocation {
  if (/^postgres(ql)?:\/\//i.test(value)) return { dialect: 'postgres', url: value }
  return { dialect: 'sqlite', path: value.replace(/^sqlite:/i, '') }
}

/** `url` without its password (and query string, which may carry one). */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    parsed.password = ''
    parsed.search = ''
    return parsed.href
  } catch {
    return 'postgres://(unparsable URL)'
  }
}

/**
 * Opens the database and checks that it answers; a database that cannot be reached or opened
 * is a `DATABASE_UNAVAILABLE` error naming where (never the password) and why.
 */
export async function openDatabase(
  location: DatabaseLocation,
  options: PostgresOptions = {},
): Promise<ControlPlaneDb> {
  const where = location.dialect === 'sqlite' ? location.path : redactUrl(location.url)
  let db: Kysely<Database> | undefined
  try {
    const dialect =
      location.dialect === 'sqlite'
        ? sqliteDialect(location.path)
        : postgresDialect(location.url, options)
    db = new Kysely<Database>({ dialect, plugins: [new CamelCasePlugin()] })
    await sql`select 1`.execute(db)
  } catch (err) {
    await db?.destroy().catch(() => undefined)
    throw new ControlPlaneError(
      'DATABASE_UNAVAILABLE',
      `cannot open the control plane's ${location.dialect} database at ${where}: ${reasonOf(err)}`,
      { cause: err, retryable: true, details: { dialect: location.dialect, where } },
    )
  }
  const opened = db
  return {
    db: opened,
    dialect: location.dialect,
    where,
    close: () => opened.destroy(),
  }
}
