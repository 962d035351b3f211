// `dbsnap-control-plane migrate` started by several processes at once on one database: one
// migrates, the others wait for it and find nothing to do (the built bin, as operators run it).
// And the bin's refusals: an error on stderr with a stable code, an exit status by kind, never
// a password.

import { execFile } from 'node:child_process'
import Database from 'better-sqlite3'
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

/** Runs the bin to its end: exit status and stderr, whether it failed or not. */
async function outcome(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(process.execPath, [bin, ...args], {
      env: { ...process.env, LOG_FORMAT: 'json', ...env },
    })
    return { code: 0, stderr }
  } catch (err) {
    const { code, stderr } = err as { code: number; stderr: string }
    return { code, stderr }
  }
}

describe('the bin refuses what it cannot use, with its code', () => {
  it('exits 3 when DATABASE_URL cannot be reached, without the password', async () => {
    const { code, stderr } = await outcome(['migrate'], {
      DATABASE_URL: 'postgres://dbsnap:hunter2-secret@127.0.0.1:1/dbsnap',
      DBSNAP_JWT_SECRET: 'x'.repeat(48),
      DBSNAP_SECRET_KEY: Buffer.alloc(32, 7).toString('base64'),
    })
    expect(code).toBe(3)
    expect(stderr.trim().split('\n')).toHaveLength(1)
    expect(stderr).toContain('[DATABASE_UNAVAILABLE]')
    expect(stderr).not.toContain('hunter2')
  })

  it('exits 3 at once when the directory of the SQLite file cannot be made (procfs)', async (context) => {
    // Node's own recursive mkdir retries such a path for ever, at full CPU.
    if (process.platform !== 'linux') context.skip()
    const { code, stderr } = await outcome(['migrate'], {
      DATABASE_URL: 'sqlite:/proc/dbsnap-no-such/control-plane/control-plane.sqlite',
      DBSNAP_JWT_SECRET: 'x'.repeat(48),
      DBSNAP_SECRET_KEY: Buffer.alloc(32, 7).toString('base64'),
    })
    expect(code).toBe(3)
    expect(stderr).toContain('[DATABASE_UNAVAILABLE]')
  })

  it('exits 2 for an invalid setting: a headline, then a line per problem naming it', async () => {
    const { code, stderr } = await outcome(['migrate'], { DBSNAP_CP_PORT: 'eighty' })
    expect(code).toBe(2)
    const lines = stderr.trim().split('\n')
    expect(lines[0]).toContain('[CONFIG_INVALID]')
    expect(lines.slice(1)).toEqual([expect.stringMatching(/^ {2}DBSNAP_CP_PORT: /)])
  })

  it('exits 1 on a database migrated by a newer version, and leaves it as it was', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dbsnap-cp-'))
    try {
      const file = join(dir, 'cp.sqlite')
      const env = { DATABASE_URL: `sqlite:${file}` }
      expect((await outcome(['migrate'], env)).code).toBe(0)
      const sqlite = new Database(file)
      sqlite
        .prepare('INSERT INTO kysely_migration (name, timestamp) VALUES (?, ?)')
        .run('9999-from-the-future', new Date().toISOString())
      const count = () =>
        (sqlite.prepare('SELECT count(*) AS n FROM kysely_migration').get() as { n: number }).n
      const before = count()
      const { code, stderr } = await outcome(['migrate'], env)
      expect(code).toBe(1)
      expect(stderr.trim().split('\n')).toHaveLength(1)
      expect(stderr).toContain('[DATABASE_TOO_NEW]')
      expect(count()).toBe(before)
      sqlite.close()
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
