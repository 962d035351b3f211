// API keys through the API on both dialects: shown once and stored hashed, `dbs_…` shaped, used
// with `Authorization: Bearer`, counted per day, bounded by scopes and by the creator's current
// role, rotated with a grace period, revoked at once, expired, and recorded in the audit log.

import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createApiKey } from '../src/data/api-keys.js'
import { listAuditEvents } from '../src/data/audit.js'
import { setRole } from '../src/data/orgs.js'
import { newApiKeySecret } from '../src/identity/api-key-secret.js'
import { DIALECTS } from './dialects.js'
import { errorOf, harness, type Harness, type SignedInBody } from './api-harness.js'

const slug = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`
const KEY_SHAPE = /^dbs_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/

interface Created {
  key: { id: string; prefix: string; scopes: string[]; lastUsedAt: string | null }
  secret: string
}

describe.each(DIALECTS)('API keys on %s', (dialect) => {
  let h: Harness
  let admin: SignedInBody
  let member: SignedInBody
  let orgId: string
  let projectId: string
  beforeAll(async () => {
    h = await harness(dialect)
    admin = await h.register()
    member = await h.register()
    const org = await h.call('POST', '/api/v1/orgs', {
      token: admin.tokens.accessToken,
      body: { name: 'Acme', slug: slug('acme') },
    })
    orgId = ((await org.json()) as { id: string }).id
    await h.call('POST', `/api/v1/orgs/${orgId}/members`, {
      token: admin.tokens.accessToken,
      body: { email: member.user.email, role: 'member' },
    })
    const project = await h.call('POST', `/api/v1/orgs/${orgId}/projects`, {
      token: admin.tokens.accessToken,
      body: { name: 'Shop', slug: 'shop' },
    })
    projectId = ((await project.json()) as { id: string }).id
  })
  afterAll(async () => {
    await h.cp.drop()
  })

  const as = (token: string) => ({
    call: (method: string, path: string, body?: unknown) =>
      h.call(method, `/api/v1${path}`, { token, ...(body === undefined ? {} : { body }) }),
  })
  const newKey = async (who: SignedInBody, body: Record<string, unknown>): Promise<Created> => {
    const res = await as(who.tokens.accessToken).call('POST', `/orgs/${orgId}/keys`, body)
    expect(res.status, await res.clone().text()).toBe(201)
    return (await res.json()) as Created
  }

  it('shows a key once, stores only its hash, and lets it call the API', async () => {
    const { key, secret } = await newKey(admin, { name: 'ci', scopes: ['projects:read'] })
    expect(secret).toMatch(KEY_SHAPE)
    expect(secret.startsWith(`${key.prefix}_`)).toBe(true)
    const listed = await as(admin.tokens.accessToken).call('GET', `/orgs/${orgId}/keys`)
    expect(await listed.text()).not.toContain(secret.slice(key.prefix.length))
    const row = await h.cp.db
      .selectFrom('apiKeys')
      .selectAll()
      .where('id', '=', key.id)
      .executeTakeFirstOrThrow()
    expect(JSON.stringify(row)).not.toContain(secret.slice(key.prefix.length))

    expect((await as(secret).call('GET', `/orgs/${orgId}/projects`)).status).toBe(200)
    expect((await as(secret).call('GET', `/orgs/${orgId}/projects/${projectId}`)).status).toBe(200)
    const detail = await as(admin.tokens.accessToken).call('GET', `/orgs/${orgId}/keys/${key.id}`)
    const body = (await detail.json()) as {
      key: { lastUsedAt: string | null }
      usage: { day: string; count: number }[]
    }
    expect(body.key.lastUsedAt).not.toBeNull()
    expect(body.usage).toEqual([{ day: new Date().toISOString().slice(0, 10), count: 2 }])
  })

  it('refuses a key outside its scopes, on people-only routes, and when mangled', async () => {
    const { secret } = await newKey(admin, { name: 'read', scopes: ['projects:read'] })
    const write = await as(secret).call('POST', `/orgs/${orgId}/projects`, {
      name: 'x',
      slug: slug('p'),
    })
    expect(write.status).toBe(403)
    expect((await errorOf(write)).code).toBe('FORBIDDEN')
    expect((await as(secret).call('GET', '/sessions')).status).toBe(401)
    expect((await as(secret).call('GET', `/orgs/${orgId}/keys`)).status).toBe(401)
    const mangled = secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A')
    expect((await as(mangled).call('GET', `/orgs/${orgId}/projects`)).status).toBe(401)
  })

  it('does no more than its creator’s current role allows', async () => {
    const { secret } = await newKey(member, { name: 'm', scopes: ['projects:write'] })
    const create = () =>
      as(secret).call('POST', `/orgs/${orgId}/projects`, { name: 'x', slug: slug('p') })
    expect((await create()).status).toBe(201)
    const [event] = await listAuditEvents(h.cp.db, { orgId, action: 'project.created', limit: 1 })
    expect(event).toMatchObject({ actorType: 'api_key' })
    await setRole(h.cp.db, orgId, member.user.id, 'read-only')
    expect((await create()).status).toBe(403)
    await setRole(h.cp.db, orgId, member.user.id, 'member')
  })

  it("refuses a key for another organisation's project", async () => {
    const org = await as(member.tokens.accessToken).call('POST', '/orgs', {
      name: 'Mine',
      slug: slug('mine'),
    })
    const mine = ((await org.json()) as { id: string }).id
    const res = await as(member.tokens.accessToken).call('POST', `/orgs/${mine}/keys`, {
      name: 'x',
      scopes: ['projects:read'],
      projectId,
    })
    expect(res.status).toBe(404)
    expect(
      (await listAuditEvents(h.cp.db, { orgId: mine, action: 'api_key.created' })).length,
    ).toBe(0)
  })

  it('limits a project key to its project', async () => {
    const other = await as(admin.tokens.accessToken).call('POST', `/orgs/${orgId}/projects`, {
      name: 'Other',
      slug: slug('p'),
    })
    const otherId = ((await other.json()) as { id: string }).id
    const { secret } = await newKey(admin, {
      name: 'p',
      scopes: ['projects:read'],
      projectId,
    })
    expect((await as(secret).call('GET', `/orgs/${orgId}/projects/${projectId}`)).status).toBe(200)
    expect((await as(secret).call('GET', `/orgs/${orgId}/projects/${otherId}`)).status).toBe(404)
    expect((await as(secret).call('GET', `/orgs/${orgId}/projects`)).status).toBe(403)
  })

  it('rotates with a grace period for the old key, and revokes at once', async () => {
    const old = await newKey(admin, { name: 'deploy', scopes: ['org:read'] })
    const rotate = await as(admin.tokens.accessToken).call(
      'POST',
      `/orgs/${orgId}/keys/${old.key.id}/rotate`,
      { graceSeconds: 3600 },
    )
    expect(rotate.status).toBe(201)
    const fresh = (await rotate.json()) as Created & { key: { rotatedFromId: string } }
    expect(fresh.key.rotatedFromId).toBe(old.key.id)
    expect(fresh.key.scopes).toEqual(['org:read'])
    expect((await as(old.secret).call('GET', `/orgs/${orgId}`)).status).toBe(200)
    expect((await as(fresh.secret).call('GET', `/orgs/${orgId}`)).status).toBe(200)

    const again = await as(admin.tokens.accessToken).call(
      'POST',
      `/orgs/${orgId}/keys/${fresh.key.id}/rotate`,
      { graceSeconds: 0 },
    )
    const newest = (await again.json()) as Created
    expect((await as(fresh.secret).call('GET', `/orgs/${orgId}`)).status).toBe(401)
    expect(
      (await as(admin.tokens.accessToken).call('DELETE', `/orgs/${orgId}/keys/${newest.key.id}`))
        .status,
    ).toBe(204)
    expect((await as(newest.secret).call('GET', `/orgs/${orgId}`)).status).toBe(401)
  })

  it('refuses an expired key', async () => {
    const secret = newApiKeySecret()
    await createApiKey(h.cp.db, {
      prefix: secret.prefix,
      keyHash: secret.hash,
      name: 'old',
      scopes: ['org:read'],
      orgId,
      createdBy: admin.user.id,
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    })
    expect((await as(secret.key).call('GET', `/orgs/${orgId}`)).status).toBe(401)
  })

  it('lets a member manage its own keys only, and records who did what', async () => {
    const admins = await newKey(admin, { name: 'a', scopes: ['org:read'] })
    const res = await as(member.tokens.accessToken).call(
      'DELETE',
      `/orgs/${orgId}/keys/${admins.key.id}`,
    )
    expect(res.status).toBe(403)
    const own = await newKey(member, { name: 'mine', scopes: ['org:read'] })
    expect(
      (await as(member.tokens.accessToken).call('DELETE', `/orgs/${orgId}/keys/${own.key.id}`))
        .status,
    ).toBe(204)
    const events = await listAuditEvents(h.cp.db, { orgId, actorId: member.user.id })
    expect(events.map((e) => [e.action, e.targetId])).toEqual(
      expect.arrayContaining([
        ['api_key.revoked', own.key.id],
        ['api_key.created', own.key.id],
      ]),
    )
    expect(JSON.stringify(events)).not.toContain(own.secret)
  })
})
