// Connection tests through the API on both dialects: a member asks for a test, which queues a
// one-attempt `connection-test` job; an agent leases it with the connection's URL, runs the
// engine's test against a real PostgreSQL server (a role with a password) and reports the
// server description, which people read back from the job without the password; a failure is
// reported once, not retried; an unknown connection is NOT_FOUND; the request is audited.

import { randomBytes } from 'node:crypto'
import { testConnection } from '@dbsnap/engine'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestDatabase, type TestDatabase } from '../../../test/postgres.js'
import { createAgent, registerAgent } from '../src/data/agents.js'
import { listAuditEvents } from '../src/data/audit.js'
import { addMember } from '../src/data/orgs.js'
import { DIALECTS } from './dialects.js'
import { errorOf, harness, type Harness } from './api-harness.js'

const PASSWORD = `ct-${randomBytes(8).toString('hex')}`

let source: TestDatabase
let role: string
let sourceUrl: string

beforeAll(async () => {
  source = await createTestDatabase('dbsnap_it_ct')
  role = `dbsnap_ct_${randomBytes(4).toString('hex')}`
  await source.client.query(`CREATE ROLE ${role} LOGIN PASSWORD '${PASSWORD}'`)
  await source.client.query(`CREATE TABLE orders (id int primary key, total numeric)`)
  const url = new URL(source.url)
  url.username = role
  url.password = PASSWORD
  sourceUrl = url.href
})

afterAll(async () => {
  await source.drop()
  // A role belongs to the server, not the database: drop it from the server's own database.
  const server = new URL(source.url)
  server.pathname = '/postgres'
  const client = new pg.Client({ connectionString: server.href })
  await client.connect()
  await client.query(`DROP ROLE IF EXISTS ${role}`).finally(() => client.end())
})

interface JobBody {
  id: string
  kind: string
  state: string
  maxAttempts: number
  spec: Record<string, unknown>
  result: Record<string, unknown> | null
  error: { code: string; message: string } | null
}

interface LeasedBody {
  job: { id: string; kind: string; leaseId: string }
  connection: { url?: string } | null
}

describe.each(DIALECTS)('connection tests through the API on %s', (dialect) => {
  let h: Harness
  let member: string
  let readOnly: string
  let orgId: string
  let projectBase: string
  let agentToken: string

  beforeAll(async () => {
    h = await harness(dialect)
    const adminIn = await h.register()
    const admin = adminIn.tokens.accessToken
    const memberIn = await h.register()
    const readOnlyIn = await h.register()
    member = memberIn.tokens.accessToken
    readOnly = readOnlyIn.tokens.accessToken
    const post = async (path: string, body: unknown) => {
      const res = await h.call('POST', path, { token: admin, body })
      expect(res.status, await res.clone().text()).toBeLessThan(300)
      return (await res.json()) as { id: string }
    }
    orgId = (
      await post('/api/v1/orgs', { name: 'Acme', slug: `acme-${randomBytes(4).toString('hex')}` })
    ).id
    await addMember(h.cp.db, { orgId, userId: memberIn.user.id, role: 'member' })
    await addMember(h.cp.db, { orgId, userId: readOnlyIn.user.id, role: 'read-only' })
    const projectId = (await post(`/api/v1/orgs/${orgId}/projects`, { name: 'Shop', slug: 'shop' }))
      .id
    projectBase = `/api/v1/orgs/${orgId}/projects/${projectId}`
    const made = await createAgent(h.cp.db, {
      projectId,
      name: 'backup-1',
      createdBy: adminIn.user.id,
    })
    agentToken = (
      await registerAgent(h.cp.db, made.registrationToken, { version: '0.1.0', hostname: 'b1' })
    ).credential
  })
  afterAll(async () => {
    await h.cp.drop()
  })

  const addConnection = async (url: string) => {
    const res = await h.call('POST', `${projectBase}/connections`, {
      token: member,
      body: { name: `db-${randomBytes(3).toString('hex')}`, url },
    })
    return ((await res.json()) as { id: string }).id
  }
  const requestTest = (connectionId: string, token = member) =>
    h.call('POST', `${projectBase}/connections/${connectionId}/tests`, { token })
  const lease = async () => {
    const res = await h.call('POST', '/api/v1/agent/lease', {
      token: agentToken,
      body: { waitSeconds: 0 },
    })
    expect(res.status).toBe(200)
    return (await res.json()) as LeasedBody
  }
  const readJob = async (jobId: string) => {
    const res = await h.call('GET', `${projectBase}/jobs/${jobId}`, { token: readOnly })
    const text = await res.text()
    return { text, job: JSON.parse(text) as JobBody }
  }

  it('queues a one-attempt connection-test job whose result is the sanitized server description', async () => {
    const connectionId = await addConnection(sourceUrl)
    const res = await requestTest(connectionId)
    expect(res.status).toBe(202)
    const { job } = (await res.json()) as { job: JobBody }
    expect(job).toMatchObject({
      kind: 'connection-test',
      state: 'pending',
      maxAttempts: 1,
      spec: { kind: 'connection-test', connectionId },
    })

    // The agent's side: the URL comes with the lease, the engine tests the real server.
    const leased = await lease()
    expect(leased.job).toMatchObject({ id: job.id, kind: 'connection-test' })
    expect(leased.connection?.url).toBe(sourceUrl)
    const result = await testConnection(leased.connection!.url!)
    const reported = await h.call('POST', `/api/v1/agent/jobs/${job.id}/result`, {
      token: agentToken,
      body: { leaseId: leased.job.leaseId, result },
    })
    expect(reported.status).toBe(200)

    const { text, job: done } = await readJob(job.id)
    expect(text).not.toContain(PASSWORD)
    expect(done.state).toBe('succeeded')
    expect(done.result).toMatchObject({
      engine: 'postgres',
      product: 'PostgreSQL',
      database: source.name,
      currentUser: role,
      superuser: false,
      objects: { tables: 1 },
    })
    expect(done.result?.['serverVersion']).toMatch(/^\d+/)
  })

  it('reports a failed test once, with the engine’s code and no password', async () => {
    // A role the server does not know (the test server may trust local passwords).
    const wrong = new URL(sourceUrl)
    wrong.username = `${role}_nobody`
    const connectionId = await addConnection(wrong.href)
    const { job } = (await (await requestTest(connectionId)).json()) as { job: JobBody }
    const leased = await lease()
    expect(leased.job.id).toBe(job.id)
    const failure = await testConnection(leased.connection!.url!).then(
      () => expect.fail('the wrong password connected'),
      (err: { code: string; message: string }) => err,
    )
    expect(failure.message).not.toContain(PASSWORD)
    await h.call('POST', `/api/v1/agent/jobs/${job.id}/failure`, {
      token: agentToken,
      body: {
        leaseId: leased.job.leaseId,
        error: { code: failure.code, message: failure.message, retryable: true },
      },
    })
    const { text, job: done } = await readJob(job.id)
    expect(text).not.toContain(PASSWORD)
    // One attempt: even a retryable failure ends the test (the dead-letter state), at once.
    expect(done.state).toBe('dead')
    expect(done.error?.code).toMatch(/^CONNECTION_/)
  })

  it('refuses an unknown connection and a read-only member, and audits the request', async () => {
    const unknown = await requestTest('0'.repeat(26))
    expect(unknown.status).toBe(404)
    expect((await errorOf(unknown)).code).toBe('NOT_FOUND')
    const connectionId = await addConnection('postgres://app:pw@db.internal:5432/shop')
    expect((await requestTest(connectionId, readOnly)).status).toBe(403)
    const res = await requestTest(connectionId)
    const { job } = (await res.json()) as { job: JobBody }
    const events = await listAuditEvents(h.cp.db, { orgId, action: 'connection.test_requested' })
    expect(events).toContainEqual(
      expect.objectContaining({ targetType: 'connection', targetId: connectionId }),
    )
    expect(JSON.stringify(events)).toContain(job.id)
  })
})
