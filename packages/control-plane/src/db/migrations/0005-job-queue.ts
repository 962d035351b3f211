// The job queue (issue 15): the agents that run jobs, the jobs themselves (one engine job spec
// each, leased to one agent at a time) and each job's history of events.

import { sql, type Kysely } from 'kysely'
import type { Migration } from 'kysely/migration'
import type { DialectName } from '../database.js'
import { columnTypes } from './column-types.js'

export function jobQueueSchema(dialect: DialectName): Migration {
  const { timestamp } = columnTypes(dialect)
  return {
    async up(db: Kysely<unknown>) {
      // An agent is created by an admin with a one-time registration token, which it trades for
      // its own credential; both are stored hashed. Revoked agents stay, for the jobs' history.
      // The control plane's embedded agent has no project: it runs every project's jobs.
      await db.schema
        .createTable('agents')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) => c.references('projects.id').onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('registration_token_hash', 'text', (c) => c.unique())
        .addColumn('registration_expires_at', timestamp)
        .addColumn('credential_hash', 'text', (c) => c.unique())
        .addColumn('registered_at', timestamp)
        .addColumn('version', 'text')
        .addColumn('hostname', 'text')
        .addColumn('last_seen_at', timestamp)
        .addColumn('created_by', 'text', (c) => c.references('users.id').onDelete('set null'))
        .addColumn('created_at', timestamp, (c) => c.notNull())
        .addColumn('revoked_at', timestamp)
        .addUniqueConstraint('agents_project_id_name', ['project_id', 'name'])
        .execute()

      await db.schema
        .createTable('jobs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) =>
          c.notNull().references('projects.id').onDelete('cascade'),
        )
        // A job of a deleted connection goes with it: its spec names what no longer exists.
        .addColumn('connection_id', 'text', (c) =>
          c.references('connections.id').onDelete('cascade'),
        )
        .addColumn('kind', 'text', (c) =>
          c
            .notNull()
            .check(
              sql`kind in ('snapshot', 'diff', 'verify', 'retention', 'export', 'connection-test', 'restore')`,
            ),
        )
        // The engine's job spec as JSON, with connections named by id: never a secret.
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) =>
          c
            .notNull()
            .check(
              sql`state in ('pending', 'running', 'succeeded', 'failed', 'dead', 'cancelled')`,
            ),
        )
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('max_attempts', 'integer', (c) => c.notNull())
        .addColumn('run_after', timestamp, (c) => c.notNull())
        .addColumn('lease_id', 'text')
        .addColumn('leased_by', 'text', (c) => c.references('agents.id').onDelete('set null'))
        .addColumn('lease_expires_at', timestamp)
        .addColumn('cancel_requested_at', timestamp)
        .addColumn('progress', 'text')
        .addColumn('result', 'text')
        .addColumn('error', 'text')
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', timestamp, (c) => c.notNull())
        .addColumn('updated_at', timestamp, (c) => c.notNull())
        .addColumn('started_at', timestamp)
        .addColumn('finished_at', timestamp)
        // A running job has a lease; no other state does.
        .addCheckConstraint(
          'jobs_lease',
          sql`(state = 'running') = (lease_id is not null and lease_expires_at is not null)`,
        )
        .execute()
      // What a lease looks for: the project's due pending jobs, oldest first; and expired leases.
      await db.schema
        .createIndex('jobs_lease_order')
        .on('jobs')
        .columns(['project_id', 'state', 'run_after'])
        .execute()
      await db.schema
        .createIndex('jobs_state_lease_expires_at')
        .on('jobs')
        .columns(['state', 'lease_expires_at'])
        .execute()
      await db.schema
        .createIndex('jobs_project_id_created_at')
        .on('jobs')
        .columns(['project_id', 'created_at'])
        .execute()
      await db.schema.createIndex('jobs_connection_id').on('jobs').column('connection_id').execute()

      await db.schema
        .createTable('job_events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('job_id', 'text', (c) => c.notNull().references('jobs.id').onDelete('cascade'))
        .addColumn('at', timestamp, (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('agent_id', 'text')
        .addColumn('attempt', 'integer', (c) => c.notNull())
        .addColumn('details', 'text', (c) => c.notNull())
        .execute()
      await db.schema
        .createIndex('job_events_job_id_id')
        .on('job_events')
        .columns(['job_id', 'id'])
        .execute()
    },
  }
}
