// Authorises a request on an organisation's objects: the signed-in user must be a member of the
// organisation named in the path (`{orgId}`) — else NOT_FOUND, so another tenant's ids tell
// nothing — and their role must allow the route's action (authz/permissions.ts), else FORBIDDEN.

import { createMiddleware } from 'hono/factory'
import type { ApiContext } from '../api/context.js'
import type { AppEnv } from '../api/router.js'
import { allows, type Action } from '../authz/permissions.js'
import { roleIn } from '../data/orgs.js'
import { ControlPlaneError, notFoundError } from '../errors.js'

/** Runs after `authenticate`; sets `role` for the handler. */
export function authorize(ctx: ApiContext, action: Action) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const orgId = c.req.param('orgId')
    if (orgId === undefined) throw new Error(`route ${c.req.routePath} has no {orgId} to authorise`)
    const role = await roleIn(ctx.db, orgId, c.var.principal.user.id)
    if (role === undefined) throw notFoundError('organisation', orgId)
    if (!allows(role, action)) {
      throw new ControlPlaneError('FORBIDDEN', `the role ${role} does not allow ${action}`, {
        details: { role, action },
      })
    }
    c.set('role', role)
    await next()
  })
}
