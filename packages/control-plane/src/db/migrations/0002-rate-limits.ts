// Rate-limit counters (fixed windows) kept in the control plane's own database, so that every
// replica counts against the same numbers with no other service to run (decision 0022).

import type { Kysely } from 'kysely'
import type { Migration } from 'kysely/migration'
import type { DialectName } from '../database.js'
import { columnTypes } from './column-types.js'

export function rateLimitsSchema(dialect: DialectName): Migration {
  const { timestamp } = columnTypes(dialect)
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('rate_limits')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('window_start', timestamp, (c) => c.notNull())
        .addColumn('hits', 'integer', (c) => c.notNull())
        .execute()
      await db.schema
        .createIndex('rate_limits_window_start')
        .on('rate_limits')
        .column('window_start')
        .execute()
    },
  }
}
