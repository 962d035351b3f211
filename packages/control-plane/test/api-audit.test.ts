// The audit log as the API writes and serves it, on both dialects: who did what, from where,
// under which trace id, for sign-ins, sessions, members, projects and keys; filters and pages on
// GET /orgs/{orgId}/audit for admins only; a tampered event of that chain found by verification.

import { randomBytes } from 'node:crypto'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { INSTANCE_CHAIN, listAuditEvents, verifyAuditChain } from '../src/data/audit.js'
import { DIALECTS } from './dialects.js'
import { errorOf, harness, type Harness, type SignedInBody } from './api-harness.js'

const slug = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`

interface Page {
  events: { seq: number; action: string; actorId: string | null; targetId: string | null }[]
  nextBeforeSeq: number | null
}

describe.each(DIALECTS)('audit API on %s', (dialect) => {
  let h: Harness
  let admin: SignedInBody
  let member: SignedInBody
  let orgId: string
  const traceId = randomBytes(16).toString('hex')
  beforeAll(async () => {
    h = await harness(dialect)
    admin = await h.register()
    member = await h.register()
    const org = await as(admin).call('POST', '/orgs', { name: 'Acme', slug: slug('acme') })
    orgId = ((await org.json()) as { id: string }).id
    await as(admin).call('POST', `/orgs/${orgId}/members`, {
      email: member.user.email,
      role: 'read-only',
    })
    await as(admin).call('PATCH', `/orgs/${orgId}/members/${member.user.id}`, { role: 'member' })
    const project = await h.call('POST', `/api/v1/orgs/${orgId}/projects`, {
      token: member.tokens.accessToken,
      body: { name: 'Shop', slug: 'shop' },
      headers: { 'x-trace-id': traceId },
    })
    const projectId = ((await project.json()) as { id: string }).id
    await as(member).call('DELETE', `/orgs/${orgId}/projects/${projectId}`)
    await as(admin).call('DELETE', `/orgs/${orgId}/members/${member.user.id}`)
  })
  afterAll(async () => {
    await h.cp.drop()
  })

  function as(who: SignedInBody) {
    return {
      call: (method: string, path: string, body?: unknown) =>
        h.call(method, `/api/v1${path}`, {
          token: who.tokens.accessToken,
          ...(body === undefined ? {} : { body }),
        }),
    }
  }
  const page = async (query = ''): Promise<Page> => {
    const res = await as(admin).call('GET', `/orgs/${orgId}/audit${query}`)
    expect(res.status, await res.clone().text()).toBe(200)
    return (await res.json()) as Page
  }

  it("records the organisation's changes, newest first, with actor and trace id", async () => {
    const { events } = await page()
    expect(events.map((e) => e.action)).toEqual([
      'member.removed',
      'project.deleted',
      'project.created',
      'member.role_changed',
      'member.added',
      'org.created',
    ])
    const created = (await listAuditEvents(h.cp.db, { orgId, action: 'project.created' }))[0]!
    expect(created).toMatchObject({ actorType: 'user', actorId: member.user.id, traceId })
  })

  it('filters by action, actor and time, and pages backwards', async () => {
    expect((await page('?action=member.added')).events).toHaveLength(1)
    const byMember = await page(`?actor=${member.user.id}`)
    expect(byMember.events.map((e) => e.action)).toEqual(['project.deleted', 'project.created'])
    expect((await page('?since=2999-01-01T00:00:00Z')).events).toEqual([])
    expect((await page('?until=2000-01-01T00:00:00Z')).events).toEqual([])
    const first = await page('?limit=4')
    expect(first.events).toHaveLength(4)
    const rest = await page(`?limit=4&beforeSeq=${first.nextBeforeSeq}`)
    expect(rest.events.map((e) => e.seq)).toEqual([2, 1])
    expect(rest.nextBeforeSeq).toBeNull()
    const bad = await as(admin).call('GET', `/orgs/${orgId}/audit?since=yesterday`)
    expect((await errorOf(bad)).code).toBe('INVALID_ARGUMENT')
  })

  it('is for admins only', async () => {
    await as(admin).call('POST', `/orgs/${orgId}/members`, {
      email: member.user.email,
      role: 'member',
    })
    expect((await as(member).call('GET', `/orgs/${orgId}/audit`)).status).toBe(403)
  })

  it('records sign-ins, failed ones and logouts in the instance chain', async () => {
    const who = await h.register()
    await h.call('POST', '/api/v1/auth/login', {
      body: { email: who.user.email, password: 'not the password' },
    })
    await h.call('POST', '/api/v1/auth/logout', { token: who.tokens.accessToken })
    const events = await h.cp.db
      .selectFrom('auditEvents')
      .select(['action', 'actorType', 'actorId', 'targetId'])
      .where('chain', '=', INSTANCE_CHAIN)
      .where((eb) => eb.or([eb('actorId', '=', who.user.id), eb('targetId', '=', who.user.id)]))
      .orderBy('seq')
      .execute()
    expect(events).toEqual([
      {
        action: 'user.registered',
        actorType: 'user',
        actorId: who.user.id,
        targetId: who.session.id,
      },
      { action: 'login.failed', actorType: 'anonymous', actorId: null, targetId: who.user.id },
      { action: 'logout', actorType: 'user', actorId: who.user.id, targetId: who.session.id },
    ])
  })

  // Last: tampering drops the append-only triggers on SQLite for the rest of this database.
  it('finds a tampered event of the chain the API wrote', async () => {
    expect(await verifyAuditChain(h.cp.db, orgId)).toBeGreaterThanOrEqual(6)
    const change = `update audit_events set actor_id = 'someone-else' where chain = '${orgId}' and seq = 3`
    if (dialect === 'postgres') {
      await sql.raw('alter table audit_events disable trigger user').execute(h.cp.db)
      await sql.raw(change).execute(h.cp.db)
      await sql.raw('alter table audit_events enable trigger user').execute(h.cp.db)
    } else {
      await sql.raw('drop trigger if exists audit_events_no_update').execute(h.cp.db)
      await sql.raw(change).execute(h.cp.db)
    }
    await expect(verifyAuditChain(h.cp.db, orgId)).rejects.toMatchObject({
      code: 'AUDIT_CHAIN_BROKEN',
      details: { seq: 3 },
    })
  })
})
