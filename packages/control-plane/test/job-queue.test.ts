// The job queue on both dialects: leases, heartbeats, results, retries with backoff, expired
// leases, cancellation, the dead-letter queue, and many agents leasing at once (every job run
// to success exactly once, never by two agents at the same time, asserted from the events).

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { jobEvents, listJobs } from '../src/data/job-reads.js'
import { JobQueue, type NewJob } from '../src/data/jobs.js'
import { createOrg } from '../src/data/orgs.js'
import { createProject } from '../src/data/projects.js'
import { createUser } from '../src/data/users.js'
import { openDatabase, type ControlPlaneDb } from '../src/db/database.js'
import { newId } from '../src/db/ids.js'
import { timestamp } from '../src/db/clock.js'
import type { Job } from '../src/db/schema.js'
import { DIALECTS, migratedDatabase, type TestControlPlaneDb } from './dialects.js'

const LEASE_MS = 30_000
const T0 = new Date('2026-12-03T12:00:00.000Z')
const at = (ms: number) => new Date(T0.getTime() + ms)

describe.each(DIALECTS)('the job queue on %s', (dialect) => {
  let cp: TestControlPlaneDb
  let projectId: string
  let otherProjectId: string
  let agents: string[]
  let queue: JobQueue

  beforeAll(async () => {
    cp = await migratedDatabase(dialect)
    const user = await createUser(cp.db, { email: `${newId()}@example.com`, passwordHash: 'x' })
    const org = await createOrg(cp.db, { name: 'Queue', slug: `q-${newId()}`, ownerId: user.id })
    projectId = (await createProject(cp.db, { orgId: org.id, name: 'a', slug: 'a' })).id
    otherProjectId = (await createProject(cp.db, { orgId: org.id, name: 'b', slug: 'b' })).id
    agents = []
    for (const name of ['agent-1', 'agent-2', 'agent-3', 'agent-4']) {
      const id = newId()
      await cp.db
        .insertInto('agents')
        .values({
          id,
          projectId,
          name,
          registrationTokenHash: null,
          registrationExpiresAt: null,
          credentialHash: null,
          registeredAt: null,
          version: null,
          hostname: null,
          lastSeenAt: null,
          createdBy: user.id,
          createdAt: timestamp(T0),
          revokedAt: null,
        })
        .execute()
      agents.push(id)
    }
    queue = new JobQueue(cp, { leaseMs: LEASE_MS, maxAttempts: 3, random: () => 0.5 })
  })
  afterAll(async () => {
    await cp.drop()
  })

  const job = (extra: Partial<NewJob> = {}): NewJob => ({
    projectId,
    kind: 'verify',
    spec: { kind: 'verify', repository: 'file:/backups/shop' },
    createdBy: 'user:test',
    ...extra,
  })
  /** Empties the project's queue so each case starts from nothing due. */
  const drain = async () => {
    await cp.db.deleteFrom('jobs').execute()
  }
  const types = async (jobId: string) => (await jobEvents(cp.db, jobId)).map((e) => e.type)

  it('leases the oldest due job of the agent’s project, then records its result', async () => {
    await drain()
    const first = await queue.enqueue(job(), at(0))
    const second = await queue.enqueue(job(), at(1))
    await queue.enqueue(job({ projectId: otherProjectId }), at(0))
    await queue.enqueue(job({ runAfter: at(60_000) }), at(0))

    const leased = await queue.lease(agents[0]!, projectId, at(10))
    expect(leased).toMatchObject({
      id: first.id,
      state: 'running',
      attempts: 1,
      leasedBy: agents[0],
    })
    expect(leased!.leaseExpiresAt).toBe(timestamp(at(10 + LEASE_MS)))
    expect((await queue.lease(agents[1]!, projectId, at(20)))?.id).toBe(second.id)
    // The other project's job and the one not yet due stay where they are.
    expect(await queue.lease(agents[2]!, projectId, at(30))).toBeUndefined()

    const beat = await queue.heartbeat(first.id, leased!.leaseId!, { phase: 'reading' }, at(20_000))
    expect(beat).toEqual({
      cancelRequested: false,
      leaseExpiresAt: timestamp(at(20_000 + LEASE_MS)),
    })
    const done = await queue.succeed(first.id, leased!.leaseId!, { ok: true }, at(40_000))
    expect(done).toMatchObject({ state: 'succeeded', leaseId: null, result: '{"ok":true}' })
    expect(done.finishedAt).toBe(timestamp(at(40_000)))
    expect(await types(first.id)).toEqual(['created', 'leased', 'succeeded'])
    // A second report of the same result is refused, not counted again.
    await expect(queue.succeed(first.id, leased!.leaseId!, {}, at(40_001))).rejects.toMatchObject({
      code: 'LEASE_LOST',
    })
    expect(await types(first.id)).toEqual(['created', 'leased', 'succeeded', 'report-refused'])
  })

  it('retries a retryable failure after a backoff, and sends it to the dead letters when out of attempts', async () => {
    await drain()
    const { id } = await queue.enqueue(job(), at(0))
    const failure = { code: 'SOURCE_UNAVAILABLE', message: 'connection refused', retryable: true }
    let now = 0
    for (const attempt of [1, 2]) {
      const leased = await queue.lease(agents[0]!, projectId, at(now))
      expect(leased).toMatchObject({ id, attempts: attempt })
      const back = await queue.fail(id, leased!.leaseId!, failure, at(now))
      // 5 s doubled per attempt; with the jitter source at 0.5, three quarters of it.
      const delay = 0.75 * 5_000 * 2 ** (attempt - 1)
      expect(back).toMatchObject({ state: 'pending', runAfter: timestamp(at(now + delay)) })
      expect(await queue.lease(agents[0]!, projectId, at(now + delay - 1))).toBeUndefined()
      now += delay
    }
    const last = await queue.lease(agents[1]!, projectId, at(now))
    const dead = await queue.fail(id, last!.leaseId!, failure, at(now))
    expect(dead).toMatchObject({ state: 'dead', attempts: 3 })
    expect(JSON.parse(dead.error!)).toEqual(failure)
    expect(await listJobs(cp.db, projectId, { state: 'dead' })).toHaveLength(1)

    const [redriven] = await queue.redrive(projectId, [id], 'user:test', at(now + 1))
    expect(redriven).toMatchObject({ state: 'pending', attempts: 0, error: null })
    expect(await queue.redrive(otherProjectId, [id], 'user:test')).toEqual([])
    expect(await types(id)).toEqual([
      'created',
      'leased',
      'retry-scheduled',
      'leased',
      'retry-scheduled',
      'leased',
      'dead',
      'redriven',
    ])
  })

  it('ends a job whose error retrying cannot mend as failed, at once', async () => {
    await drain()
    const { id } = await queue.enqueue(job(), at(0))
    const leased = await queue.lease(agents[0]!, projectId, at(0))
    const failed = await queue.fail(
      id,
      leased!.leaseId!,
      { code: 'AUTH_FAILED', message: 'password authentication failed', retryable: false },
      at(1),
    )
    expect(failed).toMatchObject({ state: 'failed', attempts: 1 })
    expect(await queue.lease(agents[0]!, projectId, at(600_000))).toBeUndefined()
  })

  it('returns an expired lease to the queue, and refuses the late agent’s reports', async () => {
    await drain()
    const { id } = await queue.enqueue(job(), at(0))
    const crashed = await queue.lease(agents[0]!, projectId, at(0))
    // A heartbeat keeps it leased past the first lease's end.
    await queue.heartbeat(id, crashed!.leaseId!, undefined, at(LEASE_MS - 1))
    expect(await queue.lease(agents[1]!, projectId, at(LEASE_MS + 1))).toBeUndefined()
    // Then the agent goes silent: a lease after the extension ran out finds the job again.
    const taken = await queue.lease(agents[1]!, projectId, at(2 * LEASE_MS))
    expect(taken).toMatchObject({ id, attempts: 2, leasedBy: agents[1] })
    for (const report of [
      () => queue.heartbeat(id, crashed!.leaseId!, undefined, at(2 * LEASE_MS + 1)),
      () => queue.succeed(id, crashed!.leaseId!, {}, at(2 * LEASE_MS + 2)),
      () =>
        queue.fail(
          id,
          crashed!.leaseId!,
          { code: 'X', message: 'x', retryable: true },
          at(2 * LEASE_MS + 3),
        ),
    ]) {
      await expect(report()).rejects.toMatchObject({ code: 'LEASE_LOST' })
    }
    expect(await queue.succeed(id, taken!.leaseId!, {}, at(2 * LEASE_MS + 4))).toMatchObject({
      state: 'succeeded',
      leasedBy: agents[1],
    })
    expect(await types(id)).toEqual([
      'created',
      'leased',
      'lease-expired',
      'leased',
      'report-refused',
      'report-refused',
      'report-refused',
      'succeeded',
    ])
  })

  it('refuses a report that comes after its lease ran out, even before the job is leased again', async () => {
    await drain()
    const { id } = await queue.enqueue(job(), at(0))
    const leased = await queue.lease(agents[0]!, projectId, at(0))
    await expect(queue.succeed(id, leased!.leaseId!, {}, at(LEASE_MS + 1))).rejects.toMatchObject({
      code: 'LEASE_LOST',
    })
    expect(await queue.expireLeases(at(LEASE_MS + 2))).toBe(1)
    expect(await queue.get(projectId, id)).toMatchObject({ state: 'pending', attempts: 1 })
  })

  it('sends a job whose last lease expires to the dead letters', async () => {
    await drain()
    const { id } = await queue.enqueue(job({ maxAttempts: 1 }), at(0))
    await queue.lease(agents[0]!, projectId, at(0))
    expect(await queue.expireLeases(at(LEASE_MS + 1))).toBe(1)
    const dead = await queue.get(projectId, id)
    expect(dead).toMatchObject({ state: 'dead', leaseId: null })
    expect(JSON.parse(dead.error!)).toMatchObject({ code: 'LEASE_EXPIRED' })
  })

  it('cancels a pending job at once and asks a running one to stop', async () => {
    await drain()
    const pending = await queue.enqueue(job({ runAfter: at(60_000) }), at(0))
    expect(await queue.cancel(projectId, pending.id, 'user:test', at(1))).toMatchObject({
      state: 'cancelled',
    })
    await expect(queue.cancel(projectId, pending.id, 'user:test')).rejects.toMatchObject({
      code: 'JOB_FINISHED',
    })
    await expect(queue.cancel(otherProjectId, pending.id, 'user:test')).rejects.toMatchObject({
      code: 'NOT_FOUND',
    })

    const running = await queue.enqueue(job(), at(0))
    const leased = await queue.lease(agents[0]!, projectId, at(0))
    expect(leased!.id).toBe(running.id)
    expect(await queue.cancel(projectId, running.id, 'user:test', at(1))).toMatchObject({
      state: 'running',
    })
    const beat = await queue.heartbeat(running.id, leased!.leaseId!, undefined, at(2))
    expect(beat.cancelRequested).toBe(true)
    const stopped = await queue.fail(
      running.id,
      leased!.leaseId!,
      { code: 'ABORTED', message: 'the job was cancelled', retryable: true },
      at(3),
    )
    expect(stopped.state).toBe('cancelled')
    expect(await types(running.id)).toEqual(['created', 'leased', 'cancel-requested', 'cancelled'])
  })

  it('lists a project’s jobs newest first, filtered, by cursor', async () => {
    await drain()
    const made: Job[] = []
    for (let i = 0; i < 5; i++)
      made.push(await queue.enqueue(job({ kind: i % 2 ? 'snapshot' : 'verify' }), at(i)))
    const ids = made.map((j) => j.id).reverse()
    const page1 = await listJobs(cp.db, projectId, { limit: 2 })
    expect(page1.map((j) => j.id)).toEqual(ids.slice(0, 2))
    const page2 = await listJobs(cp.db, projectId, { limit: 2, before: page1[1]!.id })
    expect(page2.map((j) => j.id)).toEqual(ids.slice(2, 4))
    expect((await listJobs(cp.db, projectId, { kind: 'snapshot' })).map((j) => j.kind)).toEqual([
      'snapshot',
      'snapshot',
    ])
    expect(await listJobs(cp.db, otherProjectId, { state: 'running' })).toEqual([])
  })

  it('runs every job exactly once to success with 4 agents leasing 200 jobs each at once', async () => {
    await drain()
    const JOBS = 800
    for (let i = 0; i < JOBS; i += 100) {
      await cp.db
        .insertInto('jobs')
        .values(
          Array.from({ length: 100 }, () => {
            const created = timestamp(T0)
            return {
              id: newId(),
              projectId,
              connectionId: null,
              kind: 'verify' as const,
              spec: '{}',
              state: 'pending' as const,
              attempts: 0,
              maxAttempts: 10,
              runAfter: created,
              leaseId: null,
              leasedBy: null,
              leaseExpiresAt: null,
              cancelRequestedAt: null,
              progress: null,
              result: null,
              error: null,
              createdBy: 'user:test',
              createdAt: created,
              updatedAt: created,
              startedAt: null,
              finishedAt: null,
            }
          }),
        )
        .execute()
    }
    // On PostgreSQL half the agents go through a second pool, as through another replica.
    const replicas: ControlPlaneDb[] = [cp]
    if (dialect === 'postgres') {
      replicas.push(await openDatabase(cp.location))
    }
    let failures = 0
    try {
      const worker = async (agentId: string, replica: ControlPlaneDb) => {
        const q = new JobQueue(replica, { leaseMs: 60_000, backoffBaseMs: 0 })
        let ran = 0
        for (;;) {
          const leased = await q.lease(agentId, projectId)
          if (leased === undefined) {
            const left = await listJobs(replica.db, projectId, {
              state: ['pending', 'running'],
              limit: 1,
            })
            if (left.length === 0) return ran
            await new Promise((resolve) => setTimeout(resolve, 5))
            continue
          }
          ran++
          await q.heartbeat(leased.id, leased.leaseId!, { done: 1 })
          // One run in ten fails, retryably: it must come back and succeed once.
          if (Math.random() < 0.1) {
            failures++
            await q.fail(leased.id, leased.leaseId!, {
              code: 'X',
              message: 'flaky',
              retryable: true,
            })
          } else {
            await q.succeed(leased.id, leased.leaseId!, { agentId })
          }
        }
      }
      const runs = await Promise.all(
        agents.map((agent, i) => worker(agent, replicas[i % replicas.length]!)),
      )
      expect(runs.reduce((a, b) => a + b, 0)).toBe(JOBS + failures)
      expect(runs.every((n) => n > 0)).toBe(true)
    } finally {
      for (const replica of replicas.slice(1)) await replica.close()
    }

    const jobs = await listJobs(cp.db, projectId, { limit: JOBS + 1 })
    expect(jobs).toHaveLength(JOBS)
    expect(jobs.every((j) => j.state === 'succeeded')).toBe(true)
    const events = await cp.db.selectFrom('jobEvents').selectAll().orderBy('id').execute()
    const byJob = Map.groupBy(events, (e) => e.jobId)
    for (const [, history] of byJob) {
      const sequence = history.map((e) => e.type)
      // (Inserted without a `created` event.) Leased, then its outcome, before the next
      // lease: never two agents at once.
      expect(sequence.at(-1)).toBe('succeeded')
      expect(sequence.filter((t) => t === 'succeeded')).toHaveLength(1)
      for (let i = 0; i < sequence.length; i += 2) {
        expect(sequence[i]).toBe('leased')
        expect(['retry-scheduled', 'succeeded']).toContain(sequence[i + 1])
        expect(history[i + 1]!.agentId).toBe(history[i]!.agentId)
      }
    }
  })
})
