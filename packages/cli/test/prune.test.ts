// `dbsnap forget --prune` and `dbsnap prune` on PostgreSQL snapshots: what they report deleting,
// and what they kept and why.

import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json, runCli, type CliRun } from '../../../test/cli.js'
import { createTestDatabase, type TestDatabase } from '../../../test/postgres.js'

describe('dbsnap forget --prune and prune (PostgreSQL)', () => {
  let db: TestDatabase
  let repo: string
  const cli = (...args: string[]): Promise<CliRun> => runCli([...args, '--repo', repo])

  beforeAll(async () => {
    db = await createTestDatabase('dbsnap_it_prune')
    repo = await mkdtemp(join(tmpdir(), 'dbsnap-it-prune-'))
    await db.client.query(`
      CREATE TABLE items (id integer PRIMARY KEY, name text);
      INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 20000) g;
    `)
    expect((await cli('snapshot', db.url)).code).toBe(0)
    await db.client.query(`UPDATE items SET name = 'changed ' || id`)
    expect((await cli('snapshot', db.url)).code).toBe(0)
  })

  afterAll(async () => {
    await db?.drop()
    if (repo !== undefined) await rm(repo, { recursive: true, force: true })
  })

  it('says how many unreferenced objects the grace period kept, and the period', async () => {
    const run = await cli('forget', '--keep-last', '1', '--prune')
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toMatch(
      /^pruned: deleted 0 objects \(0 B\); \d+ objects? in use by 1 snapshot; [1-9]\d* unreferenced objects? kept: younger than the grace period \(1h\)$/m,
    )
    const now = await cli('prune', '--grace', '0s')
    expect(now.stdout).toMatch(
      /deleted [1-9]\d* objects? .*; 0 unreferenced objects kept: younger than the grace period \(0s\)$/m,
    )
  })

  it('counts and reports the stale locks it removes', async () => {
    // The lock of a snapshot that died an hour ago: never refreshed since.
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString()
    const stale = { kind: 'shared', operation: 'snapshot', hostname: 'elsewhere', pid: 1 }
    const lock = (name: string): Promise<void> =>
      writeFile(
        join(repo, 'locks', name),
        JSON.stringify({ ...stale, createdAt: hourAgo, refreshedAt: hourAgo }),
      )
    await lock('stale-1')
    const run = await cli('prune', '--json')
    expect(run.code, run.stderr).toBe(0)
    expect(json<{ staleLocksDeleted: number }>(run).staleLocksDeleted).toBe(1)
    await lock('stale-2')
    await lock('stale-3')
    const text = await cli('prune')
    expect(text.stdout).toMatch(/; removed 2 stale locks left by crashed runs$/m)
    expect(await readdir(join(repo, 'locks'))).toEqual([])
  })
})
