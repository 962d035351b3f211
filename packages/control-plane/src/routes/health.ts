// Liveness and readiness probes (Kubernetes-style): alive while the process serves HTTP,
// ready while its database answers.

import { Hono } from 'hono'
import { sql } from 'kysely'
import type { ControlPlaneDb } from '../db/database.js'

export function healthRoutes(db: ControlPlaneDb) {
  return new Hono()
    .get('/livez', (c) => c.json({ status: 'ok' }))
    .get('/readyz', async (c) => {
      try {
        await sql`select 1`.execute(db.db)
        return c.json({ status: 'ok', checks: { database: 'ok' } })
      } catch {
        return c.json({ status: 'unavailable', checks: { database: 'failed' } }, 503)
      }
    })
}
