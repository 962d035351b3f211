// The agent's outbox against a real control plane served over HTTP (SQLite): reports kept while
// the control plane is unreachable stay on disk, survive a restart (a new Outbox on the same
// directory), go out in the order they were made, and count once however often delivered; a
// snapshot result whose lease expired meanwhile is recorded as a job of the agent, in the
// catalogue (the repository holds the snapshot), while a late failure is dropped.

import { serve, type ServerType } from '@hono/node-server'
import { randomBytes, randomUUID } from 'node:crypto'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { silentLogger } from '@dbsnap/engine/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApp } from '../../control-plane/src/app.js'
import { createAgent, registerAgent } from '../../control-plane/src/data/agents.js'
import { createConnection } from '../../control-plane/src/data/connections.js'
import { jobEvents } from '../../control-plane/src/data/job-reads.js'
import { JobQueue } from '../../control-plane/src/data/jobs.js'
import { createOrg } from '../../control-plane/src/data/orgs.js'
import { createProject } from '../../control-plane/src/data/projects.js'
import { listSnapshots } from '../../control-plane/src/data/snapshots.js'
import { createUser } from '../../control-plane/src/data/users.js'
import { SecretBox, secretKey } from '../../control-plane/src/secrets/secret-box.js'
import { migratedDatabase, type TestControlPlaneDb } from '../../control-plane/test/dialects.js'
import { closedPort } from '../../../test/net.js'
import { ControlPlaneClient, type LocalJobReport } from '../src/control-plane-client.js'
import { Outbox } from '../src/outbox.js'

const LEASE_MS = 1_000

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

describe('the agent outbox against a control plane', () => {
  let cp: TestControlPlaneDb
  let server: ServerType
  let url: string
  let dir: string
  let projectId: string
  let connectionId: string
  let credential: string
  let queue: JobQueue

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dbsnap-outbox-'))
    cp = await migratedDatabase('sqlite')
    const secrets = new SecretBox(secretKey(randomBytes(32)))
    const app = createApp({
      db: cp,
      version: 'test',
      secrets,
      auth: { signingKey: randomBytes(32) },
      queue: { leaseMs: LEASE_MS, backoffBaseMs: 0 },
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
        { name: 'shop', credential: { url: 'postgres://db/shop' } },
      )
    ).id
    const { registrationToken } = await createAgent(cp.db, {
      projectId,
      name: 'agent',
      createdBy: userId,
    })
    credential = (await registerAgent(cp.db, registrationToken, { version: 't', hostname: 't' }))
      .credential
    queue = new JobQueue(cp, { leaseMs: LEASE_MS })
  })
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve))
    await cp.drop()
    await rm(dir, { recursive: true, force: true })
  })

  const local = (result = snapshotResult()): LocalJobReport => ({
    clientJobId: randomUUID(),
    kind: 'snapshot',
    connectionId,
    spec: { kind: 'snapshot', connectionId, tags: {} },
    startedAt: new Date().toISOString(),
    finishedAt: new Date().toISOString(),
    result,
  })

  it('keeps reports on disk while unreachable and delivers them in order, once, after a restart', async () => {
    const state = join(dir, 'restart')
    const down = new Outbox(
      state,
      new ControlPlaneClient(`http://127.0.0.1:${await closedPort()}`, credential),
      silentLogger,
    )
    const reports = [local(), local(), local()]
    for (const report of reports) await down.submit({ type: 'local', report })
    expect((await down.pending()).length).toBe(3)

    // The agent restarts and the control plane is back.
    const up = new Outbox(state, new ControlPlaneClient(url, credential), silentLogger)
    expect(await up.flush()).toBe(true)
    expect(await readdir(join(state, 'outbox'))).toEqual([])
    const jobs = await cp.db
      .selectFrom('jobs')
      .selectAll()
      .where('kind', '=', 'snapshot')
      .orderBy('id')
      .execute()
    expect(jobs.map((j) => (JSON.parse(j.result!) as { id: string }).id)).toEqual(
      reports.map((r) => (r.result as { id: string }).id),
    )
    // Delivered again (a crash between the answer and the unlink): nothing new.
    await up.submit({ type: 'local', report: reports[0]! })
    expect(
      await cp.db.selectFrom('jobs').select('id').where('kind', '=', 'snapshot').execute(),
    ).toHaveLength(3)
    const { snapshots } = await listSnapshots(cp.db, projectId)
    expect(snapshots).toHaveLength(3)
  })

  it('records a snapshot result whose lease expired as a job of the agent; drops a late failure', async () => {
    const client = new ControlPlaneClient(url, credential)
    const outbox = new Outbox(join(dir, 'late'), client, silentLogger)
    const enqueue = () =>
      queue.enqueue({
        projectId,
        connectionId,
        kind: 'snapshot',
        spec: { kind: 'snapshot', connectionId },
        createdBy: 'test',
      })
    const first = await enqueue()
    const leased = (await client.lease(0))!
    expect(leased.job.id).toBe(first.id)
    const second = await enqueue()
    const leasedToo = (await client.lease(0))!
    expect(leasedToo.job.id).toBe(second.id)
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 200))
    const result = snapshotResult()
    await outbox.submit({
      type: 'result',
      jobId: first.id,
      leaseId: leased.job.leaseId,
      kind: 'snapshot',
      connectionId,
      spec: leased.job.spec,
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      result,
    })
    await outbox.submit({
      type: 'failure',
      jobId: second.id,
      leaseId: leasedToo.job.leaseId,
      error: { code: 'X', message: 'x', retryable: true },
    })
    expect(await outbox.pending()).toEqual([])
    // The leased job went back to the queue; the snapshot is in the catalogue, by a local job.
    const { snapshots } = await listSnapshots(cp.db, projectId)
    const recorded = snapshots.find((s) => s.id === result.id)!
    expect(recorded.jobId).not.toBe(first.id)
    const events = await jobEvents(cp.db, recorded.jobId!)
    expect(events.map((e) => e.type)).toEqual(['created', 'succeeded'])
    expect(JSON.parse(events[0]!.details)).toMatchObject({ local: true, leasedJobId: first.id })
    expect((await jobEvents(cp.db, second.id)).map((e) => e.type)).toContain('report-refused')
  })
})
