// Schedules (issue 15): cron expressions with a time zone per connection and the retention
// policy run after each scheduled snapshot; and job keys, which make creating a job idempotent:
// one job per (schedule, scheduled time) however many agents ask, and one per report an agent
// kept in its outbox while the control plane was away, however often it is delivered.

import type { Kysely } from 'kysely'
import type { Migration } from 'kysely/migration'
import type { DialectName } from '../database.js'
import { columnTypes } from './column-types.js'

export function schedulesSchema(dialect: DialectName): Migration {
  const { timestamp } = columnTypes(dialect)
  return {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('schedules')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) =>
          c.notNull().references('projects.id').onDelete('cascade'),
        )
        .addColumn('connection_id', 'text', (c) =>
          c.notNull().references('connections.id').onDelete('cascade'),
        )
        .addColumn('cron', 'text', (c) => c.notNull())
        .addColumn('timezone', 'text', (c) => c.notNull())
        // No booleans: a schedule is enabled while this is null.
        .addColumn('paused_at', timestamp)
        // JSON of the retention policy, or null for none.
        .addColumn('retention', 'text')
        .addColumn('last_run_at', timestamp)
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', timestamp, (c) => c.notNull())
        .addColumn('updated_at', timestamp, (c) => c.notNull())
        .execute()
      await db.schema
        .createIndex('schedules_connection_id')
        .on('schedules')
        .column('connection_id')
        .execute()
      await db.schema
        .createIndex('schedules_project_id')
        .on('schedules')
        .column('project_id')
        .execute()

      await db.schema
        .createTable('job_keys')
        // `schedule:<id>:<scheduled time>` or `local:<agent id>:<client job id>`.
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
        .execute()

      // The snapshots a retention forgot: a report of one that arrives later (an agent's outbox,
      // a result after its lease) does not bring it back into the catalogue.
      await db.schema
        .createTable('forgotten_snapshots')
        .addColumn('project_id', 'text', (c) =>
          c.notNull().references('projects.id').onDelete('cascade'),
        )
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('forgotten_at', timestamp, (c) => c.notNull())
        .addPrimaryKeyConstraint('forgotten_snapshots_pk', ['project_id', 'id'])
        .execute()
    },
  }
}
