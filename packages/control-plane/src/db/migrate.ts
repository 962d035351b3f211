// Brings the database's schema to this version's: every pending migration in one transaction
// (both dialects run DDL transactionally), so a failure leaves the database as it was.

import { Migrator, type Migration } from 'kysely/migration'
import { ControlPlaneError, reasonOf } from '../errors.js'
import type { ControlPlaneDb } from './database.js'
import { migrations as allMigrations } from './migrations/index.js'

/** Kysely's default; the name says whose bookkeeping it is to anyone looking at the database. */
const MIGRATION_TABLE = 'kysely_migration'

export interface MigrateOptions {
  /** The migrations to run instead of this version's (tests add failing or newer ones). */
  migrations?: Record<string, Migration>
}

export interface MigrateResult {
  /** Names of the migrations this call ran, in order; empty when the schema was current. */
  applied: string[]
  /** The latest migration the database now has. */
  current: string | undefined
}

/**
 * Runs the migrations the database does not have yet. Refuses (`DATABASE_TOO_NEW`) a database
 * that has migrations this version does not know: a newer control plane migrated it, and this
 * one would misread it. A failing migration is `MIGRATION_FAILED`, with every migration of this
 * call rolled back. Safe to call from several processes at once: PostgreSQL serialises them with
 * an advisory lock, SQLite with its write lock.
 */
export async function migrate(
  cp: ControlPlaneDb,
  options: MigrateOptions = {},
): Promise<MigrateResult> {
  const known = options.migrations ?? allMigrations(cp.dialect)
  const db = cp.db.withoutPlugins()
  await refuseNewerSchema(cp, known)
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(known) },
    migrationTableName: MIGRATION_TABLE,
  })
  const { error, results = [] } = await migrator.migrateToLatest()
  if (error !== undefined) {
    // Another process may have run a newer version's migrations since the check above.
    await refuseNewerSchema(cp, known)
    const failed = results.find((r) => r.status === 'Error')?.migrationName
    const why = reasonOf(error)
    throw new ControlPlaneError(
      'MIGRATION_FAILED',
      failed === undefined
        ? `migrating the database at ${cp.where} failed, nothing was changed: ${why}`
        : `migration ${failed} failed and was rolled back with the rest of this run; the database at ${cp.where} is as it was: ${why}`,
      { cause: error, details: failed === undefined ? {} : { migration: failed } },
    )
  }
  const executed = await executedMigrations(cp)
  return {
    applied: results.filter((r) => r.status === 'Success').map((r) => r.migrationName),
    current: executed.at(-1),
  }
}

async function refuseNewerSchema(
  cp: ControlPlaneDb,
  known: Record<string, Migration>,
): Promise<void> {
  const unknown = (await executedMigrations(cp)).filter((name) => !(name in known))
  if (unknown.length === 0) return
  throw new ControlPlaneError(
    'DATABASE_TOO_NEW',
    `the database at ${cp.where} was migrated by a newer version of dbsnap-control-plane ` +
      `(it has migration${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')}, which this version does not know): ` +
      'run that version or newer, or restore the backup taken before the upgrade',
    { details: { unknownMigrations: unknown } },
  )
}

/** Names of the migrations the database has, sorted; empty for a new database. */
async function executedMigrations(cp: ControlPlaneDb): Promise<string[]> {
  const db = cp.db.withoutPlugins().withTables<MigrationTables>()
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true })
  if (!tables.some((t) => t.name === MIGRATION_TABLE)) return []
  const rows = await db.selectFrom(MIGRATION_TABLE).select('name').execute()
  return rows.map((r) => r.name).sort()
}

type MigrationTables = {
  [MIGRATION_TABLE]: { name: string; timestamp: string }
}
