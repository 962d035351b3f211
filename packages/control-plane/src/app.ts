// The control plane's HTTP application, built from its parts so tests call `app.request()`.

import { silentLogger, type Logger } from '@dbsnap/engine/core'
import { Hono } from 'hono'
import type { ControlPlaneDb } from './db/database.js'
import { traceMiddleware } from './middleware/trace.js'
import { healthRoutes } from './routes/health.js'

export interface AppDeps {
  db: ControlPlaneDb
  logger?: Logger
  version: string
}

export function createApp({ db, logger = silentLogger, version }: AppDeps) {
  return new Hono()
    .use(traceMiddleware(logger))
    .route('/', healthRoutes(db))
    .get('/api/v1/version', (c) => c.json({ name: 'dbsnap-control-plane', version }))
}

export type ControlPlaneApp = ReturnType<typeof createApp>
