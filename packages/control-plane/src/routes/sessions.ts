// /api/v1/sessions: the signed-in user's sessions (devices) — list, end one, end all.

import { createRoute, z } from '@hono/zod-openapi'
import { audited } from '../api/audit.js'
import type { ApiContext } from '../api/context.js'
import { clearSessionCookies } from '../api/cookies.js'
import { errorResponses, jsonContent, newRouter, sessionOf, USER_SECURITY } from '../api/router.js'
import { SessionSchema, sessionView } from '../api/schemas.js'
import { listActiveSessions, revokeAllSessions, revokeSession } from '../data/sessions.js'
import { authenticate } from '../middleware/authenticate.js'

export function sessionRoutes(ctx: ApiContext) {
  const requireUser = authenticate(ctx)
  return newRouter()
    .openapi(
      createRoute({
        method: 'get',
        path: '/',
        tags: ['sessions'],
        summary: "The user's active sessions, most recently seen first",
        middleware: [requireUser] as const,
        security: USER_SECURITY,
        responses: {
          200: {
            description: 'Active sessions',
            ...jsonContent(z.object({ sessions: z.array(SessionSchema) })),
          },
          ...errorResponses(401, 429),
        },
      }),
      async (c) => {
        const { user, session } = sessionOf(c.var.principal)
        const sessions = await listActiveSessions(ctx.db, user.id)
        return c.json({ sessions: sessions.map((s) => sessionView(s, session.id)) }, 200)
      },
    )
    .openapi(
      createRoute({
        method: 'delete',
        path: '/{id}',
        tags: ['sessions'],
        summary: 'End one session (its access token is refused from the next request on)',
        middleware: [requireUser] as const,
        security: USER_SECURITY,
        request: { params: z.strictObject({ id: z.string().min(1).max(64) }) },
        responses: {
          204: { description: 'Ended' },
          ...errorResponses(400, 401, 403, 404, 429),
        },
      }),
      async (c) => {
        const { user, session } = sessionOf(c.var.principal)
        const { id } = c.req.valid('param')
        await audited(
          ctx,
          c,
          (trx) => revokeSession(trx, { userId: user.id, sessionId: id, reason: 'revoked' }),
          () => ({ action: 'session.revoked', targetType: 'session', targetId: id }),
        )
        if (id === session.id) clearSessionCookies(c)
        return c.body(null, 204)
      },
    )
    .openapi(
      createRoute({
        method: 'delete',
        path: '/',
        tags: ['sessions'],
        summary: 'Log out everywhere: end every session (but this one with keepCurrent=true)',
        middleware: [requireUser] as const,
        security: USER_SECURITY,
        request: {
          query: z.strictObject({
            keepCurrent: z.enum(['true', 'false']).optional().openapi({ example: 'true' }),
          }),
        },
        responses: {
          200: {
            description: 'How many sessions were ended',
            ...jsonContent(z.object({ revoked: z.number().int() })),
          },
          ...errorResponses(400, 401, 403, 429),
        },
      }),
      async (c) => {
        const { user, session } = sessionOf(c.var.principal)
        const keepCurrent = c.req.valid('query').keepCurrent === 'true'
        const revoked = await audited(
          ctx,
          c,
          (trx) =>
            revokeAllSessions(trx, {
              userId: user.id,
              ...(keepCurrent ? { exceptSessionId: session.id } : {}),
            }),
          (count) => ({
            action: 'session.revoked_all',
            targetType: 'user',
            targetId: user.id,
            details: { revoked: count, keptCurrent: keepCurrent },
          }),
        )
        if (!keepCurrent) clearSessionCookies(c)
        return c.json({ revoked }, 200)
      },
    )
}
