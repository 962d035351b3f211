// `dbsnap-agent run --autoscale 1..3` as a real process against the built control plane and a
// real PostgreSQL: a burst of snapshot jobs raises the agent's slots (its /metrics slots gauge)
// to 3, idling brings them back to 1 once the idle time and the slots' long-polls are over, and
// every job of the burst succeeds once, with its snapshot in the catalogue.

import { execFile, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../../../test/postgres.js'
import { callApi, signUp, startLogging } from '../../../test/processes.js'

const cpBin = fileURLToPath(
  new URL('../../control-plane/bin/dbsnap-control-plane.js', import.meta.url),
)
const agentBin = fileURLToPath(new URL('../bin/dbsnap-agent.js', import.meta.url))
const exec = promisify(execFile)
const BURST = 6

describe('dbsnap-agent run --autoscale', () => {
  let dir: string
  let source: TestDatabase
  let cp: ChildProcess | undefined
  let agent: ChildProcess | undefined
  let base: string
  let token: string

  const api = (method: string, path: string, body?: unknown) =>
    callApi(base, token, method, path, body)

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dbsnap-agent-autoscale-'))
    source = await createTestDatabase('dbsnap_it_agent_autoscale')
    await source.client.query(
      "CREATE TABLE events (id int PRIMARY KEY, body text); INSERT INTO events SELECT g, repeat('x', 50) FROM generate_series(1, 4000) g",
    )
    const server = await startLogging(
      cpBin,
      [],
      {
        DATABASE_URL: `sqlite:${join(dir, 'cp.sqlite')}`,
        DBSNAP_CP_PORT: '0',
        DBSNAP_CP_OPEN_REGISTRATION: 'true',
        DBSNAP_CP_EMBEDDED_AGENT: 'false',
        // The test polls the jobs often; the per-user limit is not what it tests.
        DBSNAP_CP_RATE_LIMIT_PER_USER: '100000',
      },
      'port',
    )
    cp = server.child
    base = `http://127.0.0.1:${server.line['port'] as number}`
    token = await signUp(base)
  }, 60_000)

  afterAll(async () => {
    agent?.kill('SIGKILL')
    cp?.kill('SIGTERM')
    await source?.drop()
    await rm(dir, { recursive: true, force: true })
  })

  it('rises to its maximum with a burst and falls to its minimum when idle', async () => {
    const org = await api('POST', '/orgs', { name: 'Acme', slug: 'acme' })
    const project = await api('POST', `/orgs/${org['id'] as string}/projects`, {
      name: 'Shop',
      slug: 'shop',
    })
    const projectBase = `/orgs/${org['id'] as string}/projects/${project['id'] as string}`
    const connectionId = (
      await api('POST', `${projectBase}/connections`, { name: 'shop', url: source.url })
    )['id'] as string
    const made = await api('POST', `${projectBase}/agents`, { name: 'scaling' })
    const env = {
      DBSNAP_AGENT_STATE_DIR: join(dir, 'agent'),
      DBSNAP_AGENT_REPOSITORY: join(dir, 'repo'),
      DBSNAP_AGENT_HEALTH_PORT: '0',
      DBSNAP_AGENT_AUTOSCALE_IDLE_SECONDS: '5',
    }
    await exec(
      process.execPath,
      [agentBin, 'register', '--url', base, '--token', made['registrationToken'] as string],
      { env: { ...process.env, ...env } },
    )
    const started = await startLogging(agentBin, ['run', '--autoscale', '1..3'], env, 'healthPort')
    agent = started.child
    const metricsUrl = `http://127.0.0.1:${started.line['healthPort'] as number}/metrics`
    const slots = async () => {
      const text = await (await fetch(metricsUrl)).text()
      const line = text.split('\n').find((l) => l.startsWith('dbsnap_agent_slots '))
      return Number(line?.split(' ')[1])
    }
    expect(await slots()).toBe(1)

    // Each snapshot reads 4,000 rows at 1,000 a second: the burst keeps the queue busy.
    const jobIds: string[] = []
    for (let i = 0; i < BURST; i++) {
      const job = await api('POST', `${projectBase}/connections/${connectionId}/snapshots`, {
        maxRowsPerSecond: 1_000,
      })
      jobIds.push(job['id'] as string)
    }
    let highest = 0
    let states: string[] = []
    for (let i = 0; i < 1200; i++) {
      highest = Math.max(highest, await slots())
      const listed = (await api('GET', `${projectBase}/jobs?limit=50`))['jobs'] as {
        id: string
        state: string
      }[]
      states = jobIds.map((id) => listed.find((j) => j.id === id)?.state ?? 'missing')
      if (states.every((s) => s === 'succeeded' || s === 'failed' || s === 'dead')) break
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    expect(states).toEqual(jobIds.map(() => 'succeeded'))
    expect(highest).toBe(3)

    // Idle: the interval (5 s), the idle time (5 s), then each retired slot's long-poll (20 s).
    const idleStart = Date.now()
    while ((await slots()) > 1 && Date.now() - idleStart < 60_000) {
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    expect(await slots()).toBe(1)
    console.log(`slots back to 1 after ${Date.now() - idleStart} ms idle`)

    const catalogue = (await api('GET', `${projectBase}/snapshots`))['snapshots'] as unknown[]
    expect(catalogue).toHaveLength(BURST)
    const events = await Promise.all(
      jobIds.map(async (id) => (await api('GET', `${projectBase}/jobs/${id}`))['attempts']),
    )
    expect(events).toEqual(jobIds.map(() => 1))
  }, 180_000)
})
