// The control plane's HTTP application, built from its parts so tests call `app.request()`:
// health probes at the root, the public API under /api/v1 with its OpenAPI document.

import { silentLogger, type Logger } from '@dbsnap/engine/core'
import { createRoute, z } from '@hono/zod-openapi'
import { Hono } from 'hono'
import type { AuthSettings, ApiContext } from './api/context.js'
import { errorHandler, notFoundHandler } from './api/errors.js'
import { jsonContent, newRouter } from './api/router.js'
import { join } from 'node:path'
import { defaultDataDirectory } from './config.js'
import type { ExportSettings } from './data/exports.js'
import { JobQueue, type JobQueueOptions } from './data/jobs.js'
import type { DesiredAgentsRule } from './data/queue-stats.js'
import type { ControlPlaneDb } from './db/database.js'
import { ApiKeyUsageRecorder } from './middleware/api-key-usage.js'
import { ControlPlaneMetrics } from './metrics.js'
import { DEFAULT_MAX_BODY_BYTES, jsonBodies } from './middleware/body.js'
import { DEFAULT_RATE_LIMITS, RateLimiter, type RateLimits } from './middleware/rate-limit.js'
import { sameOrigin } from './middleware/same-origin.js'
import { traceMiddleware } from './middleware/trace.js'
import { adminRoutes } from './routes/admin.js'
import { agentApiRoutes } from './routes/agent-api.js'
import {
  agentExportFileRoutes,
  agentExportRoutes,
  describeExportFileUpload,
} from './routes/agent-exports.js'
import { downloadRoutes } from './routes/downloads.js'
import { jobKindRoutes } from './routes/job-kinds.js'
import { agentScheduleRoutes } from './routes/agent-schedules.js'
import { agentQueueRoutes } from './routes/agent-queue.js'
import { agentRoutes } from './routes/agents.js'
import { auditRoutes } from './routes/audit.js'
import { authRoutes } from './routes/auth.js'
import { connectionTestRoutes } from './routes/connection-tests.js'
import { connectionRoutes } from './routes/connections.js'
import { DIFF_PAGE_MAX_BYTES, DIFF_PAGE_PATH, diffUploadRoutes } from './routes/diff-uploads.js'
import { diffRoutes } from './routes/diffs.js'
import { healthRoutes } from './routes/health.js'
import { jobRoutes } from './routes/jobs.js'
import { keyRoutes } from './routes/keys.js'
import { scheduleRoutes } from './routes/schedules.js'
import { metricsRoutes } from './routes/metrics.js'
import { orgRoutes } from './routes/orgs.js'
import { projectRoutes } from './routes/projects.js'
import { sessionRoutes } from './routes/sessions.js'
import { snapshotRoutes } from './routes/snapshots.js'
import type { SecretBox } from './secrets/secret-box.js'
import { mountWebAssets } from './web-assets.js'

export interface AppDeps {
  db: ControlPlaneDb
  logger?: Logger
  version: string
  /** The access tokens' key (identity/signing-key.ts) and the other auth settings. */
  auth: Pick<AuthSettings, 'signingKey'> & Partial<AuthSettings>
  /** The credentials' key (secrets/secret-keys.ts). */
  secrets: SecretBox
  rateLimits?: Partial<RateLimits>
  /** The clock the rate limits' fixed windows are counted in (tests pin it: no window ends mid-test). */
  rateLimitClock?: () => number
  maxBodyBytes?: number
  /** Lease length, attempts and backoff of the job queue. */
  queue?: JobQueueOptions
  /** The built web view to serve at `/` (default: dist/web); `false` serves none. */
  webRoot?: string | false
  /** API key usage counts; the caller closes it (flushes) before closing the database. */
  apiKeyUsage?: ApiKeyUsageRecorder
  /** Where local exports wait for their download, how big and for how long (default: the data directory's `exports`, 1 GiB, 24 h). */
  exports?: Partial<ExportSettings>
  /** /metrics' bearer token (unset: open) and the desired-agent rule (data/queue-stats.ts). */
  metrics?: { token?: string; desiredAgents?: DesiredAgentsRule }
}

const DEFAULT_ACCESS_TTL_SECONDS = 15 * 60
const DEFAULT_SESSION_TTL_SECONDS = 30 * 24 * 60 * 60

export function createApp({
  db,
  logger = silentLogger,
  version,
  auth,
  secrets,
  rateLimits = {},
  rateLimitClock,
  maxBodyBytes = DEFAULT_MAX_BODY_BYTES,
  queue = {},
  webRoot,
  apiKeyUsage = new ApiKeyUsageRecorder(db.db, logger),
  exports = {},
  metrics: metricsSettings = {},
}: AppDeps) {
  const metrics = new ControlPlaneMetrics(metricsSettings.desiredAgents)
  const ctx: ApiContext = {
    db: db.db,
    logger,
    auth: {
      accessTtlSeconds: DEFAULT_ACCESS_TTL_SECONDS,
      sessionTtlSeconds: DEFAULT_SESSION_TTL_SECONDS,
      publicOrigin: undefined,
      trustProxy: false,
      openRegistration: false,
      ...auth,
    },
    limiter: new RateLimiter(
      db.db,
      { ...DEFAULT_RATE_LIMITS, ...rateLimits },
      { logger, now: rateLimitClock },
    ),
    apiKeyUsage,
    secrets,
    queue: new JobQueue(db, { events: metrics, ...queue }),
    exports: {
      dir: join(defaultDataDirectory(), 'exports'),
      maxBytes: 1024 ** 3,
      ttlSeconds: 24 * 3600,
      ...exports,
    },
  }
  const api = newRouter()
  api.use(
    sameOrigin(ctx.auth.publicOrigin),
    jsonBodies(maxBodyBytes, [{ path: DIFF_PAGE_PATH, maxBytes: DIFF_PAGE_MAX_BYTES }]),
  )
  const routes = api
    .openapi(
      createRoute({
        method: 'get',
        path: '/version',
        tags: ['service'],
        summary: "The service's name and version",
        responses: {
          200: {
            description: 'Name and version',
            ...jsonContent(
              z.object({ name: z.literal('dbsnap-control-plane'), version: z.string() }),
            ),
          },
        },
      }),
      (c) => c.json({ name: 'dbsnap-control-plane' as const, version }, 200),
    )
    .route('/auth', authRoutes(ctx))
    .route('/sessions', sessionRoutes(ctx))
    .route('/orgs', orgRoutes(ctx))
    .route('/orgs', projectRoutes(ctx))
    .route('/orgs', connectionRoutes(ctx))
    .route('/orgs', keyRoutes(ctx))
    .route('/orgs', auditRoutes(ctx))
    .route('/orgs', agentRoutes(ctx))
    .route('/orgs', jobRoutes(ctx))
    .route('/orgs', snapshotRoutes(ctx))
    .route('/orgs', diffRoutes(ctx))
    .route('/orgs', scheduleRoutes(ctx))
    .route('/orgs', connectionTestRoutes(ctx))
    .route('/agent', agentApiRoutes(ctx))
    .route('/agent', diffUploadRoutes(ctx))
    .route('/agent', agentScheduleRoutes(ctx))
    .route('/agent', agentQueueRoutes(ctx))
    .route('/admin', adminRoutes(ctx, metricsSettings.desiredAgents))
    .route('/orgs', jobKindRoutes(ctx))
    .route('/downloads', downloadRoutes(ctx))
    .route('/agent', agentExportRoutes(ctx))
  describeExportFileUpload(api)
  api.openAPIRegistry.registerComponent('securitySchemes', 'bearer', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
  })
  api.openAPIRegistry.registerComponent('securitySchemes', 'cookie', {
    type: 'apiKey',
    in: 'cookie',
    name: '__Host-dbsnap-access',
  })
  api.openAPIRegistry.registerComponent('securitySchemes', 'apiKey', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'dbs_… API key',
  })
  api.openAPIRegistry.registerComponent('securitySchemes', 'agent', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'dbsa_… agent credential',
  })
  api.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: { title: 'DBSnap control plane', version },
    servers: [{ url: '/api/v1' }],
  })
  const app = new Hono()
    .use(traceMiddleware(logger), metrics.http())
    .route('/', healthRoutes(db))
    // Before the API: its body is a file, not the JSON the API's middleware takes.
    .route('/', agentExportFileRoutes(ctx))
    .route('/', metricsRoutes(db.db, metrics, metricsSettings.token))
    .route('/api/v1', routes)
  // After the API, so the web view's fallback to index.html never shadows a route.
  if (webRoot !== false) mountWebAssets(app, webRoot)
  return app.onError(errorHandler(logger)).notFound(notFoundHandler)
}

export type ControlPlaneApp = ReturnType<typeof createApp>
