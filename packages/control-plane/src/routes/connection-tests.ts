// /api/v1/orgs/{orgId}/projects/{projectId}/connections/{connectionId}/tests: asks an agent to
// test a connection now. The control plane cannot reach the databases (they live in the agents'
// networks, and an `env:`/`file:` credential only resolves there), so the test is a
// `connection-test` job: its result is the engine's sanitized server description (product,
// version, host, database, size, object counts, user, excess privileges — never the credential),
// read back with GET …/jobs/{jobId}. One attempt: a test that failed says so at once, rather than
// retrying with backoff while the person who asked waits.

import { createRoute, z } from '@hono/zod-openapi'
import { audited } from '../api/audit.js'
import type { ApiContext } from '../api/context.js'
import { JobSchema, jobView } from '../api/job-schemas.js'
import { errorResponses, jsonContent, KEY_SECURITY, newRouter } from '../api/router.js'
import { IdParam } from '../api/schemas.js'
import { findConnection } from '../data/connections.js'
import { notFoundError } from '../errors.js'
import { authenticate } from '../middleware/authenticate.js'
import { authorize } from '../middleware/authorize.js'
import { actorOf } from './jobs.js'

const ConnectionParams = z.strictObject({
  orgId: IdParam,
  projectId: IdParam,
  connectionId: IdParam,
})

export function connectionTestRoutes(ctx: ApiContext) {
  const keyOrUser = authenticate(ctx, { apiKeys: true })
  return newRouter().openapi(
    createRoute({
      method: 'post',
      path: '/{orgId}/projects/{projectId}/connections/{connectionId}/tests',
      tags: ['connections'],
      summary: 'Test the connection now: queues a connection-test job for the project’s agents',
      middleware: [keyOrUser, authorize(ctx, 'connections:write')],
      security: KEY_SECURITY,
      request: { params: ConnectionParams },
      responses: {
        202: {
          description: 'Queued; the job’s `result` is the server description once it succeeded',
          ...jsonContent(z.object({ job: JobSchema })),
        },
        ...errorResponses(400, 401, 403, 404, 429),
      },
    }),
    async (c) => {
      const { orgId, projectId, connectionId } = c.req.valid('param')
      const connection = await findConnection(ctx.db, { orgId, projectId }, connectionId)
      if (connection === undefined) throw notFoundError('connection', connectionId)
      const job = await audited(
        ctx,
        c,
        (trx) =>
          ctx.queue.in(trx).enqueue({
            projectId,
            connectionId,
            kind: 'connection-test',
            spec: { kind: 'connection-test', connectionId },
            maxAttempts: 1,
            createdBy: actorOf(c.var.principal),
          }),
        (j) => ({
          orgId,
          action: 'connection.test_requested',
          targetType: 'connection',
          targetId: connectionId,
          details: { jobId: j.id },
        }),
      )
      return c.json({ job: jobView(job, { stack: c.var.role === 'admin' }) }, 202)
    },
  )
}
