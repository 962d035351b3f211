// One command gives a working service: the control plane on SQLite runs an agent inside itself
// (DBSNAP_CP_EMBEDDED_AGENT=auto), which takes a triggered snapshot of a real PostgreSQL database
// into its repository; the catalogue lists it. It keeps each schedule's last tick beside the
// database, so a restart catches up on the ticks missed while it was down. With PostgreSQL
// (replicas) the default is off.

import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../../../test/postgres.js'
import { callApi, signUp } from '../../../test/processes.js'
import {
  embeddedAgentEnabled,
  embeddedAgentStateDirectory,
  loadControlPlaneConfig,
} from '../src/config.js'

const bin = fileURLToPath(new URL('../bin/dbsnap-control-plane.js', import.meta.url))
/** What the agent does on its own (a tick, a queued run) is looked for every 100 ms for 10 s. */
const POLL = { interval: 100, timeout: 10_000 }

describe('the embedded agent', () => {
  let dir: string
  let source: TestDatabase
  let cp: ChildProcess
  let base: string
  let token: string

  const api = (method: string, path: string, body?: unknown) =>
    callApi(base, token, method, path, body)

  /** Starts the control plane on the test's data directory; resolves once its agent runs. */
  async function start(): Promise<void> {
    cp = spawn(process.execPath, [bin], {
      env: {
        ...process.env,
        LOG_FORMAT: 'json',
        DATABASE_URL: `sqlite:${join(dir, 'cp.sqlite')}`,
        DBSNAP_CP_PORT: '0',
        DBSNAP_CP_OPEN_REGISTRATION: 'true',
        DBSNAP_AGENT_REPOSITORY: join(dir, 'repo'),
      },
    })
    let started: string | undefined
    let agentStarted = false
    for await (const text of createInterface({ input: cp.stdout! })) {
      const line = JSON.parse(text) as { port?: number; msg?: string }
      if (line.port !== undefined) started = `http://127.0.0.1:${line.port}`
      if (line.msg?.startsWith('embedded agent started') === true) agentStarted = true
      if (started !== undefined && agentStarted) break
    }
    base = started!
  }

  async function stop(): Promise<void> {
    const exited = new Promise((resolve) => cp.once('exit', resolve))
    cp.kill('SIGTERM')
    await exited
  }

  /** A new organisation, project and connection to the source database. */
  async function newConnection(slug: string): Promise<{ projectBase: string; id: string }> {
    const org = await api('POST', '/orgs', { name: slug, slug })
    const project = await api('POST', `/orgs/${org['id'] as string}/projects`, {
      name: 'Shop',
      slug: 'shop',
    })
    const projectBase = `/orgs/${org['id'] as string}/projects/${project['id'] as string}`
    const connection = await api('POST', `${projectBase}/connections`, {
      name: 'shop',
      url: source.url,
    })
    return { projectBase, id: connection['id'] as string }
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dbsnap-cp-embedded-'))
    source = await createTestDatabase('dbsnap_it_embedded')
    await source.client.query(
      'CREATE TABLE items (id int PRIMARY KEY, name text); INSERT INTO items SELECT g, md5(g::text) FROM generate_series(1, 200) g',
    )
    await start()
    token = await signUp(base)
  }, 60_000)

  afterAll(async () => {
    await stop()
    await source.drop()
    await rm(dir, { recursive: true, force: true })
  })

  it('runs a triggered snapshot with no agent to install', async () => {
    const { projectBase, id } = await newConnection('acme')
    const job = await api('POST', `${projectBase}/connections/${id}/snapshots`)
    let seen = job
    for (let i = 0; i < 200 && seen['state'] !== 'succeeded' && seen['state'] !== 'failed'; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      seen = await api('GET', `${projectBase}/jobs/${job['id'] as string}`)
    }
    expect(seen, JSON.stringify(seen)).toMatchObject({ state: 'succeeded' })
    const result = seen['result'] as { id: string; totals: { rows: number } }
    expect(result.totals.rows).toBe(200)
    expect(await readdir(join(dir, 'repo', 'snapshots'))).toContainEqual(
      expect.stringContaining(result.id),
    )
    const catalogue = (await api('GET', `${projectBase}/snapshots`))['snapshots'] as {
      id: string
    }[]
    expect(catalogue.map((s) => s.id)).toEqual([result.id])
  })

  it('catches up after a restart on the ticks of a schedule it missed while down', async () => {
    const { projectBase, id } = await newConnection('acme-schedules')
    const schedulesPath = `${projectBase}/connections/${id}/schedules`
    // New Year's Day, 00:00 UTC: the only tick of the year.
    const schedule = await api('POST', schedulesPath, { cron: '0 0 1 1 *', timezone: 'UTC' })
    const scheduleId = schedule['id'] as string
    // A running agent learns new schedules at its next poll (30 s); a restarted one at once, and
    // keeps the moment it learned it as its last tick.
    await stop()
    await start()
    const state = join(dir, 'embedded-agent')
    const ticksFile = join(state, 'schedule-ticks.json')
    const ticks = async () =>
      JSON.parse(await readFile(ticksFile, 'utf8').catch(() => '{}')) as Record<string, string>
    await expect.poll(async () => (await ticks())[scheduleId], POLL).toBeDefined()
    // Only the ticks: the schedules hold the connections' URLs, and the database has them.
    expect(await readdir(state)).toEqual(['schedule-ticks.json'])
    // Down since the middle of last year (the file says so): this New Year's tick was missed.
    await stop()
    const lastYear = new Date().getUTCFullYear() - 1
    await writeFile(
      ticksFile,
      JSON.stringify({ ...(await ticks()), [scheduleId]: `${lastYear}-06-01T00:00:00.000Z` }),
    )
    await start()
    const caughtUp = `${lastYear + 1}-01-01T00:00:00.000Z`
    const lastRun = async () =>
      (
        (await api('GET', schedulesPath))['items'] as { id: string; lastRunAt: string | null }[]
      ).find((s) => s.id === scheduleId)?.lastRunAt
    await expect.poll(lastRun, POLL).toBe(caughtUp)
    expect((await ticks())[scheduleId]).toBe(caughtUp)
  })

  it('keeps its ticks beside the SQLite file, in the data directory with PostgreSQL', () => {
    const dirOf = (env: Record<string, string>) =>
      embeddedAgentStateDirectory(loadControlPlaneConfig(env))
    expect(dirOf({ DATABASE_URL: 'sqlite:/srv/cp/cp.sqlite' })).toBe('/srv/cp/embedded-agent')
    expect(dirOf({ DATABASE_URL: 'sqlite::memory:' })).toBeUndefined()
    expect(dirOf({ DATABASE_URL: 'postgres://cp@db/cp' })).toMatch(/\/embedded-agent$/)
  })

  it('is on by default with SQLite only', () => {
    const on = (env: Record<string, string>) => embeddedAgentEnabled(loadControlPlaneConfig(env))
    expect(on({ DATABASE_URL: 'sqlite:/tmp/x.sqlite' })).toBe(true)
    expect(on({ DATABASE_URL: 'postgres://cp@db/cp' })).toBe(false)
    expect(on({ DATABASE_URL: 'postgres://cp@db/cp', DBSNAP_CP_EMBEDDED_AGENT: 'true' })).toBe(true)
    expect(on({ DATABASE_URL: 'sqlite:/tmp/x.sqlite', DBSNAP_CP_EMBEDDED_AGENT: 'false' })).toBe(
      false,
    )
  })
})
