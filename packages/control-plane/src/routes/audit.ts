// /api/v1/orgs/{orgId}/audit: the organisation's audit log, newest first, for its admins.
// Pages go backwards in the chain: pass the last event's `seq` as `beforeSeq` for the next.

import { createRoute, z } from '@hono/zod-openapi'
import type { ApiContext } from '../api/context.js'
import { errorResponses, jsonContent, newRouter, USER_SECURITY } from '../api/router.js'
import { IdParam } from '../api/schemas.js'
import { listAuditEvents } from '../data/audit.js'
import type { AuditEvent } from '../db/schema.js'
import { authenticate } from '../middleware/authenticate.js'
import { authorize } from '../middleware/authorize.js'

const MAX_PAGE = 500

const AuditEventSchema = z
  .object({
    id: z.string(),
    seq: z.number().int(),
    occurredAt: z.string(),
    actorType: z.enum(['user', 'api_key', 'system', 'anonymous']),
    actorId: z.string().nullable(),
    action: z.string(),
    targetType: z.string().nullable(),
    targetId: z.string().nullable(),
    ip: z.string().nullable(),
    traceId: z.string().nullable(),
    details: z.record(z.string(), z.unknown()),
    /** This event's link in the organisation's hash chain. */
    hash: z.string(),
  })
  .openapi('AuditEvent')

const Time = z.iso.datetime({ offset: true }).transform((t) => new Date(t).toISOString())

function auditView(event: AuditEvent): z.infer<typeof AuditEventSchema> {
  return {
    id: event.id,
    seq: event.seq,
    occurredAt: event.occurredAt,
    actorType: event.actorType,
    actorId: event.actorId,
    action: event.action,
    targetType: event.targetType,
    targetId: event.targetId,
    ip: event.ip,
    traceId: event.traceId,
    details: JSON.parse(event.details) as Record<string, unknown>,
    hash: event.hash,
  }
}

export function auditRoutes(ctx: ApiContext) {
  const user = authenticate(ctx)
  return newRouter().openapi(
    createRoute({
      method: 'get',
      path: '/{orgId}/audit',
      tags: ['audit'],
      summary: "The organisation's audit events, newest first, filtered",
      middleware: [user, authorize(ctx, 'audit:read')] as const,
      security: USER_SECURITY,
      request: {
        params: z.strictObject({ orgId: IdParam }),
        query: z.strictObject({
          action: z.string().min(1).max(100).optional(),
          /** A user's or an API key's id. */
          actor: IdParam.optional(),
          /** Events at or after this time. */
          since: Time.optional(),
          /** Events before this time. */
          until: Time.optional(),
          /** The next page: events older than the one with this `seq`. */
          beforeSeq: z.coerce.number().int().min(1).optional(),
          limit: z.coerce.number().int().min(1).max(MAX_PAGE).default(100),
        }),
      },
      responses: {
        200: {
          description: 'Events, and `nextBeforeSeq` when there may be more',
          ...jsonContent(
            z.object({
              events: z.array(AuditEventSchema),
              nextBeforeSeq: z.number().int().nullable(),
            }),
          ),
        },
        ...errorResponses(400, 401, 403, 404, 429),
      },
    }),
    async (c) => {
      const { orgId } = c.req.valid('param')
      const q = c.req.valid('query')
      const events = await listAuditEvents(ctx.db, {
        orgId,
        limit: q.limit,
        ...(q.action === undefined ? {} : { action: q.action }),
        ...(q.actor === undefined ? {} : { actorId: q.actor }),
        ...(q.since === undefined ? {} : { since: q.since }),
        ...(q.until === undefined ? {} : { until: q.until }),
        ...(q.beforeSeq === undefined ? {} : { beforeSeq: q.beforeSeq }),
      })
      const last = events.at(-1)
      return c.json(
        {
          events: events.map(auditView),
          nextBeforeSeq: events.length === q.limit && last !== undefined ? last.seq : null,
        },
        200,
      )
    },
  )
}
