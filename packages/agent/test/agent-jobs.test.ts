// Export, restore, verify and retention jobs end to end: a real control plane process (SQLite), a
// real `dbsnap-agent` process, real PostgreSQL databases and MinIO. On a local repository an export
// is streamed to the control plane and downloaded once by its signed link; on an S3 repository
// (the project's setting) the agent writes it to the bucket and the download is its presigned URL.
// An admin restores a snapshot into a throwaway database, which then holds the same rows; members
// and API keys are refused. Verify and retention jobs update the catalogue.

import { execFile, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../../../test/postgres.js'
import { callApi, signUp, startLogging } from '../../../test/processes.js'
import { testServices } from '../../../test/services.js'

const cpBin = fileURLToPath(
  new URL('../../control-plane/bin/dbsnap-control-plane.js', import.meta.url),
)
const agentBin = fileURLToPath(new URL('../bin/dbsnap-agent.js', import.meta.url))
const run = promisify(execFile)
const ROWS = 300

describe('export, restore, verify and retention jobs run by dbsnap-agent', () => {
  let dir: string
  let source: TestDatabase
  let target: TestDatabase
  let cp: ChildProcess
  let agent: ChildProcess | undefined
  let base: string
  let token: string
  let orgId: string
  let projectBase: string
  let connectionId: string
  let targetId: string

  const api = (method: string, path: string, body?: unknown, bearer = token) =>
    callApi(base, bearer, method, path, body)
  /** The job once it has ended. */
  const finished = async (job: Record<string, unknown>) => {
    let seen = job
    for (
      let i = 0;
      i < 240 && !['succeeded', 'failed', 'dead', 'cancelled'].includes(seen['state'] as string);
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 250))
      seen = await api('GET', `${projectBase}/jobs/${job['id'] as string}`)
    }
    expect(seen, JSON.stringify(seen)).toMatchObject({ state: 'succeeded' })
    return seen
  }
  const snapshot = async () =>
    (
      (
        await finished(
          await api('POST', `${projectBase}/connections/${connectionId}/snapshots`, {}),
        )
      )['result'] as { id: string }
    ).id
  const catalogue = async () =>
    (
      (await api('GET', `${projectBase}/snapshots?connectionId=${connectionId}`)) as {
        snapshots: Record<string, unknown>[]
      }
    ).snapshots

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dbsnap-agent-jobs-'))
    source = await createTestDatabase('dbsnap_it_jobs_src')
    target = await createTestDatabase('dbsnap_it_jobs_dst')
    await source.client.query(
      `CREATE TABLE orders (id int PRIMARY KEY, total numeric, note text);
       INSERT INTO orders SELECT g, g * 1.5, 'n' || g FROM generate_series(1, ${ROWS}) g`,
    )
    const server = await startLogging(
      cpBin,
      [],
      {
        DATABASE_URL: `sqlite:${join(dir, 'cp.sqlite')}`,
        DBSNAP_CP_PORT: '0',
        DBSNAP_CP_OPEN_REGISTRATION: 'true',
        DBSNAP_CP_EMBEDDED_AGENT: 'false',
        DBSNAP_CP_EXPORT_DIR: join(dir, 'exports'),
      },
      'port',
    )
    cp = server.child
    base = `http://127.0.0.1:${server.line['port'] as number}`
    token = await signUp(base)
    orgId = (await api('POST', '/orgs', { name: 'Acme', slug: 'acme' }))['id'] as string
    const project = await api('POST', `/orgs/${orgId}/projects`, { name: 'Shop', slug: 'shop' })
    projectBase = `/orgs/${orgId}/projects/${project['id'] as string}`
    connectionId = (
      await api('POST', `${projectBase}/connections`, { name: 'shop', url: source.url })
    )['id'] as string
    targetId = (
      await api('POST', `${projectBase}/connections`, { name: 'scratch', url: target.url })
    )['id'] as string
    const made = await api('POST', `${projectBase}/agents`, { name: 'backup-1' })
    const s3 = testServices().s3
    const env = {
      DBSNAP_AGENT_STATE_DIR: join(dir, 'agent-state'),
      DBSNAP_AGENT_REPOSITORY: join(dir, 'repo'),
      DBSNAP_AGENT_HEALTH_PORT: '0',
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_REGION: s3.region,
      AWS_ACCESS_KEY_ID: s3.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    }
    await run(
      process.execPath,
      [agentBin, 'register', '--url', base, '--token', made['registrationToken'] as string],
      { env: { ...process.env, ...env } },
    )
    agent = (await startLogging(agentBin, ['run'], env, 'healthPort')).child
  }, 90_000)

  afterAll(async () => {
    if (agent !== undefined) {
      const exited = new Promise((resolve) => agent!.once('exit', resolve))
      agent.kill('SIGTERM')
      await exited
    }
    cp?.kill('SIGTERM')
    await source?.drop()
    await target?.drop()
    await rm(dir, { recursive: true, force: true })
  })

  it('catalogues the engine, server version and schema fingerprint', async () => {
    const id = await snapshot()
    const [entry] = await catalogue()
    expect(entry).toMatchObject({
      id,
      engine: 'postgres',
      serverVersion: expect.stringMatching(/^\d+/) as string,
      schemaFingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) as string,
      repository: join(dir, 'repo'),
    })
  })

  it('exports from a local repository through the control plane, served once', async () => {
    const id = await snapshot()
    const job = await finished(
      await api('POST', `${projectBase}/snapshots/${id}/exports`, { format: 'ndjson' }),
    )
    expect(job['result']).toMatchObject({ rows: ROWS, out: 'control-plane' })
    const link = await api('GET', `${projectBase}/jobs/${job['id'] as string}/download`)
    const first = await fetch(link['url'] as string)
    expect(first.status).toBe(200)
    const lines = (await first.text()).trim().split('\n')
    const rows = lines.map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(rows).toHaveLength(ROWS)
    expect(rows[6]).toMatchObject({ table: 'public.orders', row: { id: 7, note: 'n7' } })
    expect((await fetch(link['url'] as string)).status).toBe(410)
  })

  it('exports to the project’s S3 repository with a presigned URL', async () => {
    const { bucket } = testServices().s3
    const repository = `s3://${bucket}/agent-jobs-${randomBytes(4).toString('hex')}`
    await api('PATCH', projectBase, { repository })
    try {
      const id = await snapshot()
      expect((await catalogue())[0]).toMatchObject({ id, repository })
      const job = await finished(
        await api('POST', `${projectBase}/snapshots/${id}/exports`, { format: 'sql' }),
      )
      expect(job['result']).toMatchObject({
        rows: ROWS,
        out: `${repository}/exports/${job['id'] as string}.sql`,
      })
      const link = await api('GET', `${projectBase}/jobs/${job['id'] as string}/download`)
      expect(link['url']).toContain('X-Amz-Signature=')
      expect(JSON.stringify(job)).not.toContain('X-Amz-Signature')
      const res = await fetch(link['url'] as string)
      expect(res.status).toBe(200)
      const sql = await res.text()
      expect(sql).toContain('COPY "public"."orders" ("id", "total", "note") FROM stdin;')
      expect(sql).toContain('\n7\t10.5\tn7\n')
      // A presigned URL can be used until it expires: it is S3's, not the control plane's.
      expect((await fetch(link['url'] as string)).status).toBe(200)
    } finally {
      await api('PATCH', projectBase, { repository: null })
    }
  })

  it('restores into a throwaway database for an admin, and refuses members and API keys', async () => {
    const id = await snapshot()
    const path = `${projectBase}/snapshots/${id}/restores`
    const { secret } = (await api('POST', `/orgs/${orgId}/keys`, {
      name: 'ci',
      scopes: ['snapshots:write', 'snapshots:export', 'jobs:write'],
    })) as { secret: string }
    await expect(api('POST', path, { connectionId: targetId }, secret)).rejects.toThrow(/403/)
    const res = await fetch(`${base}/api/v1/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'dev@example.com', password: 'correct horse battery staple' }),
    })
    const member = ((await res.json()) as { tokens: { accessToken: string } }).tokens.accessToken
    await api('POST', `/orgs/${orgId}/members`, { email: 'dev@example.com', role: 'member' })
    await expect(api('POST', path, { connectionId: targetId }, member)).rejects.toThrow(/403/)

    const job = await finished(await api('POST', path, { connectionId: targetId }))
    expect(job['spec']).toEqual({ kind: 'restore', connectionId: targetId, snapshot: id })
    const sums = async (db: TestDatabase) =>
      (
        await db.client.query<{ n: string; total: string; notes: string }>(
          `SELECT count(*) AS n, sum(total)::text AS total, string_agg(note, ',' ORDER BY id) AS notes FROM orders`,
        )
      ).rows[0]
    expect(await sums(target)).toEqual(await sums(source))
  })

  it('verifies the repository and applies retention to the catalogue', async () => {
    await source.client.query(`UPDATE orders SET note = 'changed' WHERE id = 1`)
    const latest = await snapshot()
    const before = await catalogue()
    expect(before.length).toBeGreaterThan(1)

    const verify = await finished(await api('POST', `${projectBase}/verify`, {}))
    expect(verify['result']).toMatchObject({ problems: [] })
    for (const entry of await catalogue()) {
      expect(entry).toMatchObject({ verifyProblems: 0, verifiedAt: expect.any(String) as string })
    }

    const retention = await finished(
      await api('POST', `${projectBase}/connections/${connectionId}/retention`, {
        policy: { keepLast: 1 },
      }),
    )
    const result = retention['result'] as { snapshots: { id: string; keep: boolean }[] }
    const removed = result.snapshots.filter((s) => !s.keep).map((s) => s.id)
    expect(removed.length).toBeGreaterThan(0)
    const after = (await catalogue()).map((s) => s['id'])
    expect(after).toContain(latest)
    for (const id of removed) expect(after).not.toContain(id)
  })
})
