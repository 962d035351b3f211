// Schema diff on real PostgreSQL schemas, in the style of migra's fixtures: each case is a pair
// of schemas (a.sql, b.sql) and the changes the diff must report (expected.txt, one
// `<change> <kind> <object>` per line) — no more, no less.

import { readdirSync, readFileSync } from 'node:fs'
import { afterAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../../../test/postgres.js'
import { connect } from '../src/adapters/connect.js'
import { diffSchemas } from '../src/diff/schema-diff.js'
import type { DatabaseSchema } from '../src/schema/schema.js'

const FIXTURES = new URL('fixtures/schema-diff/', import.meta.url)
const cases = readdirSync(FIXTURES, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort()

const databases: TestDatabase[] = []

afterAll(async () => {
  for (const db of databases) await db.drop()
})

/** The normalized schema of a fresh database after running `sql`. */
async function schemaOf(sql: string): Promise<DatabaseSchema> {
  const db = await createTestDatabase('dbsnap_it_schema_diff')
  databases.push(db)
  await db.client.query(sql)
  const source = await connect(db.url)
  try {
    const view = await source.openReadView()
    try {
      return await view.introspect()
    } finally {
      await view.close()
    }
  } finally {
    await source.close()
  }
}

describe('schema diff (PostgreSQL fixtures)', () => {
  it.each(cases)('%s', async (name) => {
    const read = (file: string): string =>
      readFileSync(new URL(`${name}/${file}`, FIXTURES), 'utf8')
    const [a, b] = await Promise.all([schemaOf(read('a.sql')), schemaOf(read('b.sql'))])
    const reported = diffSchemas(a, b).map((c) => `${c.change} ${c.kind} ${c.object}`)
    const expected = read('expected.txt').trim().split('\n')
    expect(reported.sort()).toEqual(expected.sort())
    // Identical schemas: nothing at all.
    expect(diffSchemas(b, b)).toEqual([])
  })
})
