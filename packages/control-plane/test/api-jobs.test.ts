// Jobs and agents through the API on both dialects: an admin creates an agent and it registers
// once; a member (or an API key with `snapshots:write`) triggers a snapshot; the agent long-polls,
// gets the job with the connection's URL, heartbeats, learns of a cancellation, reports results
// and failures; late reports are refused; stacks reach admins only; a revoked agent is refused
// at once; dead jobs are redriven; each step that changes something is audited.

import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listAuditEvents } from '../src/data/audit.js'
import { addMember } from '../src/data/orgs.js'
import { DIALECTS } from './dialects.js'
import { errorOf, harness, type Harness } from './api-harness.js'

const URL_WITH_PASSWORD = 'postgres://app:s3cret-pw@db.internal:5432/shop'

/** What the engine reports of a snapshot (its `SnapshotResult`), as an agent sends it. */
const snapshotResult = (id = randomBytes(16).toString('hex')) => ({
  id,
  name: 'shop',
  repository: '/backups/shop',
  startedAt: '2026-12-03T12:00:00.000Z',
  finishedAt: new Date().toISOString(),
  durationMs: 1200,
  tables: [{ table: 'public.orders', rows: 500 }],
  totals: {
    tables: 1,
    rows: 500,
    bytes: 20_000,
    chunks: 2,
    newObjects: 3,
    newBytes: 9_000,
    reusedChunks: 0,
  },
  warnings: [],
})

interface LeasedBody {
  job: { id: string; kind: string; spec: Record<string, unknown>; leaseId: string; attempt: number }
  connection: { id: string; url?: string; engine: string } | null
}

describe.each(DIALECTS)('jobs and agents through the API on %s', (dialect) => {
  let h: Harness
  let admin: string
  let member: string
  let orgId: string
  let projectBase: string
  let connectionId: string
  let agentToken: string
  let agentId: string

  beforeAll(async () => {
    // Short leases and a single attempt keep the dead-letter case quick.
    h = await harness(dialect, { queue: { leaseMs: 60_000, maxAttempts: 2, backoffBaseMs: 0 } })
    const adminIn = await h.register()
    admin = adminIn.tokens.accessToken
    const memberIn = await h.register()
    member = memberIn.tokens.accessToken
    const post = async (path: string, body: unknown, token = admin) => {
      const res = await h.call('POST', path, { token, body })
      expect(res.status, await res.clone().text()).toBeLessThan(300)
      return (await res.json()) as Record<string, unknown>
    }
    orgId = (
      await post('/api/v1/orgs', { name: 'Acme', slug: `acme-${randomBytes(4).toString('hex')}` })
    ).id as string
    await addMember(h.cp.db, { orgId, userId: memberIn.user.id, role: 'member' })
    const projectId = (await post(`/api/v1/orgs/${orgId}/projects`, { name: 'Shop', slug: 'shop' }))
      .id as string
    projectBase = `/api/v1/orgs/${orgId}/projects/${projectId}`
    connectionId = (
      await post(`${projectBase}/connections`, { name: 'shop', url: URL_WITH_PASSWORD })
    ).id as string
  })
  afterAll(async () => {
    await h.cp.drop()
  })

  const lease = async (waitSeconds = 0) =>
    h.call('POST', '/api/v1/agent/lease', { token: agentToken, body: { waitSeconds } })
  const trigger = (token = member) =>
    h.call('POST', `${projectBase}/connections/${connectionId}/snapshots`, {
      token,
      body: { tags: { reason: 'nightly' } },
    })

  it('creates an agent whose one-time token registers it once', async () => {
    const refused = await h.call('POST', `${projectBase}/agents`, {
      token: member,
      body: { name: 'backup-1' },
    })
    expect(refused.status).toBe(403)
    const res = await h.call('POST', `${projectBase}/agents`, {
      token: admin,
      body: { name: 'backup-1' },
    })
    expect(res.status).toBe(201)
    const made = (await res.json()) as {
      agent: { id: string; registered: boolean }
      registrationToken: string
      command: string
    }
    expect(made.agent.registered).toBe(false)
    expect(made.command).toBe(
      `dbsnap-agent register --url http://localhost --token ${made.registrationToken}`,
    )
    const register = () =>
      h.call('POST', '/api/v1/agent/register', {
        body: { token: made.registrationToken, version: '0.1.0', hostname: 'backup-1' },
      })
    const registered = await register()
    expect(registered.status).toBe(201)
    const body = (await registered.json()) as { agent: { id: string }; credential: string }
    agentToken = body.credential
    agentId = body.agent.id
    expect((await register()).status).toBe(401)
    const listed = (await (
      await h.call('GET', `${projectBase}/agents`, { token: member })
    ).json()) as {
      agents: { registered: boolean; hostname: string }[]
    }
    expect(listed.agents).toEqual([
      expect.objectContaining({ registered: true, hostname: 'backup-1' }),
    ])
    // The agent's credential is no access token, and a user's token no agent credential.
    expect((await h.call('GET', '/api/v1/orgs', { token: agentToken })).status).toBe(401)
    expect((await h.call('POST', '/api/v1/agent/lease', { token: admin, body: {} })).status).toBe(
      401,
    )
  })

  it('runs a triggered snapshot: lease with the credential, heartbeat, result', async () => {
    const res = await trigger()
    expect(res.status).toBe(202)
    const queued = (await res.json()) as { id: string; state: string; spec: unknown }
    expect(queued).toMatchObject({
      state: 'pending',
      spec: { kind: 'snapshot', connectionId, tags: { reason: 'nightly' } },
    })

    const leased = await lease()
    expect(leased.status).toBe(200)
    const { job, connection } = (await leased.json()) as LeasedBody
    expect(job).toMatchObject({ id: queued.id, kind: 'snapshot', attempt: 1 })
    expect(connection).toMatchObject({
      id: connectionId,
      engine: 'postgres',
      url: URL_WITH_PASSWORD,
    })

    const beat = await h.call('POST', `/api/v1/agent/jobs/${job.id}/heartbeat`, {
      token: agentToken,
      body: { leaseId: job.leaseId, progress: { phase: 'reading', table: 'orders' } },
    })
    expect(await beat.json()).toMatchObject({ cancelRequested: false })
    const seen = await (
      await h.call('GET', `${projectBase}/jobs/${job.id}`, { token: member })
    ).text()
    // People see progress, never the connection's password.
    expect(seen).not.toContain('s3cret-pw')
    expect(JSON.parse(seen)).toMatchObject({
      state: 'running',
      agentId,
      progress: { table: 'orders' },
    })

    const result = () =>
      h.call('POST', `/api/v1/agent/jobs/${job.id}/result`, {
        token: agentToken,
        body: { leaseId: job.leaseId, result: snapshotResult('abc123abc123abc123') },
      })
    expect(await (await result()).json()).toMatchObject({ state: 'succeeded' })
    const again = await result()
    expect(again.status).toBe(409)
    expect((await errorOf(again)).code).toBe('LEASE_LOST')
    const done = (await (
      await h.call('GET', `${projectBase}/jobs/${job.id}`, { token: member })
    ).json()) as {
      result: unknown
      events: { type: string }[]
    }
    expect(done.result).toMatchObject({ id: 'abc123abc123abc123' })
    expect(done.events.map((e) => e.type)).toEqual([
      'created',
      'leased',
      'succeeded',
      'report-refused',
    ])
  })

  it('keeps a snapshot’s result in the catalogue, and refuses a result that is not one', async () => {
    const listed = (await (
      await h.call('GET', `${projectBase}/snapshots`, { token: member })
    ).json()) as {
      snapshots: {
        id: string
        connectionId: string
        rows: number
        newBytes: number
        tags: unknown
      }[]
    }
    expect(listed.snapshots).toEqual([
      expect.objectContaining({
        id: 'abc123abc123abc123',
        connectionId,
        rows: 500,
        newBytes: 9_000,
        tags: { reason: 'nightly' },
      }),
    ])
    await trigger()
    const { job } = (await (await lease()).json()) as LeasedBody
    const bad = await h.call('POST', `/api/v1/agent/jobs/${job.id}/result`, {
      token: agentToken,
      body: { leaseId: job.leaseId, result: { id: 'not-hex' } },
    })
    expect(bad.status).toBe(400)
    const still = (await (
      await h.call('GET', `${projectBase}/jobs/${job.id}`, { token: member })
    ).json()) as {
      state: string
    }
    expect(still.state).toBe('running')
    const good = await h.call('POST', `/api/v1/agent/jobs/${job.id}/result`, {
      token: agentToken,
      body: { leaseId: job.leaseId, result: snapshotResult() },
    })
    expect(good.status).toBe(200)
  })

  it('pages the catalogue by cursor', async () => {
    const first = (await (
      await h.call('GET', `${projectBase}/snapshots?limit=1`, { token: member })
    ).json()) as {
      snapshots: { id: string }[]
      next: string
    }
    expect(first.snapshots).toHaveLength(1)
    const second = (await (
      await h.call('GET', `${projectBase}/snapshots?limit=1&cursor=${first.next}`, {
        token: member,
      })
    ).json()) as { snapshots: { id: string }[]; next: string | null }
    expect(second.snapshots).toHaveLength(1)
    expect(second.snapshots[0]!.id).not.toBe(first.snapshots[0]!.id)
    expect(
      (await h.call('GET', `${projectBase}/snapshots?cursor=bogus`, { token: member })).status,
    ).toBe(400)
  })

  it('waits for a job on a long poll, and answers 204 when none comes', async () => {
    const started = Date.now()
    expect((await lease(1)).status).toBe(204)
    expect(Date.now() - started).toBeGreaterThanOrEqual(900)
    const waiting = lease(10)
    await new Promise((resolve) => setTimeout(resolve, 300))
    await trigger()
    const res = await waiting
    expect(res.status).toBe(200)
    expect(Date.now() - started).toBeLessThan(8_000)
    const { job } = (await res.json()) as LeasedBody
    await h.call('POST', `/api/v1/agent/jobs/${job.id}/result`, {
      token: agentToken,
      body: { leaseId: job.leaseId, result: snapshotResult() },
    })
  })

  it('tells the agent to stop a cancelled job, which ends cancelled', async () => {
    await trigger()
    const { job } = (await (await lease()).json()) as LeasedBody
    const cancelled = await h.call('POST', `${projectBase}/jobs/${job.id}/cancel`, {
      token: member,
    })
    expect(await cancelled.json()).toMatchObject({ state: 'running', cancelRequested: true })
    const beat = await h.call('POST', `/api/v1/agent/jobs/${job.id}/heartbeat`, {
      token: agentToken,
      body: { leaseId: job.leaseId },
    })
    expect(await beat.json()).toMatchObject({ cancelRequested: true })
    const failed = await h.call('POST', `/api/v1/agent/jobs/${job.id}/failure`, {
      token: agentToken,
      body: {
        leaseId: job.leaseId,
        error: { code: 'ABORTED', message: 'stopped', retryable: true },
      },
    })
    expect(await failed.json()).toMatchObject({ state: 'cancelled' })
    const again = await h.call('POST', `${projectBase}/jobs/${job.id}/cancel`, { token: member })
    expect(again.status).toBe(409)
    expect((await errorOf(again)).code).toBe('JOB_FINISHED')
  })

  it('shows a failure’s stack to admins only, and redrives dead jobs', async () => {
    await trigger()
    let id = ''
    for (let attempt = 1; attempt <= 2; attempt++) {
      const { job } = (await (await lease()).json()) as LeasedBody
      id = job.id
      const res = await h.call('POST', `/api/v1/agent/jobs/${job.id}/failure`, {
        token: agentToken,
        body: {
          leaseId: job.leaseId,
          error: {
            code: 'SOURCE_UNAVAILABLE',
            message: 'refused',
            retryable: true,
            stack: 'at x.ts:1',
          },
        },
      })
      expect(await res.json()).toMatchObject({ state: attempt === 1 ? 'pending' : 'dead' })
    }
    const asMember = (await (
      await h.call('GET', `${projectBase}/jobs?state=dead`, { token: member })
    ).json()) as {
      jobs: { id: string; error: { stack?: string } }[]
    }
    expect(asMember.jobs.map((j) => j.id)).toEqual([id])
    expect(asMember.jobs[0]!.error).not.toHaveProperty('stack')
    const asAdmin = (await (
      await h.call('GET', `${projectBase}/jobs/${id}`, { token: admin })
    ).json()) as {
      error: { stack?: string }
    }
    expect(asAdmin.error.stack).toBe('at x.ts:1')

    expect(
      (await h.call('POST', `${projectBase}/jobs/redrive`, { token: member, body: { ids: [id] } }))
        .status,
    ).toBe(403)
    const redriven = await h.call('POST', `${projectBase}/jobs/redrive`, {
      token: admin,
      body: { ids: [id] },
    })
    expect(await redriven.json()).toMatchObject({ jobs: [{ id, state: 'pending', attempts: 0 }] })
    const { job } = (await (await lease()).json()) as LeasedBody
    expect(job.id).toBe(id)
    await h.call('POST', `/api/v1/agent/jobs/${id}/result`, {
      token: agentToken,
      body: { leaseId: job.leaseId, result: snapshotResult() },
    })
  })

  it('pages the job list by cursor and filters it', async () => {
    const page = (await (
      await h.call('GET', `${projectBase}/jobs?limit=2`, { token: member })
    ).json()) as {
      jobs: { id: string }[]
      next: string
    }
    expect(page.jobs).toHaveLength(2)
    const rest = (await (
      await h.call('GET', `${projectBase}/jobs?limit=50&before=${page.next}`, { token: member })
    ).json()) as { jobs: { id: string }[]; next: string | null }
    expect(rest.next).toBeNull()
    expect(new Set([...page.jobs, ...rest.jobs].map((j) => j.id)).size).toBe(
      page.jobs.length + rest.jobs.length,
    )
    const bad = await h.call('GET', `${projectBase}/jobs?state=sleeping`, { token: member })
    expect(bad.status).toBe(400)
  })

  it('refuses a revoked agent at once', async () => {
    const res = await h.call('DELETE', `${projectBase}/agents/${agentId}`, { token: admin })
    expect(res.status).toBe(200)
    expect((await lease()).status).toBe(401)
  })

  it('audits agents created and revoked, snapshots triggered and created, jobs cancelled and redriven', async () => {
    const actions = (await listAuditEvents(h.cp.db, { orgId })).map((e) => e.action)
    for (const action of [
      'agent.created',
      'agent.revoked',
      'snapshot.triggered',
      'snapshot.created',
      'job.cancelled',
      'job.redriven',
    ]) {
      expect(actions).toContain(action)
    }
  })
})
