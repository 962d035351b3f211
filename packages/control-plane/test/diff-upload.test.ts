// The agent's diff upload (packages/agent/src/diff-upload.ts) against this control plane over
// HTTP: pages cut by count and by bytes, a change too big to send whole sent without its rows,
// each page naming its tables' columns (counted in its bytes), a result that fits the result
// route, a lost lease and an unreachable control plane reported as the job's failure with the
// right code.

import type { AddressInfo } from 'node:net'
import { randomBytes } from 'node:crypto'
import { serve, type ServerType } from '@hono/node-server'
import { ControlPlaneClient, DiffUpload } from '@dbsnap/agent'
import type { DiffJobResult, RowChange, SnapshotDiff, TableDiff } from '@dbsnap/engine'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAgent, registerAgent } from '../src/data/agents.js'
import { getDiff, listChanges, requestDiff } from '../src/data/diffs.js'
import { JobQueue } from '../src/data/jobs.js'
import { createOrg } from '../src/data/orgs.js'
import { createProject } from '../src/data/projects.js'
import { recordSnapshot } from '../src/data/snapshots.js'
import { createUser } from '../src/data/users.js'
import { harness, type Harness } from './api-harness.js'

const rowChanges = (changes: RowChange[], tables: Partial<TableDiff>[] = []): SnapshotDiff =>
  ({
    tables,
    async *rowChanges() {
      for (const change of changes) yield await Promise.resolve(change)
    },
  }) as unknown as SnapshotDiff

/** A client that records the tables each page named. */
class RecordingClient extends ControlPlaneClient {
  readonly pages: { changes: unknown[]; tables: unknown[] }[] = []
  override diffChanges(
    jobId: string,
    leaseId: string,
    page: number,
    changes: unknown[],
    tables: unknown[],
  ) {
    this.pages.push({ changes, tables })
    return super.diffChanges(jobId, leaseId, page, changes, tables)
  }
}

const change = (id: number, text = 'x'): RowChange => ({
  table: id % 2 === 0 ? 'public.even' : 'public.odd',
  change: 'modified',
  key: [id],
  old: [id, 'before'],
  new: [id, text],
  fields: [{ column: 'name', old: 'before', new: text }],
})

describe('the agent’s diff upload against the control plane', () => {
  let h: Harness
  let server: ServerType
  let url: string
  let client: RecordingClient
  let projectId: string
  let snapshotId: string
  let queue: JobQueue

  beforeAll(async () => {
    h = await harness('sqlite')
    server = serve({ fetch: h.app.fetch, port: 0, hostname: '127.0.0.1' })
    await new Promise((resolve) => server.once('listening', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const owner = await createUser(h.cp.db, { email: 'o@example.com', passwordHash: null })
    const org = await createOrg(h.cp.db, { name: 'Acme', slug: 'acme', ownerId: owner.id })
    projectId = (await createProject(h.cp.db, { orgId: org.id, name: 'Shop', slug: 'shop' })).id
    const made = await createAgent(h.cp.db, { projectId, name: 'a1', createdBy: owner.id })
    const { credential } = await registerAgent(h.cp.db, made.registrationToken, {
      version: '0.1.0',
      hostname: 'h',
    })
    client = new RecordingClient(url, credential)
    queue = new JobQueue(h.cp)
    const job = await queue.enqueue({ projectId, kind: 'snapshot', spec: {}, createdBy: 'test' })
    const now = new Date().toISOString()
    snapshotId = (
      await recordSnapshot(
        h.cp.db,
        { ...job, leasedBy: null },
        {
          id: randomBytes(16).toString('hex'),
          name: 'shop',
          repository: '/r',
          startedAt: now,
          finishedAt: now,
          durationMs: 1,
          totals: { tables: 2, rows: 2, bytes: 1, chunks: 1, newBytes: 1, reusedChunks: 0 },
        },
      )
    ).id
    await queue.cancel(projectId, job.id, 'test')
  })
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve))
    await h.cp.drop()
  })

  /** A diff queued and leased through the client, as the runner gets it. */
  async function leasedDiff() {
    const { diff } = await requestDiff(h.cp.db, queue, {
      projectId,
      from: snapshotId,
      to: snapshotId,
      createdBy: 'test',
    })
    const leased = await client.lease(0)
    expect(leased?.job.kind).toBe('diff')
    return { diff, job: leased!.job }
  }

  it('cuts pages by count and by bytes, and sends a change too big whole without its rows', async () => {
    const { diff, job } = await leasedDiff()
    const upload = new DiffUpload(client, job.id, job.leaseId, {
      maxPageChanges: 4,
      maxPageBytes: 1_000,
      maxChangeBytes: 600,
    })
    const changes = [
      ...Array.from({ length: 9 }, (_, i) => change(i + 1)),
      // Of ~540 bytes each: one fits a page of 1,000 with little else.
      change(10, 'y'.repeat(200)),
      change(11, 'y'.repeat(200)),
      change(12, 'y'.repeat(200)),
      // Over 600 bytes: its rows are dropped, its changed field kept.
      change(13, 'z'.repeat(250)),
    ]
    await upload.render(rowChanges(changes))
    const result = upload.result({
      format: 'dbsnap-diff',
      version: 1,
      from: { snapshot: snapshotId, name: 'shop', takenAt: new Date().toISOString() },
      to: { snapshot: snapshotId, name: 'shop', takenAt: new Date().toISOString() },
      summary: {
        equal: false,
        schemaChanges: 0,
        tables: { added: 0, removed: 0, changed: 2, unchanged: 0 },
        rows: { added: 0, removed: 0, modified: 13 },
      },
      schema: [],
      tables: [],
      saved: null,
      warnings: [],
    })
    // 4 + 4 + (1 small + 1 of 540) + 1 of 540 + (1 of 540 + the truncated one)
    expect(result.upload).toEqual({ pages: 5, changes: 13 })
    await client.result(job.id, job.leaseId, result)
    const stored = await listChanges(h.cp.db, diff.id, { limit: 100 })
    expect(stored.items).toHaveLength(13)
    expect(stored.items.map((c) => c.seq).sort((a, b) => a - b)).toEqual([
      0, 1, 2, 3, 1000, 1001, 1002, 1003, 2000, 2001, 3000, 4000, 4001,
    ])
    const big = stored.items.find((c) => c.key?.[0] === 13)!
    expect(big).toMatchObject({ truncated: true, fields: [{ column: 'name' }] })
    expect(big).not.toHaveProperty('old')
    expect(big.fields![0]!.new).toBe('z'.repeat(250))
    expect(await getDiff(h.cp.db, projectId, diff.id)).toMatchObject({ state: 'succeeded' })
  })

  it('sends with each page the columns of its tables, counted in its bytes', async () => {
    const { diff, job } = await leasedDiff()
    const columns = (extra: string) => ({ key: ['id'], old: ['id', 'name'], new: ['id', extra] })
    const tables = [
      { table: 'public.odd', columns: columns('o'.repeat(400)) },
      { table: 'public.even', columns: columns('e') },
    ]
    const maxPageBytes = 1_000
    const upload = new DiffUpload(client, job.id, job.leaseId, { maxPageChanges: 4, maxPageBytes })
    client.pages.length = 0
    await upload.render(
      rowChanges(
        Array.from({ length: 8 }, (_, i) => change(i + 1)),
        tables,
      ),
    )
    const bytes = (values: unknown[]) =>
      values.reduce<number>((n, v) => n + Buffer.byteLength(JSON.stringify(v)), 0)
    for (const page of client.pages) {
      // Each page names exactly the tables of its changes, once each.
      const named = (page.tables as { table: string }[]).map((t) => t.table)
      const used = [...new Set((page.changes as RowChange[]).map((c) => c.table))]
      expect(named).toEqual(used)
      expect(bytes(page.changes) + bytes(page.tables)).toBeLessThanOrEqual(maxPageBytes)
    }
    // Without the columns' bytes, 4 changes of ~150 bytes would fill each of 2 pages.
    expect(client.pages.length).toBeGreaterThan(2)
    await client.result(job.id, job.leaseId, {
      ...upload.result({ summary: {}, schema: [], warnings: [] } as unknown as DiffJobResult),
      summary: {
        equal: false,
        schemaChanges: 0,
        tables: { added: 0, removed: 0, changed: 2, unchanged: 0 },
        rows: { added: 0, removed: 0, modified: 8 },
      },
    })
    const read = await getDiff(h.cp.db, projectId, diff.id)
    expect(JSON.parse(read.tableCounts!)).toEqual([
      { table: 'public.even', added: 0, removed: 0, modified: 4, columns: tables[1]!.columns },
      { table: 'public.odd', added: 0, removed: 0, modified: 4, columns: tables[0]!.columns },
    ])
  })

  it('fits the result: schema changes lose their definitions, then their tail', () => {
    const upload = new DiffUpload(client, 'j', 'l', { maxResultBytes: 4_000 })
    const schema = Array.from({ length: 100 }, (_, i) => ({
      kind: 'column' as const,
      change: 'changed' as const,
      object: `public.t.c${i}`,
      old: { type: 'x'.repeat(100) },
      new: { type: 'y'.repeat(100) },
    }))
    const engine = {
      summary: {},
      schema,
      warnings: [],
      from: {},
      to: {},
    } as unknown as DiffJobResult
    const result = upload.result(engine)
    expect(result.schemaTruncated).toBe(true)
    expect(Buffer.byteLength(JSON.stringify(result))).toBeLessThanOrEqual(4_000)
    expect(result.schema.length).toBeGreaterThan(0)
    expect(result.schema[0]).toEqual({ kind: 'column', change: 'changed', object: 'public.t.c0' })
    const small = upload.result({ ...engine, schema: schema.slice(0, 2) })
    expect(small.schemaTruncated).toBeUndefined()
    expect(small.schema).toEqual(schema.slice(0, 2))
  })

  it('fails the job LEASE_LOST when the lease is gone, retryable when unreachable', async () => {
    const { job } = await leasedDiff()
    const lost = new DiffUpload(client, job.id, '00000000-0000-4000-8000-000000000000')
    await expect(lost.render(rowChanges([change(1)]))).rejects.toMatchObject({
      name: 'DbsnapError',
      code: 'LEASE_LOST',
      retryable: false,
    })
    const nowhere = new ControlPlaneClient('http://127.0.0.1:9', 'dbsa_x')
    const unreachable = new DiffUpload(nowhere, job.id, job.leaseId, { attempts: 2, retryMs: 10 })
    await expect(unreachable.render(rowChanges([change(1)]))).rejects.toMatchObject({
      code: 'DIFF_UPLOAD_FAILED',
      retryable: true,
    })
  })
})
