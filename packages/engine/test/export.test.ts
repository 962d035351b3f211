// Export of a real PostgreSQL snapshot: NDJSON and JSON keep JSON column values as the database
// wrote them (numbers beyond 2^53 keep every digit), re-serialize the ones spanning lines, and
// every line is one row.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../../../test/postgres.js'
import { exportSnapshot } from '../src/export/export.js'
import { Repository, type StoredSnapshot } from '../src/repository/repository.js'
import { createSnapshot } from '../src/snapshot/snapshot.js'
import { MemoryStorage } from '../src/storage/memory/memory-storage.js'

describe('exportSnapshot (PostgreSQL)', () => {
  let db: TestDatabase
  let repository: Repository
  let snapshot: StoredSnapshot

  beforeAll(async () => {
    db = await createTestDatabase('dbsnap_it_export')
    await db.client.query(`
      CREATE TABLE docs (id int PRIMARY KEY, j json, b jsonb, n numeric);
      INSERT INTO docs VALUES
        (1, '{"big": 12345678901234567890, "f": 0.1}', '{"big": 12345678901234567890}', 1.50),
        (2, E'{\\n  "multi": [1,\\n 2]\\n}', NULL, NULL);
    `)
    repository = await Repository.open(new MemoryStorage(), { create: true })
    const { id } = await createSnapshot({ source: db.url, repository })
    snapshot = { id, manifest: await repository.readManifest(id) }
  })

  afterAll(async () => {
    await db?.drop()
  })

  async function text(format: 'ndjson' | 'json'): Promise<string> {
    let out = ''
    for await (const piece of exportSnapshot({ repository, snapshot, format })) out += piece
    return out
  }

  it('writes JSON columns as the database wrote them, one row per line', async () => {
    const lines = (await text('ndjson')).trimEnd().split('\n')
    expect(lines).toEqual([
      '{"table":"public.docs","schema":"public","name":"docs","row":{"id":1,"j":{"big": 12345678901234567890, "f": 0.1},"b":{"big": 12345678901234567890},"n":"1.50"}}',
      '{"table":"public.docs","schema":"public","name":"docs","row":{"id":2,"j":{"multi":[1,2]},"b":null,"n":null}}',
    ])
  })

  it('writes one JSON document that parses', async () => {
    const document = JSON.parse(await text('json')) as {
      format: string
      tables: { table: string; rows: { id: number }[] }[]
    }
    expect(document.format).toBe('dbsnap-export')
    expect(document.tables[0]!.rows.map((row) => row.id)).toEqual([1, 2])
  })
})
