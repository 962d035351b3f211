// Organisations, members and projects through the API on both dialects: names kept as given
// (SQL metacharacters, unicode), slugs checked, other tenants' ids not found, the integrity
// rules (ORG_NOT_EMPTY, LAST_ADMIN, ALREADY_MEMBER, SLUG_TAKEN) as stable codes.

import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DIALECTS } from './dialects.js'
import { errorOf, harness, type Harness, type SignedInBody } from './api-harness.js'

const slug = (prefix: string): string => `${prefix}-${randomBytes(4).toString('hex')}`

describe.each(DIALECTS)('tenancy API on %s', (dialect) => {
  let h: Harness
  let alice: SignedInBody
  let bob: SignedInBody
  beforeAll(async () => {
    h = await harness(dialect)
    alice = await h.register()
    bob = await h.register()
  })
  afterAll(async () => {
    await h.cp.drop()
  })

  const as = (who: SignedInBody) => ({
    call: (method: string, path: string, body?: unknown) =>
      h.call(method, `/api/v1${path}`, {
        token: who.tokens.accessToken,
        ...(body === undefined ? {} : { body }),
      }),
  })
  const newOrg = async (who: SignedInBody, name = 'Acme') => {
    const res = await as(who).call('POST', '/orgs', { name, slug: slug('org') })
    expect(res.status).toBe(201)
    return (await res.json()) as { id: string; name: string; role: string }
  }
  const newProject = async (who: SignedInBody, orgId: string) => {
    const res = await as(who).call('POST', `/orgs/${orgId}/projects`, {
      name: 'Shop',
      slug: slug('p'),
    })
    expect(res.status).toBe(201)
    return (await res.json()) as { id: string }
  }

  it('keeps names with SQL metacharacters and unicode as given', async () => {
    const name = `Robert'); DROP TABLE orgs;-- "Ünïcødé" 日本語 🚀 \\ %_`
    const org = await newOrg(alice, name)
    expect(org).toMatchObject({ name, role: 'admin' })
    const read = await as(alice).call('GET', `/orgs/${org.id}`)
    expect(((await read.json()) as { name: string }).name).toBe(name)
    const listed = (await (await as(alice).call('GET', '/orgs')).json()) as {
      orgs: { id: string; role: string }[]
    }
    expect(listed.orgs).toContainEqual(expect.objectContaining({ id: org.id, role: 'admin' }))
    const renamed = await as(alice).call('PATCH', `/orgs/${org.id}`, { name: `Ō'Brien & Co` })
    expect(((await renamed.json()) as { name: string }).name).toBe(`Ō'Brien & Co`)
  })

  it('refuses bad slugs, control characters and taken slugs', async () => {
    const upper = await as(alice).call('POST', '/orgs', { name: 'X', slug: 'Acme Inc' })
    expect(upper.status).toBe(400)
    expect((await errorOf(upper)).fields?.map((f) => f.path)).toEqual(['slug'])
    const control = await as(alice).call('POST', '/orgs', { name: 'a\u0000b', slug: slug('o') })
    expect(control.status).toBe(400)
    const taken = slug('taken')
    expect((await as(alice).call('POST', '/orgs', { name: 'A', slug: taken })).status).toBe(201)
    const again = await as(bob).call('POST', '/orgs', { name: 'B', slug: taken })
    expect(again.status).toBe(409)
    expect(await errorOf(again)).toMatchObject({ code: 'SLUG_TAKEN' })
  })

  it("finds nothing of another organisation, even through one's own", async () => {
    const mine = await newOrg(alice)
    const theirs = await newOrg(bob)
    const theirProject = await newProject(bob, theirs.id)
    for (const path of [
      `/orgs/${theirs.id}`,
      `/orgs/${theirs.id}/projects`,
      `/orgs/${theirs.id}/projects/${theirProject.id}`,
      `/orgs/${mine.id}/projects/${theirProject.id}`,
      `/orgs/${'0'.repeat(8)}-0000-7000-8000-${'0'.repeat(12)}`,
    ]) {
      const res = await as(alice).call('GET', path)
      expect(res.status, path).toBe(404)
      expect(await errorOf(res)).toMatchObject({ code: 'NOT_FOUND' })
    }
    const del = await as(alice).call('DELETE', `/orgs/${mine.id}/projects/${theirProject.id}`)
    expect(del.status).toBe(404)
    expect(
      (await as(bob).call('GET', `/orgs/${theirs.id}/projects/${theirProject.id}`)).status,
    ).toBe(200)
  })

  it('deletes an organisation only once its projects are gone', async () => {
    const org = await newOrg(alice)
    const project = await newProject(alice, org.id)
    const refused = await as(alice).call('DELETE', `/orgs/${org.id}`)
    expect(refused.status).toBe(409)
    expect(await errorOf(refused)).toMatchObject({ code: 'ORG_NOT_EMPTY' })
    expect((await as(alice).call('DELETE', `/orgs/${org.id}/projects/${project.id}`)).status).toBe(
      204,
    )
    expect((await as(alice).call('DELETE', `/orgs/${org.id}`)).status).toBe(204)
    expect((await as(alice).call('GET', `/orgs/${org.id}`)).status).toBe(404)
  })

  it('adds members by email, once, and always keeps an admin', async () => {
    const org = await newOrg(alice)
    const add = await as(alice).call('POST', `/orgs/${org.id}/members`, {
      email: bob.user.email.toUpperCase(),
      role: 'read-only',
    })
    expect(add.status).toBe(201)
    const twice = await as(alice).call('POST', `/orgs/${org.id}/members`, {
      email: bob.user.email,
      role: 'member',
    })
    expect(await errorOf(twice)).toMatchObject({ code: 'ALREADY_MEMBER' })
    const nobody = await as(alice).call('POST', `/orgs/${org.id}/members`, {
      email: 'nobody@example.com',
      role: 'member',
    })
    expect(nobody.status).toBe(404)
    // Bob, read-only, sees the organisation and its members but changes nothing.
    expect((await as(bob).call('GET', `/orgs/${org.id}/members`)).status).toBe(200)
    const forbidden = await as(bob).call('PATCH', `/orgs/${org.id}`, { name: 'Mine now' })
    expect(forbidden.status).toBe(403)
    expect(await errorOf(forbidden)).toMatchObject({ code: 'FORBIDDEN' })
    const last = await as(alice).call('PATCH', `/orgs/${org.id}/members/${alice.user.id}`, {
      role: 'member',
    })
    expect(last.status).toBe(409)
    expect(await errorOf(last)).toMatchObject({ code: 'LAST_ADMIN' })
    expect(
      (await as(alice).call('PATCH', `/orgs/${org.id}/members/${bob.user.id}`, { role: 'admin' }))
        .status,
    ).toBe(204)
    const members = (await (await as(bob).call('GET', `/orgs/${org.id}/members`)).json()) as {
      members: { email: string; role: string }[]
    }
    expect(members.members.map((m) => m.role)).toEqual(['admin', 'admin'])
  })
})
