// The two databases the control plane runs on, for suites that run the same cases on both
// (`describe.each(DIALECTS)`): a SQLite file in a temp directory and a throwaway PostgreSQL
// database on the test server.

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createTestDatabase } from '../../../test/postgres.js'
import {
  openDatabase,
  type ControlPlaneDb,
  type DatabaseLocation,
  type DialectName,
} from '../src/db/database.js'
import { migrate } from '../src/db/migrate.js'

export interface TestControlPlaneDb extends ControlPlaneDb {
  /** Where it is, to open it again (as another replica would). */
  location: DatabaseLocation
  /** Closes the database and deletes it. */
  drop(): Promise<void>
}

/** A new, empty database of `dialect` (no migrations run). */
export async function emptyDatabase(dialect: DialectName): Promise<TestControlPlaneDb> {
  if (dialect === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'dbsnap-cp-'))
    const location = { dialect, path: join(dir, 'control-plane.sqlite') }
    const cp = await openDatabase(location)
    return {
      ...cp,
      location,
      async drop() {
        await cp.close()
        await rm(dir, { recursive: true, force: true })
      },
    }
  }
  const pg = await createTestDatabase('dbsnap_it_cp')
  await pg.client.end()
  const location = { dialect, url: pg.url }
  const cp = await openDatabase(location)
  return {
    ...cp,
    location,
    async drop() {
      await cp.close()
      await pg.drop()
    },
  }
}

/** A new database of `dialect` with this version's schema. */
export async function migratedDatabase(dialect: DialectName): Promise<TestControlPlaneDb> {
  const cp = await emptyDatabase(dialect)
  await migrate(cp)
  return cp
}

export const DIALECTS: DialectName[] = ['sqlite', 'postgres']
