import { afterEach, describe, expect, it } from 'vitest'
import { startHealthServer, type HealthServer } from './health.js'

describe('agent health server', () => {
  let server: HealthServer | undefined
  afterEach(async () => server?.close())

  it('is live always and ready only when nothing holds it back', async () => {
    let reason: string | null = 'starting'
    server = await startHealthServer({ notReadyReason: () => reason }, '127.0.0.1', 0)
    const base = `http://127.0.0.1:${server.port}`
    expect((await fetch(`${base}/livez`)).status).toBe(200)
    const notReady = await fetch(`${base}/readyz`)
    expect(notReady.status).toBe(503)
    expect(await notReady.json()).toEqual({ status: 'unavailable', reason: 'starting' })
    reason = null
    expect((await fetch(`${base}/readyz`)).status).toBe(200)
    expect((await fetch(`${base}/nope`)).status).toBe(404)
  })
})
