// The same rows get the same chunks wherever they live: a table and its copy in another database,
// with different planner statistics (one analyzed, the other bloated by updates and vacuumed),
// snapshotted into one repository, store the same chunk ids, and a diff between them reads none.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../../../test/postgres.js'
import { diffSnapshots } from '../src/diff/diff.js'
import { Repository, type StoredSnapshot } from '../src/repository/repository.js'
import { createSnapshot } from '../src/snapshot/snapshot.js'
import { MemoryStorage } from '../src/storage/memory/memory-storage.js'

const TABLE = `
  CREATE TABLE items (id int PRIMARY KEY, name text, n numeric);
  INSERT INTO items SELECT i, repeat(md5(i::text), 1 + i % 5), i * 1.5 FROM generate_series(1, 40000) i;
`

describe('chunk boundaries follow the rows, not the statistics', () => {
  let original: TestDatabase
  let copy: TestDatabase
  let repository: Repository

  beforeAll(async () => {
    original = await createTestDatabase('dbsnap_it_bounds_a')
    copy = await createTestDatabase('dbsnap_it_bounds_b')
    await original.client.query(`${TABLE} ANALYZE items;`)
    // The copy: the same rows, but dead tuples and no fresh statistics.
    await copy.client.query(TABLE)
    for (let pass = 0; pass < 3; pass++) await copy.client.query(`UPDATE items SET n = n`)
    await copy.client.query(`VACUUM items`)
    repository = await Repository.open(new MemoryStorage(), { create: true })
  })

  afterAll(async () => {
    await original?.drop()
    await copy?.drop()
  })

  it('stores identical chunk id lists, and a diff between them reads nothing', async () => {
    const stats = async (db: TestDatabase): Promise<string> =>
      JSON.stringify(
        (
          await db.client.query<{ relpages: number; reltuples: number }>(
            `SELECT relpages, reltuples FROM pg_class WHERE relname = 'items'`,
          )
        ).rows[0],
      )
    expect(await stats(original)).not.toEqual(await stats(copy))
    const snap = async (db: TestDatabase): Promise<StoredSnapshot> => {
      const { id } = await createSnapshot({ source: db.url, repository })
      return { id, manifest: await repository.readManifest(id) }
    }
    const a = await snap(original)
    const b = await snap(copy)
    const chunks = async (s: StoredSnapshot): Promise<string[]> =>
      (await repository.readIndex(s.manifest.tables[0]!.index)).map((c) => c.id)
    expect((await chunks(a)).length).toBeGreaterThan(2)
    expect(await chunks(b)).toEqual(await chunks(a))
    expect(b.manifest.totals.newObjects).toBe(0)

    const diff = diffSnapshots({ repository, snapshot: a }, { repository, snapshot: b })
    for await (const change of diff.rowChanges()) expect.unreachable(JSON.stringify(change))
    expect(diff.tables.map((t) => t.chunksRead)).toEqual([0])
  })
})
