// /api/v1/admin: the instance's operators' view. GET /admin/queue answers the queue's depth and
// age per project and job kind with the desired-agent count (data/queue-stats.ts), for a
// scaler (KEDA's metrics-api trigger) or a person. Who sees what: an instance administrator the
// whole instance; any other signed-in user the organisations they administer (none: FORBIDDEN);
// an API key with the `queue:read` scope its organisation, when its creator administers it there
// (a project's key: FORBIDDEN, like every route without its project in the path).

import { createRoute, z } from '@hono/zod-openapi'
import type { ApiContext } from '../api/context.js'
import { JobKindSchema } from '../api/job-schemas.js'
import { IdParam } from '../api/schemas.js'
import {
  errorResponses,
  jsonContent,
  KEY_SECURITY,
  newRouter,
  type Principal,
} from '../api/router.js'
import { allows } from '../authz/permissions.js'
import { scopesOf } from '../data/api-keys.js'
import { listOrgsOfUser, roleIn } from '../data/orgs.js'
import {
  DEFAULT_DESIRED_AGENTS_RULE,
  desiredAgents,
  queueDepths,
  type DesiredAgentsRule,
} from '../data/queue-stats.js'
import { ControlPlaneError } from '../errors.js'
import { authenticate, unauthenticated } from '../middleware/authenticate.js'

export const QueueDepthSchema = z
  .object({
    projectId: z.string(),
    kind: JobKindSchema,
    pending: z.number().int(),
    delayed: z.number().int(),
    running: z.number().int(),
    oldestPendingAgeSeconds: z.number(),
  })
  .openapi('QueueDepth')

const AdminQueueSchema = z
  .object({
    at: z.string(),
    queues: z.array(QueueDepthSchema),
    desiredAgents: z.object({
      total: z.number().int(),
      byProject: z.record(z.string(), z.number().int()),
    }),
    rule: z.object({
      jobsPerAgent: z.number().int(),
      min: z.number().int(),
      max: z.number().int(),
    }),
  })
  .openapi('AdminQueue')

export function adminRoutes(
  ctx: ApiContext,
  rule: DesiredAgentsRule = DEFAULT_DESIRED_AGENTS_RULE,
) {
  return newRouter().openapi(
    createRoute({
      method: 'get',
      path: '/queue',
      tags: ['admin'],
      summary: 'Queue depth and age per project and job kind, and the desired agents',
      description:
        'Pending counts jobs due now, delayed those waiting for a retry’s backoff. Desired agents per project: ceil((pending + running) / jobsPerAgent), clamped to [min, max].',
      middleware: [authenticate(ctx, { apiKeys: true })],
      security: KEY_SECURITY,
      request: {
        query: z.strictObject({
          /** One project only (a scaler of that project's agents): its total is its count. */
          projectId: IdParam.optional(),
        }),
      },
      responses: {
        200: { description: 'The queue', ...jsonContent(AdminQueueSchema) },
        ...errorResponses(400, 401, 403, 429),
      },
    }),
    async (c) => {
      const visible = await visibleProjects(ctx, c.var.principal)
      const only = c.req.valid('query').projectId
      // A project the caller cannot see answers like one with an empty queue: nothing leaks.
      const projectIds =
        only === undefined ? visible : visible === 'all' || visible.includes(only) ? [only] : []
      const now = new Date()
      const queues = await queueDepths(ctx.db, projectIds === 'all' ? {} : { projectIds }, now)
      return c.json(
        { at: now.toISOString(), queues, desiredAgents: desiredAgents(queues, rule), rule },
        200,
      )
    },
  )
}

/** The projects whose queue `principal` may see, or 'all' for an instance administrator. */
async function visibleProjects(ctx: ApiContext, principal: Principal): Promise<'all' | string[]> {
  let orgIds: string[]
  if (principal.kind === 'api-key') {
    const key = principal.apiKey
    if (!scopesOf(key).includes('queue:read')) {
      throw new ControlPlaneError('FORBIDDEN', "the API key's scopes do not include queue:read", {
        details: { action: 'queue:read', scopes: scopesOf(key) },
      })
    }
    if (key.projectId !== null) {
      throw new ControlPlaneError('FORBIDDEN', "a project's API key reaches only that project", {
        details: { action: 'queue:read', projectId: key.projectId },
      })
    }
    const role = await roleIn(ctx.db, key.orgId, principal.user.id)
    if (role === undefined) throw unauthenticated('the API key is invalid, revoked or expired')
    if (!allows(role, 'queue:read')) throw forbidden()
    orgIds = [key.orgId]
  } else {
    if (principal.user.instanceAdminAt !== null) return 'all'
    const orgs = await listOrgsOfUser(ctx.db, principal.user.id)
    orgIds = orgs.filter((org) => allows(org.role, 'queue:read')).map((org) => org.id)
    if (orgIds.length === 0) throw forbidden()
  }
  const projects = await ctx.db
    .selectFrom('projects')
    .select('id')
    .where('orgId', 'in', orgIds)
    .execute()
  return projects.map((p) => p.id)
}

function forbidden(): ControlPlaneError {
  return new ControlPlaneError(
    'FORBIDDEN',
    'the queue is for instance administrators and the administrators of an organisation',
    { details: { action: 'queue:read' } },
  )
}
