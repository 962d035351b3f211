// The database engines DBSnap knows, registered in one place: per engine, how names default, how
// to open it as a snapshot source and as a restore target, and which SQL dialect exports it.
// Drivers load lazily, so a command that touches one engine does not pay for loading the others.

import type { Engine } from '../connection/url.js'
import type { ConnectFn, ConnectOptions } from './source-adapter.js'
import { DEFAULT_TIMEOUT_MS } from './source-adapter.js'
import type { ConnectTargetFn, SqlScript } from './target-adapter.js'

/** The SQL dialects `dbsnap export --format sql` writes. */
export type SqlDialect = 'postgres' | 'mysql'

/** What the engine-independent code needs to know of one engine. */
export interface EngineModule {
  readonly engine: Engine
  /**
   * The schema a table name without one belongs to (`--tables orders`): `public` on
   * PostgreSQL; `''` where a connection's database is its one schema (MySQL, MongoDB).
   */
  readonly defaultSchema: string
  /** Gives up connecting after this long when `ConnectOptions.timeoutMs` is not set. */
  readonly timeoutMs: number
  /** Opens the source adapter (`<engine>-source.ts`). */
  readonly connectSource: ConnectFn
  /** Opens the restore target (`<engine>-target.ts`). */
  readonly connectTarget: ConnectTargetFn
  /** The SQL dialect an export of its snapshots writes and its writer; null: no SQL form. */
  readonly sql: { readonly dialect: SqlDialect; readonly script: () => Promise<SqlScript> } | null
}

/** The options an adapter is opened with: the engine's timeout unless the caller set one. */
function withDefaults(options: ConnectOptions, timeoutMs: number): ConnectOptions {
  return { ...options, timeoutMs: options.timeoutMs ?? timeoutMs }
}

const postgres: EngineModule = {
  engine: 'postgres',
  defaultSchema: 'public',
  timeoutMs: DEFAULT_TIMEOUT_MS,
  connectSource: async (target, options) =>
    (await import('./postgres/postgres-source.js')).connectPostgres(
      target,
      withDefaults(options, postgres.timeoutMs),
    ),
  connectTarget: async (target, options) =>
    (await import('./postgres/postgres-target.js')).connectPostgresTarget(
      target,
      withDefaults(options, postgres.timeoutMs),
    ),
  sql: {
    dialect: 'postgres',
    script: async () => (await import('./postgres/postgres-sql.js')).postgresSql,
  },
}

const mysql: EngineModule = {
  engine: 'mysql',
  defaultSchema: '',
  timeoutMs: DEFAULT_TIMEOUT_MS,
  connectSource: async (target, options) =>
    (await import('./mysql/mysql-source.js')).connectMysql(
      target,
      withDefaults(options, mysql.timeoutMs),
    ),
  connectTarget: async (target, options) =>
    (await import('./mysql/mysql-target.js')).connectMysqlTarget(
      target,
      withDefaults(options, mysql.timeoutMs),
    ),
  sql: { dialect: 'mysql', script: async () => (await import('./mysql/mysql-sql.js')).mysqlSql },
}

const mongodb: EngineModule = {
  engine: 'mongodb',
  defaultSchema: '',
  timeoutMs: DEFAULT_TIMEOUT_MS,
  connectSource: async (target, options) =>
    (await import('./mongo/mongo-source.js')).connectMongo(
      target,
      withDefaults(options, mongodb.timeoutMs),
    ),
  connectTarget: async (target, options) =>
    (await import('./mongo/mongo-target.js')).connectMongoTarget(
      target,
      withDefaults(options, mongodb.timeoutMs),
    ),
  sql: null,
}

/** Every engine, by name. */
export const ENGINES: Readonly<Record<Engine, EngineModule>> = { postgres, mysql, mongodb }

/**
 * The registry entry of `engine`.
 *
 * @example
 * selectTables(schema.tables, { include, defaultSchema: engineModule(schema.engine).defaultSchema })
 */
export function engineModule(engine: Engine): EngineModule {
  return ENGINES[engine]
}
