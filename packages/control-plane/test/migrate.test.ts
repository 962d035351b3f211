// Migrations on both dialects: run once, fail without a trace, refuse a newer schema; and a
// database that cannot be reached is one clear error.

import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sql } from 'kysely'
import type { Migration } from 'kysely/migration'
import { afterEach, describe, expect, it } from 'vitest'
import { testServices, withCredentials, withDatabase } from '../../../test/services.js'
import { openDatabase } from '../src/db/database.js'
import { migrate } from '../src/db/migrate.js'
import { migrations } from '../src/db/migrations/index.js'
import { DIALECTS, emptyDatabase, type TestControlPlaneDb } from './dialects.js'

/** User tables of the database (not Kysely's bookkeeping). */
async function tableNames(cp: TestControlPlaneDb): Promise<string[]> {
  const tables = await cp.db.introspection.getTables()
  return tables.map((t) => t.name).sort()
}

/** Creates a table and a row, then fails: what it did must not survive. */
const failing: Migration = {
  async up(db) {
    await db.schema.createTable('half_done').addColumn('id', 'integer').execute()
    await sql`insert into half_done (id) values (1)`.execute(db)
    await sql`select * from no_such_table`.execute(db)
  },
}

describe.each(DIALECTS)('migrations on %s', (dialect) => {
  const ALL = Object.keys(migrations(dialect))
  const LATEST = ALL.at(-1)
  let cp: TestControlPlaneDb
  afterEach(async () => {
    await cp.drop()
  })

  it('creates the schema once, then has nothing to do', async () => {
    cp = await emptyDatabase(dialect)
    expect(await migrate(cp)).toEqual({ applied: ALL, current: LATEST })
    expect(await migrate(cp)).toEqual({ applied: [], current: LATEST })
    expect(await tableNames(cp)).toEqual([
      'agents',
      'api_key_usage',
      'api_keys',
      'audit_chain_heads',
      'audit_events',
      'connections',
      'diff_changes',
      'diff_table_columns',
      'diffs',
      'exports',
      'forgotten_snapshots',
      'job_events',
      'job_keys',
      'jobs',
      'memberships',
      'orgs',
      'projects',
      'rate_limits',
      'refresh_tokens',
      'schedules',
      'sessions',
      'setup_tokens',
      'snapshots',
      'users',
    ])
  })

  it('rolls back every migration of a run when one fails', async () => {
    cp = await emptyDatabase(dialect)
    const run = migrate(cp, { migrations: { ...migrations(dialect), '9999-fails': failing } })
    await expect(run).rejects.toMatchObject({
      code: 'MIGRATION_FAILED',
      details: { migration: '9999-fails' },
      message: expect.stringContaining('9999-fails failed and was rolled back') as string,
    })
    // The others ran in the same transaction as the failing one: none left anything.
    expect(await tableNames(cp)).toEqual([])
    expect(await migrate(cp)).toEqual({ applied: ALL, current: LATEST })
  })

  it('leaves a migrated database as it was when the next migration fails', async () => {
    cp = await emptyDatabase(dialect)
    await migrate(cp)
    const before = await tableNames(cp)
    await expect(
      migrate(cp, { migrations: { ...migrations(dialect), '9999-fails': failing } }),
    ).rejects.toMatchObject({ code: 'MIGRATION_FAILED' })
    expect(await tableNames(cp)).toEqual(before)
    expect(await migrate(cp)).toEqual({ applied: [], current: LATEST })
  })

  it('refuses a database migrated by a newer version', async () => {
    cp = await emptyDatabase(dialect)
    const newer = {
      ...migrations(dialect),
      '9999-from-the-future': { up: () => Promise.resolve() },
    }
    await migrate(cp, { migrations: newer })
    await expect(migrate(cp)).rejects.toMatchObject({
      code: 'DATABASE_TOO_NEW',
      details: { unknownMigrations: ['9999-from-the-future'] },
      message: expect.stringContaining('migrated by a newer version') as string,
    })
  })
})

describe('opening a database that is not there', () => {
  it('is DATABASE_UNAVAILABLE for a PostgreSQL server that refuses, without the password', async () => {
    const url = withCredentials(
      withDatabase('postgres://127.0.0.1:1/', 'cp'),
      'cp',
      'hunter2-secret',
    )
    const err: unknown = await openDatabase({ dialect: 'postgres', url }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'DATABASE_UNAVAILABLE', retryable: true })
    expect((err as Error).message).toMatch(
      /postgres database at postgres:\/\/cp@127\.0\.0\.1:1\/cp: .*ECONNREFUSED/,
    )
    expect((err as Error).message).not.toContain('hunter2')
  })

  it('is DATABASE_UNAVAILABLE for a PostgreSQL database that does not exist', async () => {
    const url = withDatabase(testServices().pgUrl, 'dbsnap_it_cp_missing')
    await expect(openDatabase({ dialect: 'postgres', url })).rejects.toMatchObject({
      code: 'DATABASE_UNAVAILABLE',
      message: expect.stringContaining('does not exist') as string,
    })
  })

  it('is DATABASE_UNAVAILABLE for a SQLite file that cannot be created', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dbsnap-cp-'))
    try {
      // Its directory would have to be where a file is.
      await writeFile(join(dir, 'a-file'), '')
      await expect(
        openDatabase({ dialect: 'sqlite', path: join(dir, 'a-file', 'control-plane.sqlite') }),
      ).rejects.toMatchObject({ code: 'DATABASE_UNAVAILABLE' })
    } finally {
      await rm(dir, { recursive: true })
    }
  })
})
