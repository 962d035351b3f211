// Self-healing: an agent killed with SIGKILL in the middle of a snapshot loses its lease when the
// lease runs out, and another agent takes the job and finishes it. Measures the time from the kill
// to the job running again (the target: under 30 s; here the lease is 4 s). The
// half-written snapshot never reaches the catalogue, and the repository verifies clean.

import { execFile, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { json, runCli } from '../../../test/cli.js'
import { createTestDatabase, type TestDatabase } from '../../../test/postgres.js'
import { callApi, signUp, startLogging } from '../../../test/processes.js'

const cpBin = fileURLToPath(
  new URL('../../control-plane/bin/dbsnap-control-plane.js', import.meta.url),
)
const agentBin = fileURLToPath(new URL('../bin/dbsnap-agent.js', import.meta.url))
const exec = promisify(execFile)
const LEASE_SECONDS = 4

describe('an agent killed mid-snapshot', () => {
  let dir: string
  let source: TestDatabase
  let cp: ChildProcess
  let base: string
  let token: string
  let projectBase: string
  let connectionId: string
  const agents: ChildProcess[] = []

  const api = (method: string, path: string, body?: unknown) =>
    callApi(base, token, method, path, body)
  /** Registers a new agent of the project and starts `dbsnap-agent run`. */
  const startAgent = async (name: string) => {
    const made = await api('POST', `${projectBase}/agents`, { name })
    const env = {
      DBSNAP_AGENT_STATE_DIR: join(dir, name),
      DBSNAP_AGENT_REPOSITORY: join(dir, 'repo'),
      DBSNAP_AGENT_HEALTH_PORT: '0',
    }
    await exec(
      process.execPath,
      [agentBin, 'register', '--url', base, '--token', made['registrationToken'] as string],
      { env: { ...process.env, ...env } },
    )
    const agent = await startLogging(agentBin, ['run'], env, 'healthPort')
    agents.push(agent.child)
    return agent.child
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dbsnap-agent-crash-'))
    source = await createTestDatabase('dbsnap_it_agent_crash')
    await source.client.query(
      "CREATE TABLE events (id int PRIMARY KEY, body text); INSERT INTO events SELECT g, repeat('x', 50) FROM generate_series(1, 30000) g",
    )
    const server = await startLogging(
      cpBin,
      [],
      {
        DATABASE_URL: `sqlite:${join(dir, 'cp.sqlite')}`,
        DBSNAP_CP_PORT: '0',
        DBSNAP_CP_OPEN_REGISTRATION: 'true',
        // Only the agents this test starts run jobs.
        DBSNAP_CP_EMBEDDED_AGENT: 'false',
        DBSNAP_CP_JOB_LEASE_SECONDS: String(LEASE_SECONDS),
      },
      'port',
    )
    cp = server.child
    base = `http://127.0.0.1:${server.line['port'] as number}`
    token = await signUp(base)
    const org = await api('POST', '/orgs', { name: 'Acme', slug: 'acme' })
    const project = await api('POST', `/orgs/${org['id'] as string}/projects`, {
      name: 'Shop',
      slug: 'shop',
    })
    projectBase = `/orgs/${org['id'] as string}/projects/${project['id'] as string}`
    connectionId = (
      await api('POST', `${projectBase}/connections`, { name: 'shop', url: source.url })
    )['id'] as string
  }, 60_000)

  afterAll(async () => {
    for (const agent of agents) agent.kill('SIGKILL')
    cp?.kill('SIGTERM')
    await source?.drop()
    await rm(dir, { recursive: true, force: true })
  })

  it('is taken over by another agent soon after its lease runs out', async () => {
    const first = await startAgent('first')
    // Slowed down so the kill lands mid-snapshot: 30,000 rows at 5,000 a second.
    const job = await api('POST', `${projectBase}/connections/${connectionId}/snapshots`, {
      maxRowsPerSecond: 5_000,
    })
    const jobPath = `${projectBase}/jobs/${job['id'] as string}`
    let seen = job
    while (seen['progress'] === null || seen['state'] !== 'running') {
      await new Promise((resolve) => setTimeout(resolve, 100))
      seen = await api('GET', jobPath)
    }
    const killedAt = Date.now()
    first.kill('SIGKILL')
    await startAgent('second')
    for (
      let i = 0;
      i < 600 && !['succeeded', 'failed', 'dead'].includes(seen['state'] as string);
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      seen = await api('GET', jobPath)
    }
    expect(seen, JSON.stringify(seen)).toMatchObject({ state: 'succeeded', attempts: 2 })
    const events = seen['events'] as { type: string; at: string; agentId: string | null }[]
    expect(events.map((e) => e.type)).toEqual([
      'created',
      'leased',
      'lease-expired',
      'leased',
      'succeeded',
    ])
    const releasedMs = Date.parse(events[3]!.at) - killedAt
    console.log(`job running again ${releasedMs} ms after the kill (lease ${LEASE_SECONDS} s)`)
    expect(releasedMs).toBeLessThan(30_000)
    expect(events[3]!.agentId).not.toBe(events[1]!.agentId)

    // One snapshot in the catalogue: the one the second agent finished.
    const catalogue = (await api('GET', `${projectBase}/snapshots`))['snapshots'] as {
      id: string
    }[]
    expect(catalogue.map((s) => s.id)).toEqual([(seen['result'] as { id: string }).id])
    const verified = await runCli(['verify', '--all', '--repo', join(dir, 'repo'), '--json'])
    expect(verified.code, verified.stderr).toBe(0)
    expect(json(verified)).toMatchObject({ problems: [] })
  })
})
