// Export, restore, verify and retention jobs through the API on both dialects, with the agent's
// side played by hand: the project's repository setting (validated, audited, sent with leases);
// restores for org admins in person only; an export on S3 answered with the agent's presigned URL;
// a local export streamed here, downloaded once by its signed link, then gone; uploads fenced by
// the lease and size-limited; verify and retention results applied to the catalogue.

import { randomBytes } from 'node:crypto'
import { readdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listAuditEvents } from '../src/data/audit.js'
import { claimDownload, downloadKey, removeExpiredExports } from '../src/data/exports.js'
import { addMember } from '../src/data/orgs.js'
import { DIALECTS } from './dialects.js'
import { errorOf, harness, type Harness } from './api-harness.js'

/** What the engine reports of a snapshot, as an agent sends it. */
const snapshotResult = (id = randomBytes(32).toString('hex')) => ({
  id,
  name: 'shop',
  repository: '/backups/shop',
  startedAt: '2026-12-03T12:00:00.000Z',
  finishedAt: new Date().toISOString(),
  durationMs: 1200,
  tables: [],
  totals: {
    tables: 1,
    rows: 5,
    bytes: 200,
    chunks: 1,
    newObjects: 2,
    newBytes: 90,
    reusedChunks: 0,
  },
  engine: 'postgres',
  serverVersion: '17.2',
  schemaFingerprint: 'ab'.repeat(32),
  warnings: [],
})

describe.each(DIALECTS)('export, restore, verify and retention jobs on %s', (dialect) => {
  let h: Harness
  let admin: string
  let member: string
  let orgId: string
  let projectBase: string
  let connectionId: string
  let agentToken: string
  const exportDir = join(tmpdir(), `dbsnap-exports-${randomBytes(6).toString('hex')}`)

  const call = async (method: string, path: string, body?: unknown, token = admin) =>
    h.call(method, path, { token, ...(body === undefined ? {} : { body }) })
  const ok = async (method: string, path: string, body?: unknown, token = admin) => {
    const res = await call(method, path, body, token)
    expect(res.status, await res.clone().text()).toBeLessThan(300)
    return (res.status === 204 ? {} : await res.json()) as Record<string, unknown>
  }
  /** Leases the next job as the agent. */
  const lease = async () => {
    const res = await h.call('POST', '/api/v1/agent/lease', {
      token: agentToken,
      body: { waitSeconds: 0 },
    })
    expect(res.status).toBe(200)
    return (await res.json()) as {
      job: { id: string; kind: string; spec: Record<string, unknown>; leaseId: string }
      repository: string | null
    }
  }
  const report = (jobId: string, leaseId: string, result: unknown) =>
    ok('POST', `/api/v1/agent/jobs/${jobId}/result`, { leaseId, result }, agentToken)
  /** A snapshot in the catalogue, through a snapshot job. */
  const snapshot = async () => {
    await ok('POST', `${projectBase}/connections/${connectionId}/snapshots`, {})
    const leased = await lease()
    const result = snapshotResult()
    await report(leased.job.id, leased.job.leaseId, result)
    return result.id
  }

  beforeAll(async () => {
    h = await harness(dialect, { exports: { dir: exportDir, maxBytes: 1000, ttlSeconds: 3600 } })
    const adminIn = await h.register()
    admin = adminIn.tokens.accessToken
    const memberIn = await h.register()
    member = memberIn.tokens.accessToken
    orgId = (
      await ok('POST', '/api/v1/orgs', {
        name: 'Acme',
        slug: `acme-${randomBytes(4).toString('hex')}`,
      })
    ).id as string
    await addMember(h.cp.db, { orgId, userId: memberIn.user.id, role: 'member' })
    const projectId = (
      await ok('POST', `/api/v1/orgs/${orgId}/projects`, { name: 'Shop', slug: 'shop' })
    ).id as string
    projectBase = `/api/v1/orgs/${orgId}/projects/${projectId}`
    connectionId = (
      await ok('POST', `${projectBase}/connections`, {
        name: 'shop',
        url: 'postgres://app:pw@db.internal/shop',
      })
    ).id as string
    const made = await ok('POST', `${projectBase}/agents`, { name: 'backup-1' })
    agentToken = (
      await ok('POST', '/api/v1/agent/register', {
        token: made['registrationToken'],
        version: '0.1.0',
        hostname: 'backup-1',
      })
    ).credential as string
  })
  afterAll(async () => {
    await h.cp.drop()
  })

  it('keeps the repository setting: validated, audited, and sent with each lease', async () => {
    expect(await ok('GET', projectBase)).toMatchObject({ repository: null })
    for (const bad of [
      'relative/dir',
      's3://key:secret@bucket/x',
      's3://Bucket/x',
      's3://bucket/a/../b',
      's3://bucket/x?region=eu',
      'https://example.com/repo',
      '/srv/../etc',
    ]) {
      const res = await call('PATCH', projectBase, { repository: bad })
      expect(res.status, bad).toBe(400)
      expect((await errorOf(res)).code).toBe('INVALID_ARGUMENT')
    }
    expect((await call('PATCH', projectBase, { repository: '/srv/x' }, member)).status).toBe(200)
    expect(
      await ok('PATCH', projectBase, { repository: 's3://backups/dbsnap/shop' }),
    ).toMatchObject({ repository: 's3://backups/dbsnap/shop' })
    await ok('POST', `${projectBase}/verify`, {})
    expect((await lease()).repository).toBe('s3://backups/dbsnap/shop')
    expect(await ok('PATCH', projectBase, { repository: null })).toMatchObject({ repository: null })
    const events = await listAuditEvents(h.cp.db, { orgId })
    expect(events.map((e) => e.action)).toContain('project.repository-changed')
  })

  it('records the engine, server version and schema fingerprint of each snapshot', async () => {
    const id = await snapshot()
    const { snapshots } = (await ok('GET', `${projectBase}/snapshots`)) as {
      snapshots: Record<string, unknown>[]
    }
    expect(snapshots.find((s) => s['id'] === id)).toMatchObject({
      engine: 'postgres',
      serverVersion: '17.2',
      schemaFingerprint: 'ab'.repeat(32),
      verifiedAt: null,
      verifyProblems: null,
    })
  })

  it('restores for org admins in person only, into a connection of the project', async () => {
    const id = await snapshot()
    const path = `${projectBase}/snapshots/${id}/restores`
    expect((await call('POST', path, { connectionId }, member)).status).toBe(403)
    const { secret } = (await ok('POST', `/api/v1/orgs/${orgId}/keys`, {
      name: 'everything',
      scopes: ['snapshots:write', 'snapshots:export', 'snapshots:forget', 'jobs:write'],
    })) as { secret: string }
    expect((await call('POST', path, { connectionId }, secret)).status).toBe(403)
    expect((await call('POST', path, { connectionId: 'no-such' })).status).toBe(404)
    expect(
      (await call('POST', `${projectBase}/snapshots/${'0'.repeat(64)}/restores`, { connectionId }))
        .status,
    ).toBe(404)
    expect((await call('POST', path, { connectionId, onConflict: 'skip' })).status).toBe(400)
    const job = await ok('POST', path, { connectionId, tables: ['public.orders'], dryRun: true })
    expect(job).toMatchObject({
      kind: 'restore',
      connectionId,
      maxAttempts: 1,
      spec: {
        kind: 'restore',
        connectionId,
        snapshot: id,
        tables: ['public.orders'],
        dryRun: true,
      },
    })
    const leased = await lease()
    expect(leased.job.id).toBe(job['id'])
    await report(leased.job.id, leased.job.leaseId, { dryRun: true })
    const events = await listAuditEvents(h.cp.db, { orgId })
    expect(events.find((e) => e.action === 'snapshot.restore-requested')).toMatchObject({
      targetId: id,
    })
  })

  it('answers an export on S3 with the presigned URL its agent made', async () => {
    const id = await snapshot()
    const job = await ok('POST', `${projectBase}/snapshots/${id}/exports`, {
      format: 'sql',
      dialect: 'mysql',
      tables: ['public.orders'],
    })
    const download = `${projectBase}/jobs/${job['id'] as string}/download`
    const notYet = await call('GET', download)
    expect(notYet.status).toBe(409)
    expect((await errorOf(notYet)).code).toBe('EXPORT_NOT_READY')
    const leased = await lease()
    expect(leased.job.spec).toEqual({
      kind: 'export',
      snapshot: id,
      format: 'sql',
      dialect: 'mysql',
      tables: ['public.orders'],
    })
    const url = 'https://s3.example.com/backups/exports/x.sql?X-Amz-Signature=abc'
    const expiresAt = new Date(Date.now() + 3_600_000).toISOString()
    await ok(
      'POST',
      `/api/v1/agent/jobs/${leased.job.id}/export-link`,
      { leaseId: leased.job.leaseId, url, expiresAt, bytes: 123 },
      agentToken,
    )
    await report(leased.job.id, leased.job.leaseId, { rows: 5, out: 's3://backups/exports/x.sql' })
    expect(await ok('GET', download, undefined, member)).toEqual({ url, expiresAt })
    // The URL is not in the job, which read-only members and API keys with jobs:read see.
    expect(
      JSON.stringify(await ok('GET', `${projectBase}/jobs/${job['id'] as string}`)),
    ).not.toContain('X-Amz-Signature')
    expect(
      (await call('GET', `${projectBase}/jobs/${leased.job.id}/download`, undefined, 'x')).status,
    ).toBe(401)
  })

  it('serves a local export once by its signed link, then 410', async () => {
    const id = await snapshot()
    const job = await ok('POST', `${projectBase}/snapshots/${id}/exports`, { format: 'ndjson' })
    const leased = await lease()
    const upload = (body: string, leaseId = leased.job.leaseId, token = agentToken) =>
      h.app.request(`/api/v1/agent/jobs/${leased.job.id}/export-file`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/octet-stream',
          'dbsnap-lease-id': leaseId,
        },
        body,
      })
    expect((await upload('x', leased.job.leaseId, admin)).status).toBe(401)
    const fenced = await upload('x', '00000000-0000-4000-8000-000000000000')
    expect(fenced.status).toBe(409)
    expect((await errorOf(fenced)).code).toBe('LEASE_LOST')
    const tooBig = await upload('x'.repeat(1001))
    expect(tooBig.status).toBe(413)
    expect(await readdir(exportDir)).toEqual([])
    const content = '{"id":1}\n{"id":2}\n'
    expect((await upload(content)).status).toBe(201)
    await report(leased.job.id, leased.job.leaseId, { rows: 2, out: 'control-plane' })

    const link = await ok('GET', `${projectBase}/jobs/${job['id'] as string}/download`)
    expect(link['url']).toMatch(/^http:\/\/localhost\/api\/v1\/downloads\/[\w-]+\.[\w-]+$/)
    expect(Date.parse(link['expiresAt'] as string)).toBeGreaterThan(Date.now())
    const path = new URL(link['url'] as string).pathname
    const [payload, sig] = path.split('/').at(-1)!.split('.')
    const tampered = await h.app.request(`/api/v1/downloads/${payload!}.${sig!.slice(1)}x`)
    expect(tampered.status).toBe(404)
    const first = await h.app.request(path)
    expect(first.status).toBe(200)
    expect(first.headers.get('content-disposition')).toBe(
      `attachment; filename="${id.slice(0, 12)}.ndjson"`,
    )
    expect(await first.text()).toBe(content)
    expect(await readdir(exportDir)).toEqual([])
    const second = await h.app.request(path)
    expect(second.status).toBe(410)
    expect((await errorOf(second)).code).toBe('DOWNLOAD_GONE')
    const again = await call('GET', `${projectBase}/jobs/${job['id'] as string}/download`)
    expect(again.status).toBe(410)
  })

  it('refuses an expired link, and deletes exports nobody downloaded in time', async () => {
    const id = await snapshot()
    const job = await ok('POST', `${projectBase}/snapshots/${id}/exports`, { format: 'json' })
    const leased = await lease()
    const res = await h.app.request(`/api/v1/agent/jobs/${leased.job.id}/export-file`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${agentToken}`, 'dbsnap-lease-id': leased.job.leaseId },
      body: '{}',
    })
    expect(res.status).toBe(201)
    await report(leased.job.id, leased.job.leaseId, { rows: 0, out: 'control-plane' })
    const link = await ok('GET', `${projectBase}/jobs/${job['id'] as string}/download`)
    const token = new URL(link['url'] as string).pathname.split('/').at(-1)!
    const settings = { dir: exportDir, maxBytes: 1000, ttlSeconds: 3600 }
    const later = new Date(Date.now() + 16 * 60_000)
    await expect(
      claimDownload(h.cp.db, settings, downloadKey(h.signingKey), token, later),
    ).rejects.toMatchObject({ code: 'DOWNLOAD_GONE' })
    expect(await readdir(exportDir)).toHaveLength(1)
    expect(await removeExpiredExports(h.cp.db, settings, new Date(Date.now() + 7200_000))).toBe(1)
    expect(await readdir(exportDir)).toEqual([])
    const gone = await call('GET', `${projectBase}/jobs/${job['id'] as string}/download`)
    expect(gone.status).toBe(410)
    expect((await errorOf(gone)).code).toBe('DOWNLOAD_GONE')
  })

  it('marks verified snapshots and removes forgotten ones from the catalogue', async () => {
    const [older, newer] = [await snapshot(), await snapshot()]
    const verify = await ok('POST', `${projectBase}/verify`, {
      snapshots: [older, newer],
      readDataSubset: '10%',
    })
    expect(verify['spec']).toEqual({
      kind: 'verify',
      snapshots: [older, newer],
      readDataSubset: '10%',
    })
    expect(
      (await call('POST', `${projectBase}/verify`, { snapshots: ['f'.repeat(64)] })).status,
    ).toBe(404)
    let leased = await lease()
    await report(leased.job.id, leased.job.leaseId, {
      snapshots: 2,
      objects: 4,
      dataChunksRead: 1,
      bytesRead: 10,
      problems: [
        { object: 'chunks/ab/x', code: 'DATA_CORRUPT', message: 'bad', snapshots: [older] },
      ],
    })
    const listed = async () =>
      ((await ok('GET', `${projectBase}/snapshots`)) as { snapshots: Record<string, unknown>[] })
        .snapshots
    const after = await listed()
    expect(after.find((s) => s['id'] === older)).toMatchObject({ verifyProblems: 1 })
    expect(after.find((s) => s['id'] === newer)).toMatchObject({
      verifyProblems: 0,
      verifiedAt: expect.any(String) as string,
    })

    const path = `${projectBase}/connections/${connectionId}/retention`
    expect((await call('POST', path, { policy: {} })).status).toBe(400)
    expect((await call('POST', path, { policy: { keepLast: 1 } }, member)).status).toBe(202)
    leased = await lease()
    expect(leased.job).toMatchObject({
      kind: 'retention',
      spec: { kind: 'retention', connectionId, policy: { keepLast: 1 } },
    })
    const forgetResult = (dryRun: boolean) => ({
      dryRun,
      snapshots: [
        {
          id: newer,
          name: 'shop',
          startedAt: '2026-12-03T12:00:00.000Z',
          keep: true,
          reasons: ['last'],
        },
        {
          id: older,
          name: 'shop',
          startedAt: '2026-12-03T11:00:00.000Z',
          keep: false,
          reasons: [],
        },
      ],
      prune: null,
    })
    // A dry run forgets nothing: the catalogue stays as it is.
    const dry = await ok('POST', path, { policy: { keepLast: 1 }, dryRun: true })
    const dryLeased = await lease()
    expect(dryLeased.job.id).toBe(dry.id)
    await report(dryLeased.job.id, dryLeased.job.leaseId, forgetResult(true))
    expect((await listed()).map((s) => s['id'])).toContain(older)
    await report(leased.job.id, leased.job.leaseId, {
      dryRun: false,
      snapshots: [
        {
          id: newer,
          name: 'shop',
          startedAt: '2026-12-03T12:00:00.000Z',
          keep: true,
          reasons: ['last'],
        },
        {
          id: older,
          name: 'shop',
          startedAt: '2026-12-03T11:00:00.000Z',
          keep: false,
          reasons: [],
        },
      ],
      prune: { deleted: 0 },
    })
    const ids = (await listed()).map((s) => s['id'])
    expect(ids).toContain(newer)
    expect(ids).not.toContain(older)
    const events = await listAuditEvents(h.cp.db, { orgId })
    const forgotten = events.find((e) => e.action === 'snapshot.forgotten')!
    expect(JSON.parse(forgotten.details)).toMatchObject({ snapshots: [older] })

    // A report of the forgotten snapshot that comes after the retention (from an agent's outbox)
    // does not bring it back.
    await ok('POST', `${projectBase}/connections/${connectionId}/snapshots`, {})
    const late = await lease()
    await report(late.job.id, late.job.leaseId, snapshotResult(older))
    expect((await listed()).map((s) => s['id'])).not.toContain(older)
  })

  it('drops from the catalogue what a leased retention’s listing shows gone, and only that', async () => {
    // Another agent of the project, with a repository of its own at the same path.
    const made = await ok('POST', `${projectBase}/agents`, { name: 'backup-2' })
    const otherToken = (
      await ok('POST', '/api/v1/agent/register', {
        token: made['registrationToken'],
        version: '0.1.0',
        hostname: 'backup-2',
      })
    ).credential as string
    await ok('POST', `${projectBase}/connections/${connectionId}/snapshots`, {})
    const byOther = (await (
      await h.call('POST', '/api/v1/agent/lease', { token: otherToken, body: { waitSeconds: 0 } })
    ).json()) as { job: { id: string; leaseId: string } }
    const elsewhere = snapshotResult()
    await ok(
      'POST',
      `/api/v1/agent/jobs/${byOther.job.id}/result`,
      { leaseId: byOther.job.leaseId, result: elsewhere },
      otherToken,
    )
    const listed = async () =>
      (
        (await ok('GET', `${projectBase}/snapshots?limit=100`)) as {
          snapshots: { id: string }[]
        }
      ).snapshots.map((s) => s.id)
    // `lost` was forgotten by a retention whose report never came; `kept` is still there.
    const [lost, kept] = [await snapshot(), await snapshot()]
    const otherName = snapshotResult()
    await ok('POST', `${projectBase}/connections/${connectionId}/snapshots`, {})
    const named = await lease()
    await report(named.job.id, named.job.leaseId, { ...otherName, name: 'other' })
    await new Promise((resolve) => setTimeout(resolve, 5))

    const path = `${projectBase}/connections/${connectionId}/retention`
    await ok('POST', path, { policy: { keepLast: 5 } })
    const retention = await lease()
    // Catalogued while the retention runs: it may have been written after the listing.
    const during = await snapshot()
    const decision = (id: string) => ({
      id,
      name: 'shop',
      startedAt: '2026-12-03T12:00:00.000Z',
      keep: true,
      reasons: ['last'],
    })
    await report(retention.job.id, retention.job.leaseId, {
      repository: '/backups/shop',
      dryRun: false,
      snapshots: [decision(kept)],
      prune: null,
    })
    const ids = await listed()
    expect(ids).not.toContain(lost)
    for (const id of [kept, during, elsewhere.id, otherName.id]) expect(ids).toContain(id)
    const events = await listAuditEvents(h.cp.db, { orgId })
    const audited = events.find(
      (e) => e.action === 'snapshot.forgotten' && e.details.includes(retention.job.id),
    )!
    expect(JSON.parse(audited.details)).toMatchObject({
      snapshots: [],
      // With those the earlier tests left, all unlisted.
      missing: expect.arrayContaining([lost]) as string[],
    })
    // And it stays gone if its report comes after all.
    await ok('POST', `${projectBase}/connections/${connectionId}/snapshots`, {})
    const late = await lease()
    await report(late.job.id, late.job.leaseId, snapshotResult(lost))
    expect(await listed()).not.toContain(lost)

    // A result without the repository (an older agent) forgets what it lists, nothing more.
    const [stale, last] = [await snapshot(), await snapshot()]
    await new Promise((resolve) => setTimeout(resolve, 5))
    await ok('POST', path, { policy: { keepLast: 5 } })
    const old = await lease()
    await report(old.job.id, old.job.leaseId, {
      dryRun: false,
      snapshots: [decision(last)],
      prune: null,
    })
    expect(await listed()).toContain(stale)
  })
})
