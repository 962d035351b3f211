// SQLite through better-sqlite3: one file, WAL, foreign keys enforced, migrations inside a
// transaction (Kysely's SqliteAdapter reports no transactional DDL, kysely-org/kysely#56), and
// transactions that take the write lock when they begin.

import { dirname } from 'node:path'
import { makeDirectoriesSync } from '@dbsnap/engine/core'
import Database from 'better-sqlite3'
import {
  CompiledQuery,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type SqliteDatabase,
  type SqliteDialectConfig,
} from 'kysely'

/**
 * SQLite runs DDL inside transactions (CREATE, ALTER, DROP all roll back). Kysely's adapter says
 * it does not, only because some PRAGMAs are ignored inside one; saying it does makes the
 * Migrator run every pending migration in one transaction, so a failing one leaves the file as
 * it was. A migration that must rebuild a table uses `PRAGMA defer_foreign_keys`, which works
 * inside a transaction, not `PRAGMA foreign_keys = OFF`, which does not.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true
  }
}

/**
 * Transactions start with `BEGIN IMMEDIATE`: they take the write lock at once, waiting for it up
 * to the busy timeout. A plain (deferred) BEGIN reads first and asks for the lock at its first
 * write; two processes doing that at once deadlock, and SQLite fails one with "database is
 * locked" at once, without waiting. Every transaction of the data layer writes anyway.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'))
  }
}

class ControlPlaneSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig

  constructor(config: SqliteDialectConfig) {
    super(config)
    this.#config = config
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config)
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter()
  }
}

/**
 * Opens (creating it and its directory if needed) the SQLite file at `path`; `:memory:` for tests.
 * Directories it creates are the owner's alone (0700): the file and the key files beside it hold
 * sessions, hashes and the credentials' key.
 */
export function sqliteDialect(path: string): SqliteDialect {
  if (path !== ':memory:') makeDirectoriesSync(dirname(path), 0o700)
  const database = new Database(path)
  // WAL lets readers (the readiness probe, listings) run while a write transaction is open.
  database.pragma('journal_mode = WAL')
  // In WAL mode, NORMAL syncs at checkpoints, not at every commit: the file cannot be corrupted,
  // and a crash of the process loses nothing; a power cut may lose the last commits (SQLite's
  // recommended setting for WAL). FULL costs an fsync per commit: per rate-limited request.
  database.pragma('synchronous = NORMAL')
  database.pragma('foreign_keys = ON')
  // Another process holding the write lock (a `migrate` run) is waited for, not failed on.
  database.pragma('busy_timeout = 5000')
  return new ControlPlaneSqliteDialect({ database: withStatementCache(database) })
}

/** Distinct statements kept prepared; the data layer has a few dozen. */
const STATEMENT_CACHE_SIZE = 256

/**
 * The database as Kysely's driver uses it, with prepared statements kept by their SQL: the driver
 * prepares every query anew, which took more CPU than running it (a tenth of a request's time
 * in a profile of the connection list). A statement still iterating (a stream) is not shared.
 */
function withStatementCache(database: Database.Database): SqliteDatabase {
  const cache = new Map<string, Database.Statement>()
  return {
    close: () => database.close(),
    prepare(sql: string) {
      const cached = cache.get(sql)
      if (cached !== undefined && !cached.busy) return cached
      const statement = database.prepare(sql)
      if (cached === undefined) {
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!)
        cache.set(sql, statement)
      }
      return statement
    },
  }
}
