// /api/v1/orgs/{orgId}/projects/{projectId}/agents: the agents that run a project's jobs. An admin
// creates one and is shown its one-time registration token, with the command that uses it; the
// token is never shown again. Revoking refuses the agent's credential at once.

import { createRoute, z } from '@hono/zod-openapi'
import { audited } from '../api/audit.js'
import type { ApiContext } from '../api/context.js'
import { AgentSchema, agentView } from '../api/job-schemas.js'
import { errorResponses, jsonContent, newRouter, USER_SECURITY } from '../api/router.js'
import { IdParam, NameSchema } from '../api/schemas.js'
import type { Action } from '../authz/permissions.js'
import { createAgent, getAgent, listAgents, revokeAgent } from '../data/agents.js'
import { findProject } from '../data/projects.js'
import { notFoundError } from '../errors.js'
import { authenticate } from '../middleware/authenticate.js'
import { authorize } from '../middleware/authorize.js'

const ProjectParams = z.strictObject({ orgId: IdParam, projectId: IdParam })
const AgentParams = ProjectParams.extend({ agentId: IdParam })

/** NOT_FOUND unless the project is the organisation's. */
export async function checkProject(
  ctx: ApiContext,
  orgId: string,
  projectId: string,
): Promise<void> {
  if ((await findProject(ctx.db, orgId, projectId)) === undefined) {
    throw notFoundError('project', projectId)
  }
}

/** Agents are managed by people: API keys are refused here. */
export function agentRoutes(ctx: ApiContext) {
  const user = authenticate(ctx)
  const can = (action: Action) => [user, authorize(ctx, action)]
  return newRouter()
    .openapi(
      createRoute({
        method: 'get',
        path: '/{orgId}/projects/{projectId}/agents',
        tags: ['agents'],
        summary: "The project's agents, oldest first",
        middleware: can('agents:read'),
        security: USER_SECURITY,
        request: { params: ProjectParams },
        responses: {
          200: {
            description: 'Agents',
            ...jsonContent(z.object({ agents: z.array(AgentSchema) })),
          },
          ...errorResponses(400, 401, 403, 404, 429),
        },
      }),
      async (c) => {
        const { orgId, projectId } = c.req.valid('param')
        await checkProject(ctx, orgId, projectId)
        const agents = await listAgents(ctx.db, projectId)
        return c.json({ agents: agents.map(agentView) }, 200)
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/{orgId}/projects/{projectId}/agents',
        tags: ['agents'],
        summary: 'Create an agent: its one-time registration token is in the response, once',
        middleware: can('agents:write'),
        security: USER_SECURITY,
        request: {
          params: ProjectParams,
          body: { required: true, ...jsonContent(z.strictObject({ name: NameSchema })) },
        },
        responses: {
          201: {
            description: 'Created',
            ...jsonContent(
              z.object({
                agent: AgentSchema,
                registrationToken: z
                  .string()
                  .openapi({ description: 'Single use, for 15 minutes' }),
                expiresAt: z.string(),
                /** The command to run where the agent lives. */
                command: z.string(),
              }),
            ),
          },
          ...errorResponses(400, 401, 403, 404, 409, 413, 415, 429),
        },
      }),
      async (c) => {
        const { orgId, projectId } = c.req.valid('param')
        await checkProject(ctx, orgId, projectId)
        const { agent, registrationToken } = await audited(
          ctx,
          c,
          (trx) =>
            createAgent(trx, {
              projectId,
              name: c.req.valid('json').name,
              createdBy: c.var.principal.user.id,
            }),
          ({ agent: a }) => ({
            orgId,
            action: 'agent.created',
            targetType: 'agent',
            targetId: a.id,
            details: { projectId, name: a.name },
          }),
        )
        const origin = ctx.auth.publicOrigin ?? new URL(c.req.url).origin
        return c.json(
          {
            agent: agentView(agent),
            registrationToken,
            expiresAt: agent.registrationExpiresAt!,
            command: `dbsnap-agent register --url ${origin} --token ${registrationToken}`,
          },
          201,
        )
      },
    )
    .openapi(
      createRoute({
        method: 'delete',
        path: '/{orgId}/projects/{projectId}/agents/{agentId}',
        tags: ['agents'],
        summary:
          'Revoke an agent: its credential stops working at once and its jobs go back to the queue',
        middleware: can('agents:write'),
        security: USER_SECURITY,
        request: { params: AgentParams },
        responses: {
          200: { description: 'Revoked', ...jsonContent(AgentSchema) },
          ...errorResponses(400, 401, 403, 404, 429),
        },
      }),
      async (c) => {
        const { orgId, projectId, agentId } = c.req.valid('param')
        await checkProject(ctx, orgId, projectId)
        await getAgent(ctx.db, projectId, agentId)
        const agent = await audited(
          ctx,
          c,
          (trx) => revokeAgent(trx, projectId, agentId),
          () => ({ orgId, action: 'agent.revoked', targetType: 'agent', targetId: agentId }),
        )
        return c.json(agentView(agent), 200)
      },
    )
}
