// Diffs (issue 15): a diff a user asked for (two catalogue snapshots, or one and the live
// database), run by an agent as a `diff` job, and the row changes the agent uploads in pages.
// A diff's state is its job's; its summary, schema changes and per-table counts are written when
// the job succeeds. Changes are stored one row each, ordered by (table, seq), so a page of the
// API is an index range (decision 0030).

import { sql, type Kysely } from 'kysely'
import type { Migration } from 'kysely/migration'
import type { DialectName } from '../database.js'
import { columnTypes } from './column-types.js'

export function diffsSchema(dialect: DialectName): Migration {
  const { timestamp } = columnTypes(dialect)
  const count = dialect === 'postgres' ? 'bigint' : 'integer'
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('diffs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) =>
          c.notNull().references('projects.id').onDelete('cascade'),
        )
        .addColumn('job_id', 'text', (c) =>
          c.notNull().unique().references('jobs.id').onDelete('cascade'),
        )
        // The connection of `from` (the live side's too, for a diff against the live database).
        .addColumn('connection_id', 'text', (c) =>
          c.references('connections.id').onDelete('set null'),
        )
        .addColumn('from_snapshot_id', 'text', (c) => c.notNull())
        .addColumn('from_name', 'text', (c) => c.notNull())
        .addColumn('from_taken_at', timestamp, (c) => c.notNull())
        // Null for a diff against the live database.
        .addColumn('to_snapshot_id', 'text')
        .addColumn('to_name', 'text')
        .addColumn('to_taken_at', timestamp)
        // JSON `{ tables?, exclude?, schemaOnly?, dataOnly? }` as asked.
        .addColumn('options', 'text', (c) => c.notNull())
        // The lease whose pages are stored: pages of another lease (a new attempt) start over.
        .addColumn('lease_id', 'text')
        .addColumn('summary', 'text')
        .addColumn('schema_changes', 'text')
        .addColumn('table_counts', 'text')
        .addColumn('warnings', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', timestamp, (c) => c.notNull())
        .execute()
      await db.schema
        .createIndex('diffs_project_id_id')
        .on('diffs')
        .columns(['project_id', 'id'])
        .execute()

      await db.schema
        .createTable('diff_changes')
        .addColumn('diff_id', 'text', (c) => c.notNull().references('diffs.id').onDelete('cascade'))
        // The order the agent produced it in: page × page size + its index in the page.
        .addColumn('seq', count, (c) => c.notNull())
        .addColumn('page', 'integer', (c) => c.notNull())
        .addColumn('table_name', 'text', (c) => c.notNull())
        .addColumn('change', 'text', (c) =>
          c.notNull().check(sql`change in ('added', 'removed', 'modified')`),
        )
        // What `q` searches: the key's and the values' text forms, lower-cased.
        .addColumn('search', 'text', (c) => c.notNull())
        // JSON of the change (the engine's RowChange).
        .addColumn('body', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('diff_changes_pk', ['diff_id', 'seq'])
        .execute()
      await db.schema
        .createIndex('diff_changes_diff_id_table_seq')
        .on('diff_changes')
        .columns(['diff_id', 'table_name', 'seq'])
        .execute()
      await db.schema
        .createIndex('diff_changes_diff_id_change_table_seq')
        .on('diff_changes')
        .columns(['diff_id', 'change', 'table_name', 'seq'])
        .execute()
    },
  }
}
