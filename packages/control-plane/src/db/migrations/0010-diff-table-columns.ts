// The column names of a diff's tables (issue 16): each page the agent uploads names the columns of
// the tables its changes are in; they wait here while the pages arrive and join the per-table
// counts when the job succeeds (decision 0030).

import type { Kysely } from 'kysely'
import type { Migration } from 'kysely/migration'

export function diffTableColumnsSchema(): Migration {
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('diff_table_columns')
        .addColumn('diff_id', 'text', (c) => c.notNull().references('diffs.id').onDelete('cascade'))
        .addColumn('table_name', 'text', (c) => c.notNull())
        // JSON `{ key, old, new }`: the engine's TableColumns.
        .addColumn('columns', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('diff_table_columns_pk', ['diff_id', 'table_name'])
        .execute()
    },
  }
}
