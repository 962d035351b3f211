// `dbsnap-control-plane migrate` started by several processes at once on one database: one
// migrates, the others wait for it and find nothing to do (the built bin, as operators run it).

import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { createTestDatabase } from '../../../test/postgres.js'
import { migrations } from '../src/db/migrations/index.js'
import { DIALECTS } from './dialects.js'

const bin = fileURLToPath(new URL('../bin/dbsnap-control-plane.js', import.meta.url))
const run = promisify(execFile)

/** A `DATABASE_URL` for a new database of `dialect`, and how to remove it. */
async function databaseUrl(dialect: string): Promise<{ url: string; drop(): Promise<void> }> {
  if (dialect === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'dbsnap-cp-'))
    return { url: `sqlite:${join(dir, 'cp.sqlite')}`, drop: () => rm(dir, { recursive: true }) }
  }
  const pg = await createTestDatabase('dbsnap_it_cp')
  await pg.client.end()
  return pg
}

describe.each(DIALECTS)('migrate from several processes at once on %s', (dialect) => {
  it('migrates once, and every process succeeds', async () => {
    const database = await databaseUrl(dialect)
    try {
      const env = { ...process.env, DATABASE_URL: database.url, LOG_FORMAT: 'json' }
      // Eight at once: with deferred SQLite transactions about one run in five failed here.
      const outputs = await Promise.all(
        Array.from({ length: 8 }, () => run(process.execPath, [bin, 'migrate'], { env })),
      )
      const applied = outputs.map(
        ({ stdout }) => (JSON.parse(stdout) as { applied: string[] }).applied,
      )
      expect(applied.flat()).toEqual(Object.keys(migrations(dialect)))
    } finally {
      await database.drop()
    }
  })
})
