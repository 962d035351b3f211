// `dbsnap forget --prune` and `dbsnap prune` on PostgreSQL snapshots: what they report deleting,
// and what they kept and why.

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli, type CliRun } from '../../../test/cli.js'
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
})
