import { afterEach, describe, expect, it } from 'vitest'
import { startHealthServer, type HealthServer } from './health.js'
import { AgentMetrics } from './metrics.js'

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
    // Without metrics to serve, /metrics is not there.
    expect((await fetch(`${base}/metrics`)).status).toBe(404)
  })

  it('serves the Prometheus exposition it is given at /metrics', async () => {
    const metrics = new AgentMetrics()
    metrics.watch({ running: () => 2, slots: () => 3, outbox: () => 5 })
    server = await startHealthServer({ notReadyReason: () => null }, '127.0.0.1', 0, metrics)
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/)
    const text = await res.text()
    expect(text).toContain('dbsnap_agent_running_jobs 2')
    expect(text).toContain('dbsnap_agent_slots 3')
    expect(text).toContain('dbsnap_agent_outbox_reports 5')
    expect(text).toContain('dbsnap_agent_process_cpu_seconds_total')
  })
})
