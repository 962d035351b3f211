// /api/v1/agent (continued): what an agent needs to run its project's schedules. It polls
// `GET /schedules` (cheap: the answer carries an ETag, and `If-None-Match` gets a 304), keeps the
// answer on disk, and at each tick asks `POST /schedules/{id}/runs` for the tick's job (one per
// tick whatever the number of agents). When the control plane cannot be reached it runs the tick
// itself and, once back, delivers what it did from its outbox: `POST /jobs/local`.

import { createRoute, z } from '@hono/zod-openapi'
import type { ApiContext } from '../api/context.js'
import { AGENT_SECURITY, errorResponses, jsonContent, newRouter } from '../api/router.js'
import { IdParam } from '../api/schemas.js'
import { recordLocalJob } from '../data/scheduled-jobs.js'
import { runScheduleTick, schedulesForAgent } from '../data/schedules.js'
import { JobStateSchema } from '../api/job-schemas.js'
import { notFoundError } from '../errors.js'
import { authenticateAgent } from '../middleware/authenticate-agent.js'
import { catalogue, connectionForAgent } from './agent-api.js'
import { RetentionPolicySchema } from '../data/schedules.js'
import { createHash } from 'node:crypto'

const AgentScheduleSchema = z
  .object({
    id: z.string(),
    projectId: z.string(),
    connectionId: z.string(),
    cron: z.string(),
    timezone: z.string(),
    retention: RetentionPolicySchema.nullable(),
    /** What a local run needs to reach the database: as the lease answer's `connection`. */
    connection: z.object({
      id: z.string(),
      name: z.string(),
      engine: z.enum(['postgres', 'mysql', 'mongodb']),
      url: z.string().optional(),
      ref: z.string().optional(),
      tls: z
        .object({
          ca: z.string().optional(),
          cert: z.string().optional(),
          key: z.string().optional(),
        })
        .optional(),
    }),
  })
  .openapi('AgentSchedule')

const JobOutcomeSchema = z.object({
  job: z.object({ id: z.string(), state: JobStateSchema }),
  /** False when the job existed already (another agent asked first, or a report came twice). */
  created: z.boolean(),
})

const Iso = z.iso.datetime({ offset: true })

const LocalJobBody = z
  .strictObject({
    clientJobId: z.string().uuid(),
    kind: z.enum(['snapshot', 'retention']),
    connectionId: IdParam,
    scheduleId: IdParam.optional(),
    scheduledAt: Iso.optional(),
    leasedJobId: IdParam.optional(),
    spec: z.record(z.string(), z.unknown()),
    startedAt: Iso,
    finishedAt: Iso,
    result: z.unknown().optional(),
    error: z
      .strictObject({
        code: z.string().min(1).max(64),
        message: z.string().max(4096),
        retryable: z.boolean(),
      })
      .optional(),
  })
  .refine((b) => (b.result === undefined) !== (b.error === undefined), {
    message: 'expected either result or error',
  })

export function agentScheduleRoutes(ctx: ApiContext) {
  const agentOnly = authenticateAgent(ctx)
  return newRouter()
    .openapi(
      createRoute({
        method: 'get',
        path: '/schedules',
        tags: ['agent'],
        summary: 'The enabled schedules of the agent’s project, with what a local run needs',
        middleware: [agentOnly],
        security: AGENT_SECURITY,
        request: {
          headers: z.object({ 'if-none-match': z.string().max(128).optional() }),
        },
        responses: {
          200: {
            description: 'The schedules; the ETag header is their version',
            ...jsonContent(
              z.object({ version: z.string(), schedules: z.array(AgentScheduleSchema) }),
            ),
          },
          304: { description: 'Unchanged since the version in If-None-Match' },
          ...errorResponses(400, 401, 429),
        },
      }),
      async (c) => {
        const agent = c.var.agent
        const { schedules } = await schedulesForAgent(ctx.db, agent.projectId)
        const ids = [...new Set(schedules.map((s) => s.connectionId))]
        const connections =
          ids.length === 0
            ? []
            : await ctx.db.selectFrom('connections').selectAll().where('id', 'in', ids).execute()
        const byId = new Map(connections.map((row) => [row.id, row]))
        const hash = createHash('sha256')
        const items: z.infer<typeof AgentScheduleSchema>[] = []
        for (const s of schedules) {
          const row = byId.get(s.connectionId)
          if (row === undefined) continue
          hash.update(`${s.id}|${s.updatedAt}|${row.id}|${row.updatedAt}\n`)
          try {
            items.push({
              id: s.id,
              projectId: s.projectId,
              connectionId: s.connectionId,
              cron: s.cron,
              timezone: s.timezone,
              retention: s.retention === null ? null : (JSON.parse(s.retention) as never),
              connection: connectionForAgent(ctx, row),
            })
          } catch (err) {
            ctx.logger.warn(
              { scheduleId: s.id, code: (err as { code?: unknown }).code },
              'a schedule’s connection credential cannot be opened: left out',
            )
          }
        }
        const version = hash.digest('base64url').slice(0, 22)
        c.header('etag', `"${version}"`)
        if (c.req.valid('header')['if-none-match'] === `"${version}"`) return c.body(null, 304)
        return c.json({ version, schedules: items }, 200)
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/schedules/{scheduleId}/runs',
        tags: ['agent'],
        summary: 'The job of a schedule’s tick: made once, whichever agent asks first',
        middleware: [agentOnly],
        security: AGENT_SECURITY,
        request: {
          params: z.strictObject({ scheduleId: IdParam }),
          body: { required: true, ...jsonContent(z.strictObject({ scheduledAt: Iso })) },
        },
        responses: {
          200: { description: 'The tick’s job', ...jsonContent(JobOutcomeSchema) },
          ...errorResponses(400, 401, 404, 413, 415, 429),
        },
      }),
      async (c) => {
        const agent = c.var.agent
        const { scheduleId } = c.req.valid('param')
        const schedule = await ctx.db
          .selectFrom('schedules')
          .selectAll()
          .where('id', '=', scheduleId)
          .$if(agent.projectId !== null, (q) => q.where('projectId', '=', agent.projectId!))
          .executeTakeFirst()
        if (schedule === undefined) throw notFoundError('schedule', scheduleId)
        const scheduledAt = new Date(c.req.valid('json').scheduledAt)
        const { job, created } = await runScheduleTick(ctx.db, ctx.queue, schedule, scheduledAt)
        if (created) {
          ctx.logger.info({ scheduleId, jobId: job.id, agentId: agent.id }, 'scheduled job made')
        }
        return c.json({ job: { id: job.id, state: job.state }, created }, 200)
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/jobs/local',
        tags: ['agent'],
        summary: 'Record a job the agent ran on its own while the control plane was away',
        middleware: [agentOnly],
        security: AGENT_SECURITY,
        request: { body: { required: true, ...jsonContent(LocalJobBody) } },
        responses: {
          200: { description: 'Recorded (or already was)', ...jsonContent(JobOutcomeSchema) },
          ...errorResponses(400, 401, 404, 413, 415, 429),
        },
      }),
      async (c) => {
        const agent = c.var.agent
        const { job, created } = await recordLocalJob(
          ctx.db,
          ctx.queue,
          agent,
          c.req.valid('json'),
          catalogue,
        )
        return c.json({ job: { id: job.id, state: job.state }, created }, 200)
      },
    )
}
