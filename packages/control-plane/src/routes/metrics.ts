// GET /metrics: the control plane's Prometheus metrics (metrics.ts). With DBSNAP_CP_METRICS_TOKEN
// set, a scrape must send `Authorization: Bearer <token>` (compared in constant time); unset, it
// is open, like /livez, to whoever reaches the port: its labels are ids and job kinds, never names.

import { createHash, timingSafeEqual } from 'node:crypto'
import { Hono } from 'hono'
import type { Kysely } from 'kysely'
import type { Database } from '../db/schema.js'
import type { ControlPlaneMetrics } from '../metrics.js'
import { unauthenticated } from '../middleware/authenticate.js'

export function metricsRoutes(
  db: Kysely<Database>,
  metrics: ControlPlaneMetrics,
  token: string | undefined,
) {
  const expected = token === undefined ? undefined : digest(token)
  return new Hono().get('/metrics', async (c) => {
    if (expected !== undefined) {
      const match = /^Bearer (\S+)$/i.exec(c.req.header('authorization')?.trim() ?? '')
      if (match === null || !timingSafeEqual(digest(match[1]!), expected)) {
        c.header('www-authenticate', 'Bearer realm="metrics"')
        throw unauthenticated('/metrics needs the metrics token: Authorization: Bearer <token>')
      }
    }
    const text = await metrics.scrape(db)
    return c.body(text, 200, { 'content-type': metrics.contentType })
  })
}

/** Equal-length values for timingSafeEqual, whatever was sent. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}
