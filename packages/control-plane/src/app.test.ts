import { randomBytes } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { createApp } from './app.js'
import { openDatabase } from './db/database.js'
import { SecretBox, secretKey } from './secrets/secret-box.js'

describe('control plane app', async () => {
  const db = await openDatabase({ dialect: 'sqlite', path: ':memory:' })
  const auth = { signingKey: randomBytes(32) }
  const secrets = new SecretBox(secretKey(randomBytes(32)))
  const app = createApp({ db, version: '1.2.3', auth, secrets })
  afterAll(() => db.close())

  it('is alive and ready while its database answers', async () => {
    expect((await app.request('/livez')).status).toBe(200)
    const ready = await app.request('/readyz')
    expect(ready.status).toBe(200)
    expect(await ready.json()).toEqual({ status: 'ok', checks: { database: 'ok' } })
  })

  it('is not ready when its database is gone', async () => {
    const closed = await openDatabase({ dialect: 'sqlite', path: ':memory:' })
    await closed.close()
    const res = await createApp({ db: closed, version: '0', auth, secrets }).request('/readyz')
    expect(res.status).toBe(503)
  })

  it('echoes a valid trace id and replaces an invalid one', async () => {
    const traceId = 'a'.repeat(32)
    const given = await app.request('/livez', { headers: { 'x-trace-id': traceId } })
    expect(given.headers.get('x-trace-id')).toBe(traceId)
    const parent = await app.request('/livez', {
      headers: { traceparent: `00-${'b'.repeat(32)}-${'c'.repeat(16)}-01` },
    })
    expect(parent.headers.get('x-trace-id')).toBe('b'.repeat(32))
    const bad = await app.request('/livez', { headers: { 'x-trace-id': 'not-a-trace' } })
    expect(bad.headers.get('x-trace-id')).toMatch(/^[0-9a-f]{32}$/)
  })

  it('reports its version', async () => {
    expect(await (await app.request('/api/v1/version')).json()).toEqual({
      name: 'dbsnap-control-plane',
      version: '1.2.3',
    })
  })
})
