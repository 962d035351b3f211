// GET /api/v1/agent/queue: the depth of the calling agent's project's queue, for an agent that
// scales its own slots (`dbsnap-agent run --autoscale min..max`). Its own project only: an agent
// learns nothing of other projects (the embedded agent, which serves them all, sees them all).

import { createRoute, z } from '@hono/zod-openapi'
import type { ApiContext } from '../api/context.js'
import { AGENT_SECURITY, errorResponses, jsonContent, newRouter } from '../api/router.js'
import { queueDepths } from '../data/queue-stats.js'
import { authenticateAgent } from '../middleware/authenticate-agent.js'
import { QueueDepthSchema } from './admin.js'

const AgentQueueSchema = z
  .object({
    /** Null for the embedded agent, which runs every project's jobs (and sees every project's queue). */
    projectId: z.string().nullable(),
    /** Jobs due now, waiting for an agent. */
    pending: z.number().int(),
    /** Jobs waiting for a later time (a retry's backoff). */
    delayed: z.number().int(),
    /** Jobs running on any of the project's agents. */
    running: z.number().int(),
    oldestPendingAgeSeconds: z.number(),
    kinds: z.array(QueueDepthSchema),
  })
  .openapi('AgentQueue')

export function agentQueueRoutes(ctx: ApiContext) {
  return newRouter().openapi(
    createRoute({
      method: 'get',
      path: '/queue',
      tags: ['agent'],
      summary: 'The depth of the agent’s project’s queue (for autoscaling)',
      middleware: [authenticateAgent(ctx)],
      security: AGENT_SECURITY,
      responses: {
        200: { description: 'The project’s queue', ...jsonContent(AgentQueueSchema) },
        ...errorResponses(401, 429),
      },
    }),
    async (c) => {
      const projectId = c.var.agent.projectId
      const kinds = await queueDepths(ctx.db, projectId === null ? {} : { projectIds: [projectId] })
      const sum = (pick: (k: (typeof kinds)[number]) => number) =>
        kinds.reduce((total, k) => total + pick(k), 0)
      return c.json(
        {
          projectId,
          pending: sum((k) => k.pending),
          delayed: sum((k) => k.delayed),
          running: sum((k) => k.running),
          oldestPendingAgeSeconds: Math.max(0, ...kinds.map((k) => k.oldestPendingAgeSeconds)),
          kinds,
        },
        200,
      )
    },
  )
}
