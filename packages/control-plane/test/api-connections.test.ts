// Connections through the API on both dialects: a URL goes in and only its redacted form comes
// out; the row holds a ciphertext that opens to the URL; a reference is kept as it is; names are
// unique per project; another project's connection is not found; changes are audited.

import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listAuditEvents } from '../src/data/audit.js'
import { openCredential, openTls } from '../src/data/connections.js'
import { DIALECTS } from './dialects.js'
import { errorOf, harness, type Harness } from './api-harness.js'

const URL_WITH_PASSWORD = 'postgres://app:s3cret-pw@db.internal:5432/shop?sslpassword=k3y'

interface ConnectionBody {
  id: string
  name: string
  engine: string
  url: string | null
  ref: string | null
}

describe.each(DIALECTS)('connections on %s', (dialect) => {
  let h: Harness
  let token: string
  let orgId: string
  let base: string
  let otherProjectBase: string
  beforeAll(async () => {
    h = await harness(dialect)
    token = (await h.register()).tokens.accessToken
    const post = async (path: string, body: unknown) =>
      ((await (await h.call('POST', path, { token, body })).json()) as { id: string }).id
    orgId = await post('/api/v1/orgs', {
      name: 'Acme',
      slug: `acme-${randomBytes(4).toString('hex')}`,
    })
    const projectId = await post(`/api/v1/orgs/${orgId}/projects`, { name: 'Shop', slug: 'shop' })
    const otherId = await post(`/api/v1/orgs/${orgId}/projects`, { name: 'Blog', slug: 'blog' })
    base = `/api/v1/orgs/${orgId}/projects/${projectId}/connections`
    otherProjectBase = `/api/v1/orgs/${orgId}/projects/${otherId}/connections`
  })
  afterAll(async () => {
    await h.cp.drop()
  })

  const create = (body: unknown) => h.call('POST', base, { token, body })

  it('stores a URL encrypted and shows it redacted only', async () => {
    const res = await create({ name: 'primary', url: URL_WITH_PASSWORD })
    const text = await res.text()
    expect(res.status, text).toBe(201)
    expect(text).not.toContain('s3cret-pw')
    expect(text).not.toContain('k3y')
    const created = JSON.parse(text) as ConnectionBody
    expect(created).toMatchObject({
      engine: 'postgres',
      url: 'postgres://app:****@db.internal:5432/shop?sslpassword=****',
      ref: null,
    })
    const listed = await (await h.call('GET', base, { token })).text()
    expect(listed).not.toContain('s3cret-pw')
    const row = await h.cp.db
      .selectFrom('connections')
      .selectAll()
      .where('id', '=', created.id)
      .executeTakeFirstOrThrow()
    expect(row.credentialCiphertext).not.toContain('s3cret-pw')
    expect(row.credentialKeyId).toBe(h.secrets.current.id)
    expect(openCredential(h.secrets, row)).toBe(URL_WITH_PASSWORD)
  })

  it('keeps a reference for the agent, and replaces a URL by one', async () => {
    const created = (await (
      await create({ name: 'replica', url: 'mariadb://u:pw@db/shop' })
    ).json()) as ConnectionBody
    expect(created.engine).toBe('mysql')
    const res = await h.call('PATCH', `${base}/${created.id}`, {
      token,
      body: { engine: 'mysql', ref: 'env:SHOP_REPLICA_URL' },
    })
    expect(await res.json()).toMatchObject({ url: null, ref: 'env:SHOP_REPLICA_URL' })
    const row = await h.cp.db
      .selectFrom('connections')
      .selectAll()
      .where('id', '=', created.id)
      .executeTakeFirstOrThrow()
    expect(row).toMatchObject({ credentialCiphertext: null, credentialKeyId: null })
  })

  it('seals TLS material, shows only that it is attached, and removes it', async () => {
    const tls = {
      ca: '-----BEGIN CERTIFICATE-----\nca\n-----END CERTIFICATE-----\n',
      cert: '-----BEGIN CERTIFICATE-----\nclient\n-----END CERTIFICATE-----\n',
      key: '-----BEGIN PRIVATE KEY-----\nk3y-material\n-----END PRIVATE KEY-----\n',
    }
    const res = await create({ name: 'tls', url: 'postgres://u@db/shop', tls })
    const text = await res.text()
    expect(res.status, text).toBe(201)
    expect(text).not.toContain('k3y-material')
    const created = JSON.parse(text) as ConnectionBody & { tls: boolean }
    expect(created.tls).toBe(true)
    const row = () =>
      h.cp.db
        .selectFrom('connections')
        .selectAll()
        .where('id', '=', created.id)
        .executeTakeFirstOrThrow()
    expect((await row()).tlsCiphertext).not.toContain('k3y-material')
    expect(openTls(h.secrets, await row())).toEqual(tls)
    expect(
      (await create({ name: 'half', url: 'postgres://db/x', tls: { cert: tls.cert } })).status,
    ).toBe(400)
    const patched = await h.call('PATCH', `${base}/${created.id}`, { token, body: { tls: null } })
    expect(await patched.json()).toMatchObject({ tls: false })
    expect(await row()).toMatchObject({ tlsCiphertext: null, tlsKeyId: null })
  })

  it('refuses another scheme, half a reference, and a name the project already has', async () => {
    for (const body of [
      { name: 'x', url: 'http://db/shop' },
      { name: 'x', ref: 'env:X' },
      { name: 'x', url: 'postgres://db/x', engine: 'postgres', ref: 'env:X' },
      { name: 'x', engine: 'postgres', ref: 'X' },
    ]) {
      const res = await create(body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(await res.text()).not.toContain('"url":"http')
    }
    await create({ name: 'dup', url: 'mongodb://db/x' })
    const res = await create({ name: 'dup', url: 'mongodb://db/y' })
    expect(res.status).toBe(409)
    expect((await errorOf(res)).code).toBe('NAME_TAKEN')
  })

  it("does not find a connection through another project's path, and audits changes", async () => {
    const created = (await (
      await create({ name: 'audited', url: 'postgres://u:pw@db/a' })
    ).json()) as ConnectionBody
    expect((await h.call('GET', `${otherProjectBase}/${created.id}`, { token })).status).toBe(404)
    expect((await h.call('DELETE', `${otherProjectBase}/${created.id}`, { token })).status).toBe(
      404,
    )
    await h.call('PATCH', `${base}/${created.id}`, { token, body: { name: 'renamed' } })
    expect((await h.call('DELETE', `${base}/${created.id}`, { token })).status).toBe(204)
    expect((await h.call('GET', `${base}/${created.id}`, { token })).status).toBe(404)
    const actions = (await listAuditEvents(h.cp.db, { orgId }))
      .filter((e) => e.targetId === created.id)
      .map((e) => e.action)
      .sort()
    expect(actions).toEqual(['connection.changed', 'connection.created', 'connection.deleted'])
  })
})
