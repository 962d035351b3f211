// The agent's runner against a real control plane served over HTTP (SQLite), with engine jobs
// that are held open by the test: a cancelled job is stopped and ends `cancelled`; a job whose
// lease was lost is stopped and not reported; SIGTERM's drain hands a running job back; the
// watchdog stops a job that makes no progress; a revoked agent stops running.

import { serve, type ServerType } from '@hono/node-server'
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { silentLogger } from '@dbsnap/engine/core'
import { abortError, type JobEvent } from '@dbsnap/engine'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createApp } from '../../control-plane/src/app.js'
import { createAgent, registerAgent, revokeAgent } from '../../control-plane/src/data/agents.js'
import { jobEvents } from '../../control-plane/src/data/job-reads.js'
import { JobQueue } from '../../control-plane/src/data/jobs.js'
import { createOrg } from '../../control-plane/src/data/orgs.js'
import { createProject } from '../../control-plane/src/data/projects.js'
import { createUser } from '../../control-plane/src/data/users.js'
import { SecretBox, secretKey } from '../../control-plane/src/secrets/secret-box.js'
import { migratedDatabase, type TestControlPlaneDb } from '../../control-plane/test/dialects.js'
import { ControlPlaneCallError, ControlPlaneClient } from '../src/control-plane-client.js'
import { Runner, type RunJob } from '../src/runner.js'

// Heartbeats every 2 s; long enough that a loaded machine does not let a lease run out.
const LEASE_MS = 6_000

/** An engine job the test holds open: it reports progress when told and ends when told or aborted. */
class HeldJob {
  started = Promise.withResolvers<void>()
  #finish = Promise.withResolvers<unknown>()
  #onEvent: ((e: JobEvent) => void) | undefined
  /** Runs stopped through their signal. */
  aborted = 0
  readonly run: RunJob = (_spec, { signal, onEvent }) => {
    this.#onEvent = onEvent
    this.started.resolve()
    return new Promise((resolve, reject) => {
      signal.addEventListener(
        'abort',
        () => {
          this.aborted++
          reject(abortError(signal))
        },
        { once: true },
      )
      void this.#finish.promise.then(resolve)
    })
  }
  progress(): void {
    this.#onEvent?.({ kind: 'verify', phase: 'reading', done: 1 } as unknown as JobEvent)
  }
  finish(result: unknown = { ok: true }): void {
    this.#finish.resolve(result)
  }
}

describe('the agent runner against a control plane', () => {
  let cp: TestControlPlaneDb
  let server: ServerType
  let url: string
  let projectId: string
  let userId: string
  let queue: JobQueue

  beforeAll(async () => {
    cp = await migratedDatabase('sqlite')
    const app = createApp({
      db: cp,
      version: 'test',
      secrets: new SecretBox(secretKey(randomBytes(32))),
      auth: { signingKey: randomBytes(32) },
      queue: { leaseMs: LEASE_MS, backoffBaseMs: 0 },
    })
    server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 })
    await new Promise((resolve) => server.once('listening', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    userId = (await createUser(cp.db, { email: 'ops@example.com', passwordHash: null })).id
    const org = await createOrg(cp.db, { name: 'A', slug: 'a', ownerId: userId })
    projectId = (await createProject(cp.db, { orgId: org.id, name: 'p', slug: 'p' })).id
    queue = new JobQueue(cp, { leaseMs: LEASE_MS })
  })
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve))
    await cp.drop()
  })
  beforeEach(async () => {
    await cp.db.deleteFrom('jobs').execute()
  })

  async function runnerWith(held: HeldJob, options: { watchdogMs?: number } = {}) {
    const { registrationToken } = await createAgent(cp.db, {
      projectId,
      name: `agent-${randomBytes(4).toString('hex')}`,
      createdBy: userId,
    })
    const { agent, credential } = await registerAgent(cp.db, registrationToken, {
      version: 'test',
      hostname: 'test',
    })
    const runner = new Runner({
      client: new ControlPlaneClient(url, credential),
      runJob: held.run,
      logger: silentLogger,
      repository: '/backups/shop',
      concurrency: 1,
      waitSeconds: 1,
      ...options,
    })
    return { runner, agentId: agent.id, running: runner.run() }
  }
  const enqueue = () =>
    queue.enqueue({ projectId, kind: 'verify', spec: { kind: 'verify' }, createdBy: 'test' })
  const types = async (jobId: string) => (await jobEvents(cp.db, jobId)).map((e) => e.type)
  const until = async (check: () => Promise<boolean>, ms = 10_000) => {
    const deadline = Date.now() + ms
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('timed out')
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }

  it('runs a job to its result, sending progress with heartbeats', async () => {
    const held = new HeldJob()
    const { runner, running } = await runnerWith(held)
    const job = await enqueue()
    await held.started.promise
    held.progress()
    await until(async () => (await queue.get(projectId, job.id)).progress !== null)
    held.finish({ verified: 3 })
    await until(async () => (await queue.get(projectId, job.id)).state === 'succeeded')
    expect(JSON.parse((await queue.get(projectId, job.id)).result!)).toEqual({ verified: 3 })
    await runner.stop(0)
    await running
  })

  it('stops a cancelled job at its next heartbeat; the job ends cancelled', async () => {
    const held = new HeldJob()
    const { runner, running } = await runnerWith(held)
    const job = await enqueue()
    await held.started.promise
    await queue.cancel(projectId, job.id, 'user:test')
    await until(async () => (await queue.get(projectId, job.id)).state === 'cancelled')
    expect((await types(job.id)).slice(0, 4)).toEqual([
      'created',
      'leased',
      'cancel-requested',
      'cancelled',
    ])
    await runner.stop(0)
    await running
  })

  it('stops a job whose lease was lost and does not report it', async () => {
    const held = new HeldJob()
    const { runner, running } = await runnerWith(held)
    const job = await enqueue()
    await held.started.promise
    // The lease ran out (the agent was cut off): the next heartbeat is refused.
    await cp.db
      .updateTable('jobs')
      .set({ leaseExpiresAt: new Date(Date.now() - 1).toISOString() })
      .where('id', '=', job.id)
      .execute()
    await until(async () => (await types(job.id)).includes('report-refused'))
    // The run was stopped (the slot may already have leased the job again: its lease expired).
    await until(() => Promise.resolve(held.aborted === 1))
    // Only the heartbeat was refused: no result or failure was sent for the lost lease.
    expect((await types(job.id)).filter((t) => t === 'report-refused')).toHaveLength(1)
    expect((await queue.get(projectId, job.id)).state).toBe('running')
    await runner.stop(0)
    await running
  })

  it('hands a running job back when the drain time runs out', async () => {
    const held = new HeldJob()
    const { runner, running } = await runnerWith(held)
    const job = await enqueue()
    await held.started.promise
    await runner.stop(200)
    await running
    const back = await queue.get(projectId, job.id)
    expect(back).toMatchObject({ state: 'pending', attempts: 1 })
    expect(JSON.parse(back.error!)).toMatchObject({ code: 'ABORTED', retryable: true })
  })

  it('stops a job that makes no progress for the watchdog time', async () => {
    const held = new HeldJob()
    const { runner, running } = await runnerWith(held, { watchdogMs: 2_500 })
    const job = await enqueue()
    await held.started.promise
    // Stopped and reported retryable: back in the queue (where this agent may take it again).
    const stalled = async () =>
      (await jobEvents(cp.db, job.id)).find((e) => e.type === 'retry-scheduled')
    await until(async () => (await stalled()) !== undefined)
    expect(JSON.parse((await stalled())!.details)).toMatchObject({
      code: 'JOB_STALLED',
      retryable: true,
    })
    await runner.stop(0)
    await running
  })

  it('stops when its agent is revoked', async () => {
    const held = new HeldJob()
    const { agentId, running } = await runnerWith(held)
    await revokeAgent(cp.db, projectId, agentId)
    await expect(running).rejects.toBeInstanceOf(ControlPlaneCallError)
  })
})
