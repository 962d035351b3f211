// SQLite through better-sqlite3: one file, WAL, foreign keys enforced, and migrations inside a
// transaction (Kysely's SqliteAdapter reports no transactional DDL, kysely-org/kysely#56).

import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'
import { SqliteAdapter, SqliteDialect, type DialectAdapter } from 'kysely'

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

class ControlPlaneSqliteDialect extends SqliteDialect {
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter()
  }
}

/** Opens (creating it and its directory if needed) the SQLite file at `path`; `:memory:` for tests. */
export function sqliteDialect(path: string): SqliteDialect {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const database = new Database(path)
  // WAL lets readers (the readiness probe, listings) run while a write transaction is open.
  database.pragma('journal_mode = WAL')
  database.pragma('foreign_keys = ON')
  // Another process holding the write lock (a `migrate` run) is waited for, not failed on.
  database.pragma('busy_timeout = 5000')
  return new ControlPlaneSqliteDialect({ database })
}
