// Schedules through the API on both dialects: people add, list, change and delete a connection's
// schedules (cron and time zone checked, retention policy kept, audited); the project's agent
// fetches them (an ETag makes an unchanged answer a 304), asks for a tick's job (once per tick,
// however many agents ask), reports a scheduled snapshot (its retention job follows), reports
// the retention (forgotten snapshots leave the catalogue), and delivers jobs it ran on its own
// while the control plane was away (recorded once, however often delivered).

import { randomBytes, randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listAuditEvents } from '../src/data/audit.js'
import { DIALECTS } from './dialects.js'
import { errorOf, harness, type Harness } from './api-harness.js'

type Json = Record<string, unknown>

const snapshotResult = (id = randomBytes(16).toString('hex')) => ({
  id,
  name: 'shop',
  repository: '/backups/shop',
  startedAt: '2026-12-03T12:00:00.000Z',
  finishedAt: new Date().toISOString(),
  durationMs: 1200,
  totals: { tables: 1, rows: 500, bytes: 20_000, chunks: 2, newBytes: 9_000, reusedChunks: 0 },
  warnings: [],
})

describe.each(DIALECTS)('schedules through the API on %s', (dialect) => {
  let h: Harness
  let admin: string
  let orgId: string
  let projectBase: string
  let connectionId: string
  let agent: string
  let schedulesPath: string

  const call = async (method: string, path: string, body?: unknown, token = admin) => {
    const res = await h.call(method, path, { token, ...(body === undefined ? {} : { body }) })
    return {
      res,
      body: res.status === 204 || res.status === 304 ? {} : ((await res.clone().json()) as Json),
    }
  }
  const ok = async (method: string, path: string, body?: unknown, token = admin) => {
    const { res, body: json } = await call(method, path, body, token)
    expect(res.status, JSON.stringify(json)).toBeLessThan(300)
    return json
  }

  beforeAll(async () => {
    h = await harness(dialect)
    admin = (await h.register()).tokens.accessToken
    orgId = (
      await ok('POST', '/api/v1/orgs', {
        name: 'Acme',
        slug: `acme-${randomBytes(4).toString('hex')}`,
      })
    )['id'] as string
    const projectId = (
      await ok('POST', `/api/v1/orgs/${orgId}/projects`, { name: 'Shop', slug: 'shop' })
    )['id'] as string
    projectBase = `/api/v1/orgs/${orgId}/projects/${projectId}`
    connectionId = (
      await ok('POST', `${projectBase}/connections`, {
        name: 'shop',
        url: 'postgres://app:pw@db.internal/shop',
      })
    )['id'] as string
    schedulesPath = `${projectBase}/connections/${connectionId}/schedules`
    const made = await ok('POST', `${projectBase}/agents`, { name: 'backup-1' })
    agent = (
      await ok('POST', '/api/v1/agent/register', {
        token: made['registrationToken'],
        version: '0.1.0',
        hostname: 'backup-1',
      })
    )['credential'] as string
  })
  afterAll(async () => {
    await h.cp.drop()
  })

  it('adds, lists, changes and deletes schedules, checking cron and time zone, audited', async () => {
    const made = await ok('POST', schedulesPath, {
      cron: '0 3 * * *',
      timezone: 'Europe/Paris',
      retention: { keepLast: 7, keepWithin: '30d' },
    })
    expect(made).toMatchObject({
      connectionId,
      cron: '0 3 * * *',
      timezone: 'Europe/Paris',
      enabled: true,
      retention: { keepLast: 7, keepWithin: '30d' },
      lastRunAt: null,
    })
    // 03:00 in Paris in December is 02:00 UTC.
    expect(made['nextRunAt']).toMatch(/T02:00:00\.000Z$/)
    const utc = await ok('POST', schedulesPath, { cron: '*/5 * * * *' })
    expect(utc).toMatchObject({ timezone: 'UTC', retention: null })

    for (const [body, field] of [
      [{ cron: 'every day' }, 'cron'],
      [{ cron: '0 3 * * *', timezone: 'Mars/Olympus' }, 'timezone'],
      [{ cron: '0 3 * * *', retention: {} }, 'retention'],
      [{ cron: '0 3 * * *', retention: { keepWithin: 'forever' } }, 'retention.keepWithin'],
    ] as const) {
      const { res } = await call('POST', schedulesPath, body)
      expect(res.status).toBe(400)
      const error = await errorOf(res)
      expect(error.code).toBe('INVALID_ARGUMENT')
      expect(error.fields?.map((f) => f.path)).toContain(field)
    }

    const paused = await ok('PATCH', `${schedulesPath}/${made['id'] as string}`, {
      enabled: false,
      retention: null,
    })
    expect(paused).toMatchObject({ enabled: false, nextRunAt: null, retention: null })
    const { res: badPatch } = await call('PATCH', `${schedulesPath}/${made['id'] as string}`, {
      timezone: 'Nowhere/Land',
    })
    expect(badPatch.status).toBe(400)
    const listed = await ok('GET', schedulesPath)
    expect((listed['items'] as Json[]).map((s) => s['id'])).toEqual([made['id'], utc['id']])
    await ok('DELETE', `${schedulesPath}/${made['id'] as string}`)
    await ok('DELETE', `${schedulesPath}/${utc['id'] as string}`)
    expect((await call('DELETE', `${schedulesPath}/${utc['id'] as string}`)).res.status).toBe(404)
    const actions = (await listAuditEvents(h.cp.db, { orgId }))
      .map((e) => e.action)
      .filter((a) => a.startsWith('schedule.'))
    expect(actions.sort()).toEqual([
      'schedule.created',
      'schedule.created',
      'schedule.deleted',
      'schedule.deleted',
      'schedule.updated',
    ])
  })

  it('gives the agent its schedules, one job per tick, and retention after a scheduled snapshot', async () => {
    const schedule = await ok('POST', schedulesPath, {
      cron: '0 * * * *',
      retention: { keepLast: 1 },
    })
    const first = await h.call('GET', '/api/v1/agent/schedules', { token: agent })
    expect(first.status).toBe(200)
    const fetched = (await first.json()) as { version: string; schedules: Json[] }
    expect(fetched.schedules).toEqual([
      expect.objectContaining({
        id: schedule['id'],
        cron: '0 * * * *',
        retention: { keepLast: 1 },
        connection: expect.objectContaining({
          url: 'postgres://app:pw@db.internal/shop',
        }) as unknown,
      }),
    ])
    expect(first.headers.get('etag')).toBe(`"${fetched.version}"`)
    const again = await h.call('GET', '/api/v1/agent/schedules', {
      token: agent,
      headers: { 'if-none-match': `"${fetched.version}"` },
    })
    expect(again.status).toBe(304)

    // Two agents (or one, twice) asking for the same tick get the same job.
    const tick = { scheduledAt: '2026-12-03T13:00:00.000Z' }
    const runs = `/api/v1/agent/schedules/${schedule['id'] as string}/runs`
    const one = await ok('POST', runs, tick, agent)
    const two = await ok('POST', runs, tick, agent)
    expect(one['created']).toBe(true)
    expect(two).toEqual({ ...one, created: false })
    const listedSchedule = ((await ok('GET', schedulesPath))['items'] as Json[])[0]!
    expect(listedSchedule['lastRunAt']).toBe('2026-12-03T13:00:00.000Z')

    // The tick's snapshot succeeds: a retention job follows, scoped to its catalogue name.
    const leased = await ok('POST', '/api/v1/agent/lease', { waitSeconds: 0 }, agent)
    const job = leased['job'] as Json
    expect(job).toMatchObject({ id: (one['job'] as Json)['id'], kind: 'snapshot' })
    const older = snapshotResult()
    const newer = snapshotResult()
    await ok(
      'POST',
      `/api/v1/agent/jobs/${job['id'] as string}/result`,
      { leaseId: job['leaseId'], result: older },
      agent,
    )
    const retention = (await ok('POST', '/api/v1/agent/lease', { waitSeconds: 0 }, agent))[
      'job'
    ] as Json
    expect(retention).toMatchObject({
      kind: 'retention',
      spec: {
        kind: 'retention',
        connectionId,
        policy: { keepLast: 1 },
        names: ['shop'],
        prune: true,
      },
    })
    // A snapshot taken by the agent on its own meanwhile, delivered twice from its outbox.
    const local = {
      clientJobId: randomUUID(),
      kind: 'snapshot',
      connectionId,
      scheduleId: schedule['id'],
      scheduledAt: '2026-12-03T14:00:00.000Z',
      spec: { kind: 'snapshot', connectionId, tags: { schedule: schedule['id'] } },
      startedAt: '2026-12-03T14:00:00.100Z',
      finishedAt: '2026-12-03T14:00:02.000Z',
      result: newer,
    }
    const delivered = await ok('POST', '/api/v1/agent/jobs/local', local, agent)
    const redelivered = await ok('POST', '/api/v1/agent/jobs/local', local, agent)
    expect(delivered).toMatchObject({ created: true, job: { state: 'succeeded' } })
    expect(redelivered).toEqual({ ...delivered, created: false })
    const catalogue = async () =>
      ((await ok('GET', `${projectBase}/snapshots`))['snapshots'] as Json[]).map((s) => s['id'])
    expect((await catalogue()).sort()).toEqual([older.id, newer.id].sort())

    // The retention forgot the older one: it leaves the catalogue.
    await ok(
      'POST',
      `/api/v1/agent/jobs/${retention['id'] as string}/result`,
      {
        leaseId: retention['leaseId'],
        result: {
          dryRun: false,
          snapshots: [
            {
              id: newer.id,
              name: 'shop',
              startedAt: newer.startedAt,
              keep: true,
              reasons: ['last'],
            },
            { id: older.id, name: 'shop', startedAt: older.startedAt, keep: false, reasons: [] },
          ],
          prune: null,
        },
      },
      agent,
    )
    expect(await catalogue()).toEqual([newer.id])
    const localJob = await ok(
      'GET',
      `${projectBase}/jobs/${(delivered['job'] as Json)['id'] as string}`,
    )
    expect(localJob).toMatchObject({
      kind: 'snapshot',
      state: 'succeeded',
      createdBy: `schedule:${schedule['id'] as string}`,
    })
    expect((localJob['events'] as Json[]).map((e) => e['type'])).toEqual(['created', 'succeeded'])

    // Another project's connection is no business of this agent.
    const otherProject = (
      await ok('POST', `/api/v1/orgs/${orgId}/projects`, { name: 'Other', slug: 'other' })
    )['id'] as string
    const otherConnection = (
      await ok('POST', `/api/v1/orgs/${orgId}/projects/${otherProject}/connections`, {
        name: 'other',
        url: 'postgres://db/other',
      })
    )['id'] as string
    const { res } = await call(
      'POST',
      '/api/v1/agent/jobs/local',
      { ...local, clientJobId: randomUUID(), connectionId: otherConnection },
      agent,
    )
    expect(res.status).toBe(404)
  })
})
