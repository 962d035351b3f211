// What `dbsnap` prints, end to end on PostgreSQL: names and values from the database cannot
// drive the terminal, and a failure is one line on stderr and nothing else.

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cliArgs, type CliRun, runCli } from '../../../test/cli.js'
import { createTestDatabase, type TestDatabase } from '../../../test/postgres.js'

/** Characters a terminal acts on: controls (but line ends), C1 CSI, separators, bidi overrides. */
const RAW = /(?!\n)[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/u

/** Runs `dbsnap …args | true`: stdout's reader is gone before anything is written. */
async function intoClosedPipe(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, cliArgs(args), { stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout.destroy()
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const [code] = (await once(child, 'close')) as [number | null]
  return { code, stderr }
}

describe('dbsnap output (PostgreSQL)', () => {
  let db: TestDatabase
  let target: TestDatabase
  let repo: string
  const cli = (...args: string[]): Promise<CliRun> => runCli([...args, '--repo', repo])
  const EVIL = 'evil\u001b[31mred\r'
  const SHOWN = 'evil\\u001b[31mred\\r'

  beforeAll(async () => {
    db = await createTestDatabase('dbsnap_it_output')
    target = await createTestDatabase('dbsnap_it_output_to')
    repo = await mkdtemp(join(tmpdir(), 'dbsnap-it-output-'))
    await db.client.query(`CREATE TABLE "${EVIL}" ("c\u202eol" integer PRIMARY KEY, v text)`)
    await db.client.query(`INSERT INTO "${EVIL}" VALUES (1, $1)`, ['a\u009b2Jb\u2028c\bd'])
    expect((await cli('snapshot', db.url, '--name', 'evil')).code).toBe(0)
    await db.client.query(`UPDATE "${EVIL}" SET v = $1`, ['\u001b]0;title\u0007'])
  })

  afterAll(async () => {
    await db?.drop()
    await target?.drop()
    if (repo !== undefined) await rm(repo, { recursive: true, force: true })
  })

  /** Asserts a run printed nothing a terminal would act on. */
  const clean = (run: CliRun): CliRun => {
    expect(run.stdout, run.stdout).not.toMatch(RAW)
    expect(run.stderr, run.stderr).not.toMatch(RAW)
    return run
  }

  it('escapes control characters in names and values in every human-readable output', async () => {
    const snapshot = clean(await cli('snapshot', db.url, '--name', 'evil'))
    expect(snapshot.code, snapshot.stderr).toBe(0)
    const show = clean(await cli('show', 'evil@latest'))
    expect(show.stdout).toContain(`public."${SHOWN}"`)
    expect(show.stdout).toContain('c\\u202eol')
    const rows = clean(await cli('show', 'evil@latest~1', '--table', `public.${EVIL}`))
    // Still one JSON object per line, with the characters escaped.
    expect(JSON.parse(rows.stdout)).toEqual({ 'c\u202eol': 1, v: 'a\u009b2Jb\u2028c\bd' })
    const diff = clean(await cli('diff', 'evil@latest~1', 'evil@latest'))
    expect(diff.stdout).toContain(`public."${SHOWN}"`)
    expect(diff.stdout).toContain('~ 1 v: "a\\u009b2Jb\\u2028c\\bd" → "\\u001b]0;title\\u0007"')
    const saved = clean(await cli('diff', 'evil@latest~1', 'evil@latest', '--save'))
    const id = /saved diff ([0-9a-f]+)/.exec(saved.stdout)![1]!
    expect(clean(await cli('diffs', id)).stdout).toContain(SHOWN)
    clean(await cli('snapshots'))
    const plan = clean(await cli('restore', 'evil@latest', '--to', target.url, '--dry-run'))
    expect(plan.stdout).toContain(SHOWN)
    const restore = clean(await cli('restore', 'evil@latest', '--to', target.url))
    expect(restore.code, restore.stderr).toBe(0)
    expect(restore.stdout).toContain(`public."${SHOWN}": 1 inserted`)
    // An error quoting a name given on the command line.
    const missing = clean(await cli('show', 'evil@latest', '--table', 'no\u001b[2Jpe'))
    expect(missing.stderr).toContain('no\\u001b[2Jpe')
  })

  it('prints only the error on stderr when the connection is lost mid-snapshot', async () => {
    const lost = await createTestDatabase('dbsnap_it_lost')
    const admin = new pg.Client({ connectionString: lost.url })
    await admin.connect()
    try {
      await lost.client.query('CREATE TABLE t (id integer PRIMARY KEY)')
      await lost.client.query('BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE')
      for (const flags of [[], ['--json']]) {
        const run = cli('snapshot', lost.url, ...flags)
        // The snapshot waits for the table's lock: end its session there.
        for (let ended = 0; ended === 0; await sleep(50)) {
          const { rowCount } = await admin.query(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
              WHERE datname = current_database() AND wait_event_type = 'Lock'`,
          )
          ended = rowCount ?? 0
        }
        const result = await run
        expect(result.code, result.stderr).toBe(3)
        if (flags.length === 0) {
          expect(result.stderr).toMatch(/^dbsnap: error \[CONNECTION_LOST\]: [^\n]+\n$/)
        } else {
          expect(result.stderr).toBe('')
          expect(JSON.parse(result.stdout)).toMatchObject({ error: { code: 'CONNECTION_LOST' } })
        }
      }
    } finally {
      await admin.end()
      await lost.drop()
    }
  })

  it('says the same "added" in snapshot, snapshots and show, with one definition', async () => {
    const name = `added_${db.name}`
    const taken = (run: CliRun): { id: string; totals: { newBytes: number } } => {
      expect(run.code, run.stderr).toBe(0)
      return JSON.parse(run.stdout) as { id: string; totals: { newBytes: number } }
    }
    const listed = async (): Promise<Map<string, number>> => {
      const run = await cli('snapshots', '--connection', name, '--json')
      const { snapshots } = JSON.parse(run.stdout) as {
        snapshots: { id: string; addedBytes: number }[]
      }
      return new Map(snapshots.map((s) => [s.id, s.addedBytes]))
    }
    await db.client.query(`INSERT INTO "${EVIL}" VALUES (2, $1)`, [name])
    const first = taken(await cli('snapshot', db.url, '--name', name, '--json'))
    expect(first.totals.newBytes).toBeGreaterThan(0)
    expect((await listed()).get(first.id)).toBe(first.totals.newBytes)
    // An unchanged database adds nothing, and every command says so.
    const again = await cli('snapshot', db.url, '--name', name)
    expect(again.stdout).toMatch(/^ {2}added +0 B \(0 new objects, /m)
    const id = [...(await listed()).entries()].find(([other]) => other !== first.id)!
    expect(id[1]).toBe(0)
    expect((await cli('show', id[0])).stdout).toContain('added 0 B to the repository')
  })

  it('ends quietly with exit 0 when the reader of stdout goes away, whatever the command', async () => {
    const commands = [
      ['restore', 'evil@latest', '--to', target.url, '--force'],
      ['show', 'evil@latest', '--table', `public.${EVIL}`],
      ['diff', 'evil@latest~1', 'evil@latest'],
      ['snapshots', '--json'],
      ['export', 'evil@latest'],
    ]
    for (const args of commands) {
      expect(await intoClosedPipe([...args, '--repo', repo]), args[0]).toEqual({
        code: 0,
        stderr: '',
      })
    }
    // An error still is one.
    expect((await intoClosedPipe(['show', 'nope', '--repo', repo])).code).toBe(2)
  })

  it('ends quietly with exit 0 when the reader goes away from help or --version', async () => {
    // Before: help exited 13 with a warning on stderr, --version died of an unhandled EPIPE.
    for (const args of [['--version'], ['--help'], ['snapshot', '--help'], ['connection']]) {
      expect(await intoClosedPipe(args), args.join(' ')).toEqual({ code: 0, stderr: '' })
    }
    expect((await intoClosedPipe(['nosuch'])).code).toBe(2)
  })
})
