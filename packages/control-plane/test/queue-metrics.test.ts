// The queue's depth for scaling, on both dialects: the grouped depth query (due, delayed and
// running jobs, the oldest due job's age), the desired-agent rule, GET /api/v1/admin/queue (who
// sees which projects), GET /api/v1/agent/queue (the agent's own project), and /metrics (the
// queue gauges, lease and report counters, request durations, and its bearer token).

import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAgent, registerAgent } from '../src/data/agents.js'
import { JobQueue } from '../src/data/jobs.js'
import { addMember } from '../src/data/orgs.js'
import { desiredAgents, queueDepths, type QueueDepth } from '../src/data/queue-stats.js'
import { DIALECTS } from './dialects.js'
import { errorOf, harness, type Harness } from './api-harness.js'

const METRICS_TOKEN = 'metrics-token-0123456789'

describe('the desired-agent rule', () => {
  const depth = (projectId: string, pending: number, running: number): QueueDepth => ({
    projectId,
    kind: 'snapshot',
    pending,
    delayed: 7,
    running,
    oldestPendingAgeSeconds: 0,
  })

  it.each([
    // [pending, running, jobsPerAgent, min, max, desired]
    [0, 0, 1, 0, 10, 0],
    [0, 0, 1, 1, 10, 1],
    [5, 0, 1, 0, 10, 5],
    [5, 0, 2, 0, 10, 3],
    [5, 3, 2, 0, 10, 4],
    [40, 0, 1, 0, 10, 10],
  ])('%i pending, %i running, %i per agent, in [%i, %i]: %i', (p, r, per, min, max, want) => {
    const got = desiredAgents([depth('a', p, r)], { jobsPerAgent: per, min, max })
    expect(got).toEqual({ total: want, byProject: { a: want } })
  })

  it('sums the projects, each clamped on its own, and ignores delayed jobs', () => {
    const got = desiredAgents(
      [depth('a', 3, 0), { ...depth('a', 1, 1), kind: 'verify' }, depth('b', 30, 0)],
      { jobsPerAgent: 1, min: 0, max: 10 },
    )
    expect(got).toEqual({ total: 15, byProject: { a: 5, b: 10 } })
  })
})

describe.each(DIALECTS)('queue depth, admin queue and /metrics on %s', (dialect) => {
  let h: Harness
  let queue: JobQueue
  let admin: string
  let member: string
  let instanceAdmin: string
  let orgId: string
  let projectId: string
  let otherProjectId: string
  let agentToken: string

  beforeAll(async () => {
    h = await harness(dialect, {
      metrics: { token: METRICS_TOKEN, desiredAgents: { jobsPerAgent: 2, min: 0, max: 10 } },
    })
    queue = new JobQueue(h.cp)
    const adminIn = await h.register()
    admin = adminIn.tokens.accessToken
    const memberIn = await h.register()
    member = memberIn.tokens.accessToken
    const rootIn = await h.register()
    instanceAdmin = rootIn.tokens.accessToken
    await h.cp.db
      .updateTable('users')
      .set({ instanceAdminAt: new Date().toISOString() })
      .where('id', '=', rootIn.user.id)
      .execute()
    const post = async (path: string, body: unknown, token: string) => {
      const res = await h.call('POST', path, { token, body })
      expect(res.status, await res.clone().text()).toBeLessThan(300)
      return (await res.json()) as Record<string, unknown>
    }
    const tag = randomBytes(4).toString('hex')
    orgId = (await post('/api/v1/orgs', { name: 'Acme', slug: `acme-${tag}` }, admin)).id as string
    await addMember(h.cp.db, { orgId, userId: memberIn.user.id, role: 'member' })
    projectId = (
      await post(`/api/v1/orgs/${orgId}/projects`, { name: 'Shop', slug: 'shop' }, admin)
    ).id as string
    // Another organisation's project: the org admin must not see it, the instance admin must.
    const otherOrg = (await post('/api/v1/orgs', { name: 'Other', slug: `o-${tag}` }, member))
      .id as string
    otherProjectId = (
      await post(`/api/v1/orgs/${otherOrg}/projects`, { name: 'Else', slug: 'else' }, member)
    ).id as string
    const made = await createAgent(h.cp.db, { projectId, name: 'a1', createdBy: adminIn.user.id })
    agentToken = (
      await registerAgent(h.cp.db, made.registrationToken, { version: '0.1.0', hostname: 'h' })
    ).credential

    const now = Date.now()
    const job = (kind: 'snapshot' | 'verify', project = projectId, runAfter?: Date) =>
      queue.enqueue(
        {
          projectId: project,
          kind,
          spec: {},
          createdBy: 'test',
          ...(runAfter === undefined ? {} : { runAfter }),
        },
        new Date(now - 60_000),
      )
    // Shop: 3 due snapshots (one leased below), 1 delayed; 1 verify. Else: 2 snapshots.
    for (let i = 0; i < 3; i++) await job('snapshot')
    await job('snapshot', projectId, new Date(now + 3_600_000))
    await job('verify')
    await job('snapshot', otherProjectId)
    await job('snapshot', otherProjectId)
  })
  afterAll(async () => {
    await h.cp.drop()
  })

  it('counts due, delayed and running jobs per project and kind in one query', async () => {
    // Through the API, so the metrics' counters see the lease.
    const leased = await h.call('POST', '/api/v1/agent/lease', {
      token: agentToken,
      body: { waitSeconds: 0 },
    })
    expect(leased.status).toBe(200)
    const depths = await queueDepths(h.cp.db)
    const shop = depths.filter((d) => d.projectId === projectId)
    expect(shop).toEqual([
      {
        projectId,
        kind: 'snapshot',
        pending: 2,
        delayed: 1,
        running: 1,
        oldestPendingAgeSeconds: expect.any(Number) as number,
      },
      {
        projectId,
        kind: 'verify',
        pending: 1,
        delayed: 0,
        running: 0,
        oldestPendingAgeSeconds: expect.any(Number) as number,
      },
    ])
    expect(shop[0]!.oldestPendingAgeSeconds).toBeGreaterThanOrEqual(59)
    expect(shop[0]!.oldestPendingAgeSeconds).toBeLessThan(120)
    expect(depths.find((d) => d.projectId === otherProjectId)?.pending).toBe(2)
    expect(await queueDepths(h.cp.db, { projectIds: [] })).toEqual([])
  })

  it('answers the agent its own project’s queue', async () => {
    const res = await h.call('GET', '/api/v1/agent/queue', { token: agentToken })
    expect(res.status).toBe(200)
    const body = (await res.json()) as Record<string, unknown>
    expect(body).toMatchObject({ projectId, pending: 3, delayed: 1, running: 1 })
    expect((body['kinds'] as unknown[]).length).toBe(2)
    expect((await h.call('GET', '/api/v1/agent/queue', { token: admin })).status).toBe(401)
  })

  interface AdminQueue {
    queues: QueueDepth[]
    desiredAgents: { total: number; byProject: Record<string, number> }
    rule: { jobsPerAgent: number }
  }
  const adminQueue = async (token: string, query = '') => {
    const res = await h.call('GET', `/api/v1/admin/queue${query}`, { token })
    expect(res.status, await res.clone().text()).toBe(200)
    return (await res.json()) as AdminQueue
  }

  it('shows an instance admin every project, with the desired agents', async () => {
    const body = await adminQueue(instanceAdmin)
    expect(new Set(body.queues.map((q) => q.projectId))).toEqual(
      new Set([projectId, otherProjectId]),
    )
    // Shop: 3 pending + 1 running at 2 jobs per agent -> 2; Else: 2 pending -> 1.
    expect(body.desiredAgents).toEqual({
      total: 3,
      byProject: { [projectId]: 2, [otherProjectId]: 1 },
    })
    expect(body.rule.jobsPerAgent).toBe(2)
    // One project, for a scaler of its agents: `total` is that project's count.
    const one = await adminQueue(instanceAdmin, `?projectId=${otherProjectId}`)
    expect(one.desiredAgents).toEqual({ total: 1, byProject: { [otherProjectId]: 1 } })
  })

  it('shows an organisation admin its organisations only, and refuses other members', async () => {
    const body = await adminQueue(admin)
    expect(body.queues.map((q) => q.projectId)).toEqual([projectId, projectId])
    expect(body.desiredAgents.byProject).toEqual({ [projectId]: 2 })
    // Another organisation's project, named: an empty answer, as for a project with no jobs.
    const hidden = await adminQueue(admin, `?projectId=${otherProjectId}`)
    expect(hidden).toMatchObject({ queues: [], desiredAgents: { total: 0, byProject: {} } })
    // The member administers "Other" (it made it) and sees that one only.
    expect((await adminQueue(member)).queues.map((q) => q.projectId)).toEqual([otherProjectId])
    const loner = await h.register()
    const refused = await h.call('GET', '/api/v1/admin/queue', {
      token: loner.tokens.accessToken,
    })
    expect(refused.status).toBe(403)
    expect((await errorOf(refused)).code).toBe('FORBIDDEN')
    expect((await h.call('GET', '/api/v1/admin/queue')).status).toBe(401)
  })

  it('takes an API key with the queue:read scope, for its organisation', async () => {
    const key = async (scopes: string[]) => {
      const res = await h.call('POST', `/api/v1/orgs/${orgId}/keys`, {
        token: admin,
        body: { name: `k-${scopes.join()}`, scopes },
      })
      expect(res.status, await res.clone().text()).toBe(201)
      return ((await res.json()) as { secret: string }).secret
    }
    const body = await adminQueue(await key(['queue:read']))
    expect(body.desiredAgents.byProject).toEqual({ [projectId]: 2 })
    const without = await h.call('GET', '/api/v1/admin/queue', {
      token: await key(['jobs:read']),
    })
    expect(without.status).toBe(403)
  })

  it('serves /metrics with the bearer token only', async () => {
    const refused = await h.call('GET', '/metrics')
    expect(refused.status).toBe(401)
    expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="metrics"')
    expect((await errorOf(refused)).code).toBe('UNAUTHENTICATED')
    expect((await h.call('GET', '/metrics', { token: 'wrong' })).status).toBe(401)
    const res = await h.call('GET', '/metrics', { token: METRICS_TOKEN })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/)
    const text = await res.text()
    const line = (prefix: string) =>
      text
        .split('\n')
        .find((l) => l.startsWith(prefix))
        ?.split(' ')[1]
    expect(
      line(`dbsnap_cp_queue_jobs{project="${projectId}",kind="snapshot",state="pending"}`),
    ).toBe('2')
    expect(
      line(`dbsnap_cp_queue_jobs{project="${projectId}",kind="snapshot",state="running"}`),
    ).toBe('1')
    expect(
      line(`dbsnap_cp_queue_jobs{project="${projectId}",kind="snapshot",state="delayed"}`),
    ).toBe('1')
    expect(text).toMatch(
      new RegExp(
        `dbsnap_cp_queue_oldest_pending_age_seconds\\{project="${projectId}",kind="snapshot"\\} \\d+`,
      ),
    )
    expect(line(`dbsnap_cp_desired_agents{project="${projectId}"}`)).toBe('2')
    expect(line('dbsnap_cp_desired_agents_total')).toBe('3')
    expect(line('dbsnap_cp_jobs_leased_total{kind="snapshot"}')).toBe('1')
    expect(text).toContain(
      'dbsnap_cp_http_request_duration_seconds_count{method="POST",route="/api/v1/agent/lease",status="200"}',
    )
    expect(text).toContain('dbsnap_cp_process_cpu_seconds_total')
  })

  it('counts the reports by the state the job went to', async () => {
    const leased = await h.call('POST', '/api/v1/agent/lease', {
      token: agentToken,
      body: { waitSeconds: 0 },
    })
    const { job } = (await leased.json()) as { job: { id: string; leaseId: string; kind: string } }
    const failed = await h.call('POST', `/api/v1/agent/jobs/${job.id}/failure`, {
      token: agentToken,
      body: { leaseId: job.leaseId, error: { code: 'X', message: 'x', retryable: true } },
    })
    expect(failed.status).toBe(200)
    const text = await (await h.call('GET', '/metrics', { token: METRICS_TOKEN })).text()
    expect(text).toContain(`dbsnap_cp_job_reports_total{kind="${job.kind}",state="pending"} 1`)
  })
})
