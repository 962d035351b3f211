// The API over a real HTTP server, where sockets and cookies are real: the typed client signs up,
// the socket's address is the session's IP, and a cookie session works only from its own origin.

import type { AddressInfo } from 'node:net'
import { serve, type ServerType } from '@hono/node-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createClient } from '../src/client.js'
import { DIALECTS } from './dialects.js'
import { cookiesOf, harness, PASSWORD, uniqueEmail, type Harness } from './api-harness.js'

describe.each(DIALECTS)('API over HTTP on %s', (dialect) => {
  let h: Harness
  let server: ServerType
  let origin: string
  beforeAll(async () => {
    h = await harness(dialect)
    await new Promise<void>((resolve) => {
      server = serve({ fetch: h.app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve())
    })
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve))
    await h.cp.drop()
  })

  it('signs up with the typed client and serves the session by cookie to its own origin', async () => {
    // Not behind a trusted proxy: a forwarded-for header is the client's own claim, ignored.
    const client = createClient(origin, { headers: { origin, 'x-forwarded-for': '203.0.113.66' } })
    const email = uniqueEmail()
    const registered = await client.api.v1.auth.register.$post({
      json: { email, password: PASSWORD },
    })
    expect(registered.status).toBe(201)
    if (registered.status !== 201) return
    const body = await registered.json()
    expect(body.user.email).toBe(email)
    expect(body.session.ip).toBe('127.0.0.1')

    const cookie = Object.entries(cookiesOf(registered))
      .map(([k, v]) => `${k}=${v}`)
      .join('; ')
    const me = await fetch(`${origin}/api/v1/sessions`, { headers: { cookie } })
    expect(me.status).toBe(200)
    const { sessions } = (await me.json()) as { sessions: { id: string; current: boolean }[] }
    expect(sessions).toEqual([expect.objectContaining({ id: body.session.id, current: true })])

    const elsewhere = await fetch(`${origin}/api/v1/auth/logout`, {
      method: 'POST',
      headers: { cookie, origin: 'http://127.0.0.1:1' },
    })
    expect(elsewhere.status).toBe(403)
    const out = await fetch(`${origin}/api/v1/auth/logout`, {
      method: 'POST',
      headers: { cookie, origin },
    })
    expect(out.status).toBe(204)
    expect((await fetch(`${origin}/api/v1/sessions`, { headers: { cookie } })).status).toBe(401)
  })

  it('uses bearer tokens with the typed client, with no Origin needed', async () => {
    const anonymous = createClient(origin)
    const res = await anonymous.api.v1.auth.register.$post({
      json: { email: uniqueEmail(), password: PASSWORD },
    })
    if (res.status !== 201) throw new Error(`register: ${res.status}`)
    const { tokens } = await res.json()
    const client = createClient(origin, {
      headers: { authorization: `Bearer ${tokens.accessToken}` },
    })
    const sessions = await client.api.v1.sessions.$get()
    expect(sessions.status).toBe(200)
    const all = await client.api.v1.sessions.$delete({ query: {} })
    expect(all.status).toBe(200)
    expect((await client.api.v1.sessions.$get()).status).toBe(401)
  })
})
