// First run: the one-time setup links that let whoever holds one create the instance's
// administrator, and the mark on that account.

import type { Kysely } from 'kysely'
import type { Migration } from 'kysely/migration'
import type { DialectName } from '../database.js'
import { columnTypes } from './column-types.js'

export function instanceSetupSchema(dialect: DialectName): Migration {
  const { timestamp } = columnTypes(dialect)
  return {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('users').addColumn('instance_admin_at', timestamp).execute()
      await db.schema
        .createTable('setup_tokens')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('created_at', timestamp, (c) => c.notNull())
        .addColumn('expires_at', timestamp, (c) => c.notNull())
        .addColumn('used_at', timestamp)
        .execute()
    },
  }
}
