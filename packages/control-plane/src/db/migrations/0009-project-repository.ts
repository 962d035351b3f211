// Jobs of every kind from the API (issue 15): where a project's repository lives, the catalogue's
// engine, server version and schema fingerprint and its last verification, and the exports the
// control plane hands out (a presigned S3 URL the agent made, or a file it streamed here).

import type { Kysely } from 'kysely'
import type { Migration } from 'kysely/migration'
import type { DialectName } from '../database.js'
import { columnTypes } from './column-types.js'

export function projectRepositorySchema(dialect: DialectName): Migration {
  const { timestamp } = columnTypes(dialect)
  const count = dialect === 'postgres' ? 'bigint' : 'integer'
  return {
    async up(db: Kysely<unknown>) {
      // A directory on the agents' machines or `s3://bucket/prefix`; null: each agent's own.
      await db.schema.alterTable('projects').addColumn('repository', 'text').execute()
      // Null for snapshots catalogued before this migration.
      for (const column of ['engine', 'server_version', 'schema_fingerprint']) {
        await db.schema.alterTable('snapshots').addColumn(column, 'text').execute()
      }
      // The last verify job that checked the snapshot, and how many problems it found there.
      await db.schema.alterTable('snapshots').addColumn('verified_at', timestamp).execute()
      await db.schema.alterTable('snapshots').addColumn('verify_problems', count).execute()
      await db.schema
        .createTable('exports')
        .addColumn('job_id', 'text', (c) =>
          c.primaryKey().references('jobs.id').onDelete('cascade'),
        )
        .addColumn('project_id', 'text', (c) =>
          c.notNull().references('projects.id').onDelete('cascade'),
        )
        // `s3`: `url` is the agent's presigned GET URL; `local`: `file` is in the export directory.
        .addColumn('storage', 'text', (c) => c.notNull())
        .addColumn('url', 'text')
        .addColumn('file', 'text')
        .addColumn('file_name', 'text', (c) => c.notNull())
        .addColumn('bytes', count, (c) => c.notNull())
        .addColumn('created_at', timestamp, (c) => c.notNull())
        .addColumn('expires_at', timestamp, (c) => c.notNull())
        // A local export is served once: the download that claims it sets this.
        .addColumn('served_at', timestamp)
        .execute()
    },
  }
}
