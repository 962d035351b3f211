// The first schema: tenancy (users, orgs, memberships, projects), connections, sessions with
// their refresh tokens, API keys with daily usage, and the append-only audit log.

import { sql, type Kysely } from 'kysely'
import type { Migration } from 'kysely/migration'
import type { DialectName } from '../database.js'
import { columnTypes } from './column-types.js'

export function initialSchema(dialect: DialectName): Migration {
  const { timestamp, day } = columnTypes(dialect)
  return {
    // Migrations see the database without CamelCasePlugin: names here are the SQL names.
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('users')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('email_normalized', 'text', (c) => c.notNull().unique())
        .addColumn('password_hash', 'text')
        .addColumn('email_verified_at', timestamp)
        .addColumn('created_at', timestamp, (c) => c.notNull())
        .addColumn('updated_at', timestamp, (c) => c.notNull())
        .execute()

      await db.schema
        .createTable('orgs')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('slug', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', timestamp, (c) => c.notNull())
        .execute()

      await db.schema
        .createTable('memberships')
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('role', 'text', (c) =>
          c.notNull().check(sql`role in ('admin', 'member', 'read-only')`),
        )
        .addColumn('created_at', timestamp, (c) => c.notNull())
        .addPrimaryKeyConstraint('memberships_pk', ['org_id', 'user_id'])
        .execute()
      await db.schema
        .createIndex('memberships_user_id')
        .on('memberships')
        .column('user_id')
        .execute()

      // An organisation with projects cannot be deleted (RESTRICT): its projects, with their
      // connections, keys and (later) snapshots, are deleted first, on purpose, one by one.
      await db.schema
        .createTable('projects')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('restrict'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('slug', 'text', (c) => c.notNull())
        .addColumn('created_at', timestamp, (c) => c.notNull())
        .addUniqueConstraint('projects_org_id_slug', ['org_id', 'slug'])
        // Lets other tables say "this project, of this organisation" in one foreign key.
        .addUniqueConstraint('projects_id_org_id', ['id', 'org_id'])
        .execute()

      await db.schema
        .createTable('connections')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('project_id', 'text', (c) =>
          c.notNull().references('projects.id').onDelete('cascade'),
        )
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('engine', 'text', (c) =>
          c.notNull().check(sql`engine in ('postgres', 'mysql', 'mongodb')`),
        )
        .addColumn('redacted_url', 'text', (c) => c.notNull())
        .addColumn('credential_ciphertext', 'text')
        .addColumn('credential_key_id', 'text')
        .addColumn('credential_ref', 'text')
        .addColumn('created_at', timestamp, (c) => c.notNull())
        .addColumn('updated_at', timestamp, (c) => c.notNull())
        .addUniqueConstraint('connections_project_id_name', ['project_id', 'name'])
        // A ciphertext always names its key, and a credential is stored or referenced, not both.
        .addCheckConstraint(
          'connections_credential',
          sql`(credential_ciphertext is null) = (credential_key_id is null)
              and (credential_ciphertext is null or credential_ref is null)`,
        )
        .execute()

      await db.schema
        .createTable('sessions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
        .addColumn('ip', 'text')
        .addColumn('user_agent', 'text')
        .addColumn('created_at', timestamp, (c) => c.notNull())
        .addColumn('last_seen_at', timestamp, (c) => c.notNull())
        .addColumn('expires_at', timestamp, (c) => c.notNull())
        .addColumn('revoked_at', timestamp)
        .addColumn('revoked_reason', 'text')
        .execute()
      await db.schema.createIndex('sessions_user_id').on('sessions').column('user_id').execute()

      await db.schema
        .createTable('refresh_tokens')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('session_id', 'text', (c) =>
          c.notNull().references('sessions.id').onDelete('cascade'),
        )
        .addColumn('created_at', timestamp, (c) => c.notNull())
        .addColumn('rotated_at', timestamp)
        .execute()
      await db.schema
        .createIndex('refresh_tokens_session_id')
        .on('refresh_tokens')
        .column('session_id')
        .execute()

      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('prefix', 'text', (c) => c.notNull().unique())
        .addColumn('key_hash', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('org_id', 'text', (c) => c.notNull().references('orgs.id').onDelete('cascade'))
        .addColumn('project_id', 'text')
        // A key dies with its creator: it may do no more than the creator's role allows.
        .addColumn('created_by', 'text', (c) =>
          c.notNull().references('users.id').onDelete('cascade'),
        )
        .addColumn('created_at', timestamp, (c) => c.notNull())
        .addColumn('expires_at', timestamp)
        .addColumn('last_used_at', timestamp)
        .addColumn('revoked_at', timestamp)
        .addColumn('rotated_from_id', 'text', (c) =>
          c.references('api_keys.id').onDelete('set null'),
        )
        // A project key's project is one of its organisation's.
        .addForeignKeyConstraint(
          'api_keys_project',
          ['project_id', 'org_id'],
          'projects',
          ['id', 'org_id'],
          (fk) => fk.onDelete('cascade'),
        )
        .execute()
      await db.schema.createIndex('api_keys_org_id').on('api_keys').column('org_id').execute()
      await db.schema
        .createIndex('api_keys_project_id')
        .on('api_keys')
        .column('project_id')
        .execute()

      await db.schema
        .createTable('api_key_usage')
        .addColumn('api_key_id', 'text', (c) =>
          c.notNull().references('api_keys.id').onDelete('cascade'),
        )
        .addColumn('day', day, (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('api_key_usage_pk', ['api_key_id', 'day'])
        .execute()

      // No foreign keys: the log outlives the users, keys and organisations it names.
      await db.schema
        .createTable('audit_events')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('chain', 'text', (c) => c.notNull())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('occurred_at', timestamp, (c) => c.notNull())
        .addColumn('actor_type', 'text', (c) =>
          c.notNull().check(sql`actor_type in ('user', 'api_key', 'system', 'anonymous')`),
        )
        .addColumn('actor_id', 'text')
        .addColumn('org_id', 'text')
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target_type', 'text')
        .addColumn('target_id', 'text')
        .addColumn('ip', 'text')
        .addColumn('trace_id', 'text')
        .addColumn('details', 'text', (c) => c.notNull())
        .addColumn('prev_hash', 'text', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .addUniqueConstraint('audit_events_chain_seq', ['chain', 'seq'])
        .execute()
      await db.schema
        .createIndex('audit_events_org_id_occurred_at')
        .on('audit_events')
        .columns(['org_id', 'occurred_at'])
        .execute()
      await appendOnly(db, dialect, 'audit_events')
      // Not part of the evidence (verification reads only audit_events): where appends queue.
      await db.schema
        .createTable('audit_chain_heads')
        .addColumn('chain', 'text', (c) => c.primaryKey())
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('hash', 'text', (c) => c.notNull())
        .execute()
    },
  }
}

/** Triggers that refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) of `table`'s rows. */
async function appendOnly(db: Kysely<unknown>, dialect: DialectName, table: string): Promise<void> {
  const message = `${table} is append-only`
  if (dialect === 'postgres') {
    await sql
      .raw(
        `create function ${table}_append_only() returns trigger language plpgsql as $$
         begin raise exception '${message}' using errcode = 'restrict_violation'; end $$`,
      )
      .execute(db)
    await sql
      .raw(
        `create trigger ${table}_no_change before update or delete on ${table}
         for each row execute function ${table}_append_only()`,
      )
      .execute(db)
    await sql
      .raw(
        `create trigger ${table}_no_truncate before truncate on ${table}
         for each statement execute function ${table}_append_only()`,
      )
      .execute(db)
    return
  }
  for (const event of ['update', 'delete']) {
    await sql
      .raw(
        `create trigger ${table}_no_${event} before ${event} on ${table}
         begin select raise(abort, '${message}'); end`,
      )
      .execute(db)
  }
}
