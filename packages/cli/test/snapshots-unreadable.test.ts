// `dbsnap snapshots` and `<name>@latest` with bad files under `snapshots/`: garbage, a truncated
// manifest, one that does not hash to its name. The good snapshots are listed and resolved, each
// bad one is flagged; `verify` is the command that fails.

import { createHash } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json, runCli } from '../../../test/cli.js'
import { createTestDatabase, type TestDatabase } from '../../../test/postgres.js'

interface ListJson {
  snapshots: { id: string; name: string }[]
  unreadable: { id: string; code: string; message: string }[]
}

describe('dbsnap snapshots with unreadable manifests', () => {
  let db: TestDatabase
  let repo: string
  const good: string[] = []
  const bad: string[] = []

  const fakeId = (text: string): string => createHash('sha256').update(text).digest('hex')

  beforeAll(async () => {
    db = await createTestDatabase('dbsnap_it_unreadable')
    await db.client.query(
      `CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a')`,
    )
    repo = await mkdtemp(join(tmpdir(), 'dbsnap-it-unreadable-'))
    for (const v of ['b', 'c']) {
      await db.client.query(`UPDATE t SET v = $1`, [v])
      const run = await runCli(['snapshot', db.url, '--repo', repo, '--json'])
      expect(run.code, run.stderr).toBe(0)
      good.push(json<{ id: string }>(run).id)
    }
    const manifest = await readFile(join(repo, 'snapshots', good[0]!))
    const files: [string, Uint8Array][] = [
      [fakeId('garbage'), Buffer.from('not a manifest at all')],
      [fakeId('truncated'), manifest.subarray(0, manifest.length >> 1)],
      // A whole, valid manifest object under a name it does not hash to.
      [fakeId('misnamed'), manifest],
    ]
    for (const [id, bytes] of files) {
      await writeFile(join(repo, 'snapshots', id), bytes)
      bad.push(id)
    }
    bad.sort()
  })

  afterAll(async () => {
    await db?.drop()
    if (repo !== undefined) await rm(repo, { recursive: true, force: true })
  })

  it('lists the good snapshots, warns once per bad one and exits 0', async () => {
    const run = await runCli(['snapshots', '--repo', repo])
    expect(run.code, run.stderr).toBe(0)
    for (const id of good) expect(run.stdout).toContain(id.slice(0, 12))
    expect(run.stdout).toMatch(/2 snapshots/)
    const warnings = run.stderr.split('\n').filter((line) => /DATA_CORRUPT/.test(line))
    expect(warnings).toHaveLength(3)
    for (const id of bad) expect(run.stderr).toContain(id)
  })

  it('puts the bad ones under "unreadable" with --json', async () => {
    const run = await runCli(['snapshots', '--repo', repo, '--json'])
    expect(run.code, run.stderr).toBe(0)
    const listed = json<ListJson>(run)
    expect(listed.snapshots.map((s) => s.id)).toEqual(good)
    expect(listed.unreadable.map((u) => [u.id, u.code])).toEqual(
      bad.map((id) => [id, 'DATA_CORRUPT']),
    )
  })

  it('resolves <name>@latest past them, and verify still fails on them', async () => {
    const latest = await runCli(['verify', `${db.name}@latest`, '--repo', repo])
    expect(latest.code, latest.stderr).toBe(0)
    // Presence only: the output says that no chunk content was checked.
    expect(latest.stdout).toMatch(/no problems[^]*no chunk content was checked/)
    const all = await runCli(['verify', '--repo', repo, '--json'])
    expect(all.code).toBe(5)
    const problems = json<{ problems: { object: string }[] }>(all).problems
    expect(problems.map((p) => p.object).sort()).toEqual(bad.map((id) => `snapshots/${id}`))
    expect(await readdir(join(repo, 'snapshots'))).toHaveLength(5)
  })
})
