// The control plane's own database: SQLite through better-sqlite3 (one file, WAL mode).

import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import Database from 'better-sqlite3'

export type ControlPlaneDb = Database.Database

/** Opens (creating if needed) the SQLite database at `path`; `:memory:` for tests. */
export function openDatabase(path: string): ControlPlaneDb {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true })
  const db = new Database(path)
  db.pragma('journal_mode = WAL')
  db.pragma('foreign_keys = ON')
  db.pragma('busy_timeout = 5000')
  return db
}
