// Runs work in a transaction, or in the caller's when given one: data functions that need
// several statements to commit together can then also be part of a route's transaction (the
// change and its audit event commit or roll back together). Kysely has no nested transactions.

import type { Kysely } from 'kysely'
import type { Database } from './schema.js'

export function inTransaction<T>(
  db: Kysely<Database>,
  work: (trx: Kysely<Database>) => Promise<T>,
): Promise<T> {
  return db.isTransaction ? work(db) : db.transaction().execute(work)
}
