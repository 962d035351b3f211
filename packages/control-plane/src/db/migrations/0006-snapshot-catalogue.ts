// The snapshot catalogue (issue 15): what agents report of each snapshot they took — metadata
// from the engine's result, never rows. The repository stays the source of truth; this is the
// index the API and the web view list and filter.

import type { Kysely } from 'kysely'
import type { Migration } from 'kysely/migration'
import type { DialectName } from '../database.js'
import { columnTypes } from './column-types.js'

export function snapshotCatalogueSchema(dialect: DialectName): Migration {
  const { timestamp } = columnTypes(dialect)
  const count = dialect === 'postgres' ? 'bigint' : 'integer'
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('snapshots')
        .addColumn('project_id', 'text', (c) =>
          c.notNull().references('projects.id').onDelete('cascade'),
        )
        // The engine's snapshot id (a content hash): unique within a repository, so within a project.
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('connection_id', 'text', (c) =>
          c.references('connections.id').onDelete('set null'),
        )
        .addColumn('job_id', 'text', (c) => c.references('jobs.id').onDelete('set null'))
        .addColumn('agent_id', 'text', (c) => c.references('agents.id').onDelete('set null'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('repository', 'text', (c) => c.notNull())
        .addColumn('started_at', timestamp, (c) => c.notNull())
        .addColumn('finished_at', timestamp, (c) => c.notNull())
        .addColumn('duration_ms', count, (c) => c.notNull())
        .addColumn('tables', count, (c) => c.notNull())
        .addColumn('rows', count, (c) => c.notNull())
        .addColumn('bytes', count, (c) => c.notNull())
        .addColumn('new_bytes', count, (c) => c.notNull())
        .addColumn('chunks', count, (c) => c.notNull())
        .addColumn('reused_chunks', count, (c) => c.notNull())
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('warnings', 'text', (c) => c.notNull())
        .addColumn('created_at', timestamp, (c) => c.notNull())
        .addPrimaryKeyConstraint('snapshots_pk', ['project_id', 'id'])
        .execute()
      await db.schema
        .createIndex('snapshots_project_id_finished_at')
        .on('snapshots')
        .columns(['project_id', 'finished_at', 'id'])
        .execute()
      await db.schema
        .createIndex('snapshots_connection_id_finished_at')
        .on('snapshots')
        .columns(['connection_id', 'finished_at'])
        .execute()
    },
  }
}
