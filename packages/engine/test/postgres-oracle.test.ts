// The PostgreSQL schema oracle: a database using every object kind the adapter knows is
// snapshotted and restored into an empty one, and pg_dump --schema-only of both must be equal.

import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../../../test/postgres.js'
import { connectTarget } from '../src/adapters/connect.js'
import { diffSnapshots } from '../src/diff/diff.js'
import { exportSnapshot } from '../src/export/export.js'
import { Repository, type StoredSnapshot } from '../src/repository/repository.js'
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
  /** objects.sql + oracle.sql, and its snapshot: shared, the last test changes it. */
  let source: TestDatabase
  let snapshot: StoredSnapshot
  beforeAll(async () => {
    repository = await Repository.open(new MemoryStorage(), { create: true })
    source = await database()
    for (const file of ['objects.sql', 'oracle.sql']) await source.client.query(fixture(file))
    snapshot = await snap(source)
  })

  async function snap(db: TestDatabase): Promise<StoredSnapshot> {
    const { id } = await createSnapshot({ source: db.url, repository })
    return { id, manifest: await repository.readManifest(id) }
  }

  async function restoredCopy(from: StoredSnapshot): Promise<TestDatabase> {
    const copy = await database()
    const target = await connectTarget(copy.url)
    try {
      await restoreSnapshot({ repository, snapshot: from, target })
    } finally {
      await target.close()
    }
    return copy
  }

  it('pg_dump --schema-only of a restored copy of objects.sql + oracle.sql equals the original', async () => {
    const copy = await restoredCopy(snapshot)
    expect(schemaDump(copy).join('\n')).toEqual(schemaDump(source).join('\n'))
  })

  it('pg_dump --schema-only of a restored copy of all-types.sql equals the original', async () => {
    const other = await database()
    await other.client.query(fixture('all-types.sql'))
    const copy = await restoredCopy(await snap(other))
    expect(schemaDump(copy).join('\n')).toEqual(schemaDump(other).join('\n'))
  })

  it('pg_dump --schema-only of a copy loaded from the SQL export equals the original', async () => {
    let script = ''
    for await (const piece of exportSnapshot({ repository, snapshot, format: 'sql' }))
      script += piece
    const copy = await database()
    execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', copy.url], {
      input: script,
      stdio: ['pipe', 'ignore', 'pipe'],
    })
    expect(schemaDump(copy).join('\n')).toEqual(schemaDump(source).join('\n'))
  })

  it('schema diff reports a change to each object kind the oracle found missing', async () => {
    await source.client.query(`
      COMMENT ON FUNCTION public.safe_div(numeric, numeric) IS 'changed';
      DROP POLICY secrets_insert ON public.secrets;
      DROP TABLE public.names;
      DROP COLLATION public.german;
      DROP PUBLICATION sales_pub;
      ALTER EVENT TRIGGER on_create DISABLE;
      DROP OPERATOR public.=== (int, int);
      DROP TEXT SEARCH CONFIGURATION public.simple_english;
      DROP STATISTICS public.children_ab_stats;
      ALTER SEQUENCE public.cached_seq CACHE 1;`)
    const diff = diffSnapshots(
      { repository, snapshot },
      { repository, snapshot: await snap(source) },
      { schemaOnly: true },
    )
    expect(diff.schema.map((c) => `${c.change} ${c.kind} ${c.object}`)).toEqual([
      'changed sequence public.cached_seq',
      'removed table public.names',
      // Policies and extended statistics are table options.
      'changed table options public.children',
      'changed table options public.secrets',
      'removed collation public.german',
      'removed operator public.===(integer, integer)',
      'removed text search configuration public.simple_english',
      'changed event trigger on_create',
      'removed publication sales_pub',
      'changed comment function public.safe_div(numeric, numeric)',
    ])
  })
})
