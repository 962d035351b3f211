// The agent's health endpoints for process supervisors and Kubernetes probes:
// /livez answers while the process runs, /readyz while the agent can take jobs, /metrics with
// the agent's Prometheus metrics (metrics.ts) when it is given them.

import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface HealthState {
  /** Why the agent cannot take jobs, or null when it can. */
  notReadyReason(): string | null
}

/** The Prometheus exposition to serve at /metrics. */
export interface MetricsSource {
  scrape(): Promise<string>
  readonly contentType: string
}

export interface HealthServer {
  readonly port: number
  close(): Promise<void>
}

export async function startHealthServer(
  state: HealthState,
  host: string,
  port: number,
  metrics?: MetricsSource,
): Promise<HealthServer> {
  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
    }
    if (req.method !== 'GET') return send(405, { status: 'method not allowed' })
    if (req.url === '/livez') return send(200, { status: 'ok' })
    if (req.url === '/readyz') {
      const reason = state.notReadyReason()
      return reason === null
        ? send(200, { status: 'ok' })
        : send(503, { status: 'unavailable', reason })
    }
    if (req.url === '/metrics' && metrics !== undefined) {
      metrics.scrape().then(
        (text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text),
        () => send(500, { status: 'metrics failed' }),
      )
      return
    }
    return send(404, { status: 'not found' })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}
