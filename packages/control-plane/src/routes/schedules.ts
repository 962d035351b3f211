// /api/v1/orgs/{orgId}/projects/{projectId}/connections/{connectionId}/schedules: a connection's
// cron schedules and the retention policy run after each scheduled snapshot. Read with
// `connections:read`, changed with `connections:write` (a schedule is part of the connection's
// settings), every change audited (`schedule.created|updated|deleted`).

import { createRoute, z } from '@hono/zod-openapi'
import { audited } from '../api/audit.js'
import type { ApiContext } from '../api/context.js'
import { errorResponses, jsonContent, KEY_SECURITY, newRouter } from '../api/router.js'
import { IdParam } from '../api/schemas.js'
import type { Action } from '../authz/permissions.js'
import {
  createSchedule,
  deleteSchedule,
  listSchedules,
  nextRunAt,
  RetentionPolicySchema,
  updateSchedule,
} from '../data/schedules.js'
import type { Schedule } from '../db/schema.js'
import { authenticate } from '../middleware/authenticate.js'
import { authorize } from '../middleware/authorize.js'

const ConnectionParams = z.strictObject({
  orgId: IdParam,
  projectId: IdParam,
  connectionId: IdParam,
})
const ScheduleParams = ConnectionParams.extend({ scheduleId: IdParam })

const RetentionSchema = RetentionPolicySchema.openapi('RetentionPolicy')

const Fields = {
  cron: z
    .string()
    .trim()
    .min(1)
    .max(128)
    .openapi({ example: '0 3 * * *', description: 'croner syntax: 5 fields, or 6 with seconds' }),
  timezone: z.string().min(1).max(64).openapi({ example: 'Europe/Paris' }),
  enabled: z.boolean(),
  retention: RetentionSchema.nullable(),
}

const CreateBody = z.strictObject({
  cron: Fields.cron,
  timezone: Fields.timezone.optional(),
  enabled: Fields.enabled.optional(),
  retention: Fields.retention.optional(),
})
const UpdateBody = z.strictObject({
  cron: Fields.cron.optional(),
  timezone: Fields.timezone.optional(),
  enabled: Fields.enabled.optional(),
  retention: Fields.retention.optional(),
})

export const ScheduleSchema = z
  .object({
    id: z.string(),
    connectionId: z.string(),
    cron: z.string(),
    timezone: z.string(),
    enabled: z.boolean(),
    retention: RetentionSchema.nullable(),
    /** The next run, computed with croner; null when paused. */
    nextRunAt: z.string().nullable(),
    /** The scheduled time of the last run a job was made for. */
    lastRunAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Schedule')

export function scheduleView(
  row: Schedule,
  now: Date = new Date(),
): z.infer<typeof ScheduleSchema> {
  return {
    id: row.id,
    connectionId: row.connectionId,
    cron: row.cron,
    timezone: row.timezone,
    enabled: row.pausedAt === null,
    retention: row.retention === null ? null : (JSON.parse(row.retention) as never),
    nextRunAt: nextRunAt(row, now),
    lastRunAt: row.lastRunAt,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  }
}

const PATH = '/{orgId}/projects/{projectId}/connections/{connectionId}/schedules'

export function scheduleRoutes(ctx: ApiContext) {
  const keyOrUser = authenticate(ctx, { apiKeys: true })
  const can = (action: Action) => [keyOrUser, authorize(ctx, action)]
  const event = (
    orgId: string,
    action: 'schedule.created' | 'schedule.updated' | 'schedule.deleted',
    row: { id: string; connectionId: string },
  ) => ({
    orgId,
    action,
    targetType: 'schedule',
    targetId: row.id,
    details: { connectionId: row.connectionId },
  })
  return newRouter()
    .openapi(
      createRoute({
        method: 'get',
        path: PATH,
        tags: ['schedules'],
        summary: "The connection's schedules",
        middleware: can('connections:read'),
        security: KEY_SECURITY,
        request: { params: ConnectionParams },
        responses: {
          200: {
            description: 'Schedules, oldest first',
            ...jsonContent(z.object({ items: z.array(ScheduleSchema) })),
          },
          ...errorResponses(400, 401, 403, 404, 429),
        },
      }),
      async (c) => {
        const { connectionId, ...scope } = c.req.valid('param')
        const rows = await listSchedules(ctx.db, scope, connectionId)
        const now = new Date()
        return c.json({ items: rows.map((row) => scheduleView(row, now)) }, 200)
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: PATH,
        tags: ['schedules'],
        summary: 'Add a schedule (and the retention run after each of its snapshots)',
        middleware: can('connections:write'),
        security: KEY_SECURITY,
        request: {
          params: ConnectionParams,
          body: { required: true, ...jsonContent(CreateBody) },
        },
        responses: {
          201: { description: 'Created', ...jsonContent(ScheduleSchema) },
          ...errorResponses(400, 401, 403, 404, 413, 415, 429),
        },
      }),
      async (c) => {
        const { connectionId, ...scope } = c.req.valid('param')
        const body = c.req.valid('json')
        const principal = c.var.principal
        const by =
          principal.kind === 'api-key'
            ? `api_key:${principal.apiKey.id}`
            : `user:${principal.user.id}`
        const row = await audited(
          ctx,
          c,
          (trx) => createSchedule(trx, scope, connectionId, body, by),
          (r) => event(scope.orgId, 'schedule.created', r),
        )
        return c.json(scheduleView(row), 201)
      },
    )
    .openapi(
      createRoute({
        method: 'patch',
        path: `${PATH}/{scheduleId}`,
        tags: ['schedules'],
        summary: 'Change a schedule: its expression, time zone, retention, or pause it',
        middleware: can('connections:write'),
        security: KEY_SECURITY,
        request: {
          params: ScheduleParams,
          body: { required: true, ...jsonContent(UpdateBody) },
        },
        responses: {
          200: { description: 'Changed', ...jsonContent(ScheduleSchema) },
          ...errorResponses(400, 401, 403, 404, 413, 415, 429),
        },
      }),
      async (c) => {
        const { connectionId, scheduleId, ...scope } = c.req.valid('param')
        const row = await audited(
          ctx,
          c,
          (trx) => updateSchedule(trx, scope, connectionId, scheduleId, c.req.valid('json')),
          (r) => event(scope.orgId, 'schedule.updated', r),
        )
        return c.json(scheduleView(row), 200)
      },
    )
    .openapi(
      createRoute({
        method: 'delete',
        path: `${PATH}/{scheduleId}`,
        tags: ['schedules'],
        summary: 'Delete a schedule',
        middleware: can('connections:write'),
        security: KEY_SECURITY,
        request: { params: ScheduleParams },
        responses: {
          204: { description: 'Deleted' },
          ...errorResponses(400, 401, 403, 404, 429),
        },
      }),
      async (c) => {
        const { connectionId, scheduleId, ...scope } = c.req.valid('param')
        await audited(
          ctx,
          c,
          (trx) => deleteSchedule(trx, scope, connectionId, scheduleId),
          () => event(scope.orgId, 'schedule.deleted', { id: scheduleId, connectionId }),
        )
        return c.body(null, 204)
      },
    )
}
