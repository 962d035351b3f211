// The agent's slots follow its project's queue, against a real control plane served over HTTP
// (SQLite): a burst of jobs raises the slots to the maximum, idling lowers them to the minimum
// once the idle time has passed, every job of the burst runs exactly once and succeeds, and the
// agent's /metrics shows the slots, the jobs by outcome, their durations and bytes written.

import { serve, type ServerType } from '@hono/node-server'
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { silentLogger } from '@dbsnap/engine/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../control-plane/src/app.js'
import { createAgent, registerAgent } from '../../control-plane/src/data/agents.js'
import { JobQueue } from '../../control-plane/src/data/jobs.js'
import { createConnection } from '../../control-plane/src/data/connections.js'
import { createOrg } from '../../control-plane/src/data/orgs.js'
import { createProject } from '../../control-plane/src/data/projects.js'
import { createUser } from '../../control-plane/src/data/users.js'
import { SecretBox, secretKey } from '../../control-plane/src/secrets/secret-box.js'
import { migratedDatabase, type TestControlPlaneDb } from '../../control-plane/test/dialects.js'
import { Autoscaler, parseAutoscale } from '../src/autoscaler.js'
import { ControlPlaneClient } from '../src/control-plane-client.js'
import { startHealthServer, type HealthServer } from '../src/health.js'
import { AgentMetrics } from '../src/metrics.js'
import { Runner, type RunJob } from '../src/runner.js'

const BURST = 12
const JOB_MS = 400

describe('an autoscaling agent', () => {
  let cp: TestControlPlaneDb
  let server: ServerType
  let health: HealthServer
  let url: string
  let queue: JobQueue
  let projectId: string
  let connectionId: string
  let credential: string

  beforeAll(async () => {
    cp = await migratedDatabase('sqlite')
    const secrets = new SecretBox(secretKey(randomBytes(32)))
    const app = createApp({
      db: cp,
      version: 'test',
      secrets,
      auth: { signingKey: randomBytes(32) },
    })
    server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 })
    await new Promise((resolve) => server.once('listening', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const userId = (await createUser(cp.db, { email: 'ops@example.com', passwordHash: null })).id
    const org = await createOrg(cp.db, { name: 'A', slug: 'a', ownerId: userId })
    projectId = (await createProject(cp.db, { orgId: org.id, name: 'p', slug: 'p' })).id
    connectionId = (
      await createConnection(
        cp.db,
        secrets,
        { orgId: org.id, projectId },
        { name: 'shop', credential: { url: 'postgres://app:pw@db.internal/shop' } },
      )
    ).id
    queue = new JobQueue(cp)
    const { registrationToken } = await createAgent(cp.db, {
      projectId,
      name: 'a',
      createdBy: userId,
    })
    credential = (await registerAgent(cp.db, registrationToken, { version: 't', hostname: 'h' }))
      .credential
  })
  afterAll(async () => {
    await health?.close()
    await new Promise((resolve) => server.close(resolve))
    await cp.drop()
  })

  it('reads min..max and refuses nonsense', () => {
    expect(parseAutoscale('1..4')).toEqual({ min: 1, max: 4 })
    for (const bad of ['0..4', '4..2', '1..65', '3', 'a..b', '']) {
      expect(() => parseAutoscale(bad)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }))
    }
  })

  it('rises to the maximum with a burst and falls to the minimum when idle, losing no job', async () => {
    const ran: string[] = []
    const runJob: RunJob = async (spec) => {
      ran.push(JSON.stringify(spec))
      await new Promise((resolve) => setTimeout(resolve, JOB_MS))
      return { totals: { newBytes: 1000 } }
    }
    const client = new ControlPlaneClient(url, credential)
    const metrics = new AgentMetrics()
    const runner = new Runner({
      client,
      runJob,
      logger: silentLogger,
      repository: '/backups/shop',
      concurrency: 1,
      waitSeconds: 1,
      observer: metrics,
    })
    metrics.watch({ running: () => runner.running, slots: () => runner.slots })
    health = await startHealthServer({ notReadyReason: () => null }, '127.0.0.1', 0, metrics)
    const scrape = async () => (await fetch(`http://127.0.0.1:${health.port}/metrics`)).text()
    const gauge = async (name: string) =>
      Number(
        (await scrape())
          .split('\n')
          .find((line) => line.startsWith(`${name} `))
          ?.split(' ')[1],
      )
    const scaler = new Autoscaler({
      runner,
      queue: () => client.queue(),
      range: { min: 1, max: 4 },
      logger: silentLogger,
      intervalMs: 100,
      idleMs: 1_500,
    })
    const running = runner.run()
    expect(await gauge('dbsnap_agent_slots')).toBe(1)

    const jobs = []
    for (let i = 0; i < BURST; i++) {
      jobs.push(
        await queue.enqueue({
          projectId,
          connectionId,
          kind: 'verify',
          spec: { kind: 'verify', connectionId, n: i },
          createdBy: 'test',
        }),
      )
    }
    scaler.start()
    let highest = 0
    const deadline = Date.now() + 30_000
    let states: string[] = []
    while (Date.now() < deadline) {
      highest = Math.max(highest, await gauge('dbsnap_agent_slots'))
      states = await Promise.all(jobs.map(async (j) => (await queue.get(projectId, j.id)).state))
      if (states.every((s) => s === 'succeeded')) break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(
      states.every((s) => s === 'succeeded'),
      states.join(),
    ).toBe(true)
    expect(highest).toBe(4)
    expect(ran).toHaveLength(BURST)
    expect(new Set(ran).size).toBe(BURST)

    // Idle: back to the minimum after the idle time and the slots' current long-polls.
    const idleDeadline = Date.now() + 15_000
    while ((await gauge('dbsnap_agent_slots')) > 1 && Date.now() < idleDeadline) {
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(await gauge('dbsnap_agent_slots')).toBe(1)

    const text = await scrape()
    expect(text).toContain(`dbsnap_agent_jobs_total{kind="verify",outcome="succeeded"} ${BURST}`)
    expect(text).toContain(`dbsnap_agent_jobs_started_total{kind="verify"} ${BURST}`)
    expect(text).toContain(
      `dbsnap_agent_job_duration_seconds_count{kind="verify",outcome="succeeded"} ${BURST}`,
    )
    expect(text).toContain(`dbsnap_agent_bytes_written_total{kind="verify"} ${BURST * 1000}`)
    expect(text).toMatch(
      new RegExp(
        `dbsnap_agent_last_success_timestamp_seconds\\{connection="${connectionId}"\\} \\d`,
      ),
    )
    expect(text).toContain('dbsnap_agent_running_jobs 0')
    expect(text).toContain('dbsnap_agent_outbox_reports 0')

    await scaler.stop()
    await runner.stop(0)
    await running
  }, 60_000)
})
