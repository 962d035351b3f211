// The PostgreSQL schema oracle: a database using every object kind the adapter knows is
// snapshotted and restored into an empty one, and pg_dump --schema-only of both must be equal.

import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../../../test/postgres.js'
import { connectTarget } from '../src/connection/connect.js'
import { Repository } from '../src/repository/repository.js'
import { restoreSnapshot } from '../src/restore/restore.js'
import { createSnapshot } from '../src/snapshot/snapshot.js'
import { MemoryStorage } from '../src/storage/memory/memory-storage.js'

const fixture = (name: string): string =>
  readFileSync(new URL(`fixtures/postgres/${name}`, import.meta.url), 'utf8')

const databases: TestDatabase[] = []
afterAll(async () => {
  for (const db of databases) await db.drop().catch(() => undefined)
})

async function database(): Promise<TestDatabase> {
  const db = await createTestDatabase('dbsnap_it_oracle')
  databases.push(db)
  return db
}

/**
 * `pg_dump --schema-only --no-owner --no-privileges` of a database, with only what says
 * nothing about the schema taken out: comment lines (pg_dump's headers name the database),
 * blank lines, session `SET`s and the `set_config('search_path', …)` pg_dump emits as one, and
 * the `\restrict` / `\unrestrict` lines whose key is random on every run.
 */
function schemaDump(db: TestDatabase): string[] {
  const text = execFileSync(
    'pg_dump',
    ['--schema-only', '--no-owner', '--no-privileges', '-d', db.url],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  )
  return text
    .split('\n')
    .filter(
      (line) =>
        line.trim() !== '' &&
        !line.startsWith('--') &&
        !line.startsWith('SET ') &&
        !line.startsWith("SELECT pg_catalog.set_config('search_path'") &&
        !/^\\(un)?restrict /.test(line),
    )
}

describe('PostgreSQL schema oracle', () => {
  let repository: Repository
  beforeAll(async () => {
    repository = await Repository.open(new MemoryStorage(), { create: true })
  })

  it.each([
    ['objects.sql + oracle.sql', ['objects.sql', 'oracle.sql']],
    ['all-types.sql', ['all-types.sql']],
  ])('pg_dump --schema-only of a restored copy of %s equals the original', async (_, files) => {
    const source = await database()
    for (const file of files) await source.client.query(fixture(file))
    const { id } = await createSnapshot({ source: source.url, repository })
    const snapshot = { id, manifest: await repository.readManifest(id) }
    const copy = await database()
    const target = await connectTarget(copy.url)
    try {
      await restoreSnapshot({ repository, snapshot, target })
    } finally {
      await target.close()
    }
    expect(schemaDump(copy).join('\n')).toEqual(schemaDump(source).join('\n'))
  })
})
