// /api/v1/orgs/{orgId}/projects/{projectId}/jobs: a project's job queue as people and scripts see
// it: list and filter, one job with its history, cancel, redrive dead jobs; and
// …/connections/{connectionId}/snapshots, which asks an agent for a snapshot now.

import { createRoute, z } from '@hono/zod-openapi'
import { audited } from '../api/audit.js'
import type { ApiContext } from '../api/context.js'
import {
  JobEventSchema,
  JobKindSchema,
  JobSchema,
  JobStateSchema,
  jobEventView,
  jobView,
} from '../api/job-schemas.js'
import { errorResponses, jsonContent, KEY_SECURITY, newRouter } from '../api/router.js'
import { IdParam } from '../api/schemas.js'
import type { Action } from '../authz/permissions.js'
import { findConnection } from '../data/connections.js'
import { jobEvents, listJobs } from '../data/job-reads.js'
import { notFoundError } from '../errors.js'
import { authenticate } from '../middleware/authenticate.js'
import { authorize } from '../middleware/authorize.js'
import { checkProject } from './agents.js'

const ProjectParams = z.strictObject({ orgId: IdParam, projectId: IdParam })
const JobParams = ProjectParams.extend({ jobId: IdParam })
const ConnectionParams = ProjectParams.extend({ connectionId: IdParam })

const ListQuery = z.strictObject({
  state: JobStateSchema.optional(),
  kind: JobKindSchema.optional(),
  connectionId: IdParam.optional(),
  /** The last id of the previous page. */
  before: IdParam.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
})

/** Tags of the snapshot, as the engine keeps them: `{ "reason": "pre-deploy" }`. */
const TagsSchema = z
  .record(
    z
      .string()
      .regex(/^[\p{L}\p{N}._:/-]{1,64}$/u, 'a tag name: 1 to 64 letters, digits or . _ : / -'),
    z.string().max(256),
  )
  .refine((tags) => Object.keys(tags).length <= 20, { message: 'at most 20 tags' })

export function jobRoutes(ctx: ApiContext) {
  const keyOrUser = authenticate(ctx, { apiKeys: true })
  const can = (action: Action) => [keyOrUser, authorize(ctx, action)]
  /** Stacks are for admins: they name files and lines of the agent's machine. */
  const view = (role: string) => (job: Parameters<typeof jobView>[0]) =>
    jobView(job, { stack: role === 'admin' })
  return newRouter()
    .openapi(
      createRoute({
        method: 'get',
        path: '/{orgId}/projects/{projectId}/jobs',
        tags: ['jobs'],
        summary: "The project's jobs, newest first (`state=dead`: the dead-letter queue)",
        middleware: can('jobs:read'),
        security: KEY_SECURITY,
        request: { params: ProjectParams, query: ListQuery },
        responses: {
          200: {
            description: 'A page of jobs; `next` is the cursor of the next page',
            ...jsonContent(z.object({ jobs: z.array(JobSchema), next: z.string().nullable() })),
          },
          ...errorResponses(400, 401, 403, 404, 429),
        },
      }),
      async (c) => {
        const { orgId, projectId } = c.req.valid('param')
        await checkProject(ctx, orgId, projectId)
        const query = c.req.valid('query')
        const jobs = await listJobs(ctx.db, projectId, { ...query, limit: query.limit + 1 })
        const page = jobs.slice(0, query.limit)
        const next = jobs.length > query.limit ? page.at(-1)!.id : null
        return c.json({ jobs: page.map(view(c.var.role)), next }, 200)
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/{orgId}/projects/{projectId}/jobs/{jobId}',
        tags: ['jobs'],
        summary: 'One job with its history',
        middleware: can('jobs:read'),
        security: KEY_SECURITY,
        request: { params: JobParams },
        responses: {
          200: {
            description: 'The job',
            ...jsonContent(JobSchema.extend({ events: z.array(JobEventSchema) })),
          },
          ...errorResponses(400, 401, 403, 404, 429),
        },
      }),
      async (c) => {
        const { orgId, projectId, jobId } = c.req.valid('param')
        await checkProject(ctx, orgId, projectId)
        const job = await ctx.queue.get(projectId, jobId)
        const events = await jobEvents(ctx.db, jobId)
        return c.json({ ...view(c.var.role)(job), events: events.map(jobEventView) }, 200)
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/{orgId}/projects/{projectId}/jobs/{jobId}/cancel',
        tags: ['jobs'],
        summary: 'Cancel a job: a pending one at once, a running one at its next heartbeat',
        middleware: can('jobs:write'),
        security: KEY_SECURITY,
        request: { params: JobParams },
        responses: {
          200: { description: 'Cancelled, or asked to stop', ...jsonContent(JobSchema) },
          ...errorResponses(400, 401, 403, 404, 409, 429),
        },
      }),
      async (c) => {
        const { orgId, projectId, jobId } = c.req.valid('param')
        await checkProject(ctx, orgId, projectId)
        const by = actorOf(c.var.principal)
        const job = await audited(
          ctx,
          c,
          (trx) => ctx.queue.in(trx).cancel(projectId, jobId, by),
          (j) => ({ orgId, action: 'job.cancelled', targetType: 'job', targetId: j.id }),
        )
        return c.json(view(c.var.role)(job), 200)
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/{orgId}/projects/{projectId}/jobs/redrive',
        tags: ['jobs'],
        summary: 'Put dead jobs back in the queue with fresh attempts',
        middleware: can('jobs:redrive'),
        security: KEY_SECURITY,
        request: {
          params: ProjectParams,
          body: {
            required: true,
            ...jsonContent(z.strictObject({ ids: z.array(IdParam).min(1).max(500) })),
          },
        },
        responses: {
          200: {
            description: 'The jobs put back (ids that are not dead are left alone)',
            ...jsonContent(z.object({ jobs: z.array(JobSchema) })),
          },
          ...errorResponses(400, 401, 403, 404, 413, 415, 429),
        },
      }),
      async (c) => {
        const { orgId, projectId } = c.req.valid('param')
        await checkProject(ctx, orgId, projectId)
        const by = actorOf(c.var.principal)
        const jobs = await audited(
          ctx,
          c,
          (trx) => ctx.queue.in(trx).redrive(projectId, c.req.valid('json').ids, by),
          (moved) => ({
            orgId,
            action: 'job.redriven',
            targetType: 'project',
            targetId: projectId,
            details: { jobs: moved.map((j) => j.id) },
          }),
        )
        return c.json({ jobs: jobs.map(view(c.var.role)) }, 200)
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/{orgId}/projects/{projectId}/connections/{connectionId}/snapshots',
        tags: ['jobs'],
        summary: 'Snapshot the connection now: queues a snapshot job for the project’s agents',
        middleware: can('snapshots:write'),
        security: KEY_SECURITY,
        request: {
          params: ConnectionParams,
          body: {
            required: false,
            ...jsonContent(
              z.strictObject({
                tags: TagsSchema.optional(),
                /** Read at most this many rows a second, to spare a busy server. */
                maxRowsPerSecond: z.number().positive().max(1e9).optional(),
              }),
            ),
          },
        },
        responses: {
          202: { description: 'Queued', ...jsonContent(JobSchema) },
          ...errorResponses(400, 401, 403, 404, 413, 415, 429),
        },
      }),
      async (c) => {
        const { orgId, projectId, connectionId } = c.req.valid('param')
        const connection = await findConnection(ctx.db, { orgId, projectId }, connectionId)
        if (connection === undefined) throw notFoundError('connection', connectionId)
        const body =
          (c.req.valid('json') as
            { tags?: Record<string, string>; maxRowsPerSecond?: number } | undefined) ?? {}
        const tags = body.tags ?? {}
        const job = await audited(
          ctx,
          c,
          (trx) =>
            ctx.queue.in(trx).enqueue({
              projectId,
              connectionId,
              kind: 'snapshot',
              spec: {
                kind: 'snapshot',
                connectionId,
                tags,
                ...(body.maxRowsPerSecond === undefined
                  ? {}
                  : { maxRowsPerSecond: body.maxRowsPerSecond }),
              },
              createdBy: actorOf(c.var.principal),
            }),
          (j) => ({
            orgId,
            action: 'snapshot.triggered',
            targetType: 'connection',
            targetId: connectionId,
            details: { jobId: j.id },
          }),
        )
        return c.json(view(c.var.role)(job), 202)
      },
    )
}

/** Who asked, as jobs record it: `user:<id>` or `api_key:<id>`. */
export function actorOf(principal: {
  kind: string
  user: { id: string }
  apiKey?: { id: string }
}) {
  return principal.kind === 'api-key'
    ? `api_key:${principal.apiKey!.id}`
    : `user:${principal.user.id}`
}
