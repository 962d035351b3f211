// Liveness and readiness probes (Kubernetes-style): alive while the process serves HTTP,
// ready while its database answers.

import { Hono } from 'hono'
import type { ControlPlaneDb } from '../db.js'

export function healthRoutes(db: ControlPlaneDb) {
  return new Hono()
    .get('/livez', (c) => c.json({ status: 'ok' }))
    .get('/readyz', (c) => {
      try {
        db.prepare('SELECT 1').get()
        return c.json({ status: 'ok', checks: { database: 'ok' } })
      } catch {
        return c.json({ status: 'unavailable', checks: { database: 'failed' } }, 503)
      }
    })
}
