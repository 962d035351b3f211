// Crash safety of `dbsnap restore`: killed with SIGKILL at random moments, then run again.
// On PostgreSQL each table is one transaction, so after every kill each table is either as it was
// before the restore or complete, never half loaded; and the same command run again (with
// --force, since completed tables hold rows) always ends with a target equal to the snapshot.
// Kill delays come from a seeded PRNG; DBSNAP_CRASH_SEED=<n> replays them.

import { spawn } from 'node:child_process'
import { randomInt } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cliArgs, runCli } from '../../../test/cli.js'
import { createTestDatabase, type TestDatabase } from '../../../test/postgres.js'

const KILLS = 6
/** Rows per table: a whole restore takes about a second, long enough to kill it in every phase. */
const ROWS = 60_000
const TABLES = ['alpha', 'beta', 'gamma']

const seed = Number(process.env.DBSNAP_CRASH_SEED ?? randomInt(2 ** 31))
console.log(`restore crash test seed ${seed} (replay with DBSNAP_CRASH_SEED=${seed})`)

/** mulberry32: a small seeded PRNG. */
function random(state: number): () => number {
  let a = state
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Starts `dbsnap …args` and kills it with SIGKILL after `ms` (or lets it finish first). */
function runKilledAfter(args: string[], ms: number): Promise<'killed' | 'finished'> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, cliArgs(args), { stdio: 'ignore' })
    const timer = setTimeout(() => child.kill('SIGKILL'), ms)
    child.on('error', reject)
    child.on('exit', (_code, signal) => {
      clearTimeout(timer)
      resolve(signal === 'SIGKILL' ? 'killed' : 'finished')
    })
  })
}

describe('dbsnap restore killed with SIGKILL (PostgreSQL)', () => {
  let source: TestDatabase
  let copy: TestDatabase
  let repo: string

  beforeAll(async () => {
    source = await createTestDatabase('dbsnap_it_rcrash')
    copy = await createTestDatabase('dbsnap_it_rcrash_to')
    repo = await mkdtemp(join(tmpdir(), 'dbsnap-it-rcrash-'))
    for (const table of TABLES) {
      await source.client.query(`
        CREATE TABLE ${table} (id integer PRIMARY KEY, name text NOT NULL, amount numeric(12, 2), doc jsonb);
        INSERT INTO ${table}
          SELECT i, md5(i::text), i * 0.01, jsonb_build_object('i', i, 'tag', '${table}')
          FROM generate_series(1, ${ROWS}) i;
        CREATE INDEX ${table}_name_idx ON ${table} (name);
      `)
    }
    const snap = await runCli(['snapshot', source.url, '--repo', repo])
    expect(snap.code, snap.stderr).toBe(0)
  })

  afterAll(async () => {
    await source?.drop()
    await copy?.drop()
    if (repo !== undefined) await rm(repo, { recursive: true, force: true })
  })

  it(`leaves every table whole or untouched after ${KILLS} kills, and a rerun completes`, async () => {
    const next = random(seed)
    const args = ['restore', `${source.name}@latest`, '--to', copy.url, '--repo', repo, '--force']
    // Kills land between start-up and the end of a whole restore, timed on this machine now.
    const started = performance.now()
    expect((await runCli(args)).code).toBe(0)
    const whole = performance.now() - started
    let killed = 0
    for (let round = 0; round < KILLS; round++) {
      const outcome = await runKilledAfter(args, Math.floor(whole * (0.15 + 0.75 * next())))
      if (outcome === 'killed') killed++
      // The server may still be rolling back the killed session's transaction.
      await copy.client.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()`,
        [copy.name],
      )
      for (const table of TABLES) {
        const { rows } = await copy.client.query<{ present: boolean }>(
          `SELECT to_regclass($1) IS NOT NULL AS present`,
          [`public.${table}`],
        )
        if (rows[0]?.present !== true) continue
        const counted = await copy.client.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${table}`,
        )
        // Whole: a table only ever becomes visible fully loaded.
        expect(counted.rows[0]?.n, `${table} after kill ${round + 1}`).toBe(ROWS)
      }
    }
    console.log(`restore crash test: ${killed} of ${KILLS} runs killed`)
    expect(killed).toBeGreaterThan(0)
    const rerun = await runCli(args)
    expect(rerun.code, rerun.stderr).toBe(0)
    const diff = await runCli([
      'diff',
      `${source.name}@latest`,
      '--live',
      copy.url,
      '--repo',
      repo,
      '--exit-code',
    ])
    expect(diff.code, diff.stdout + diff.stderr).toBe(0)
  })
})
