// Authorises a request on an organisation's objects: the signed-in user must be a member of the
// organisation named in the path (`{orgId}`) — else NOT_FOUND, so another tenant's ids tell
// nothing — and their role must allow the route's action (authz/permissions.ts), else FORBIDDEN.
// An API key must belong to that organisation (and, for a project's key, name that project in
// the path), hold the action among its scopes, and its creator's current role must allow it.

import { createMiddleware } from 'hono/factory'
import type { ApiContext } from '../api/context.js'
import type { AppEnv } from '../api/router.js'
import { allows, isScope, type Action } from '../authz/permissions.js'
import { roleIn } from '../data/orgs.js'
import type { ApiKey } from '../db/schema.js'
import { scopesOf } from '../data/api-keys.js'
import { ControlPlaneError, notFoundError } from '../errors.js'
import { unauthenticated } from './authenticate.js'

/** Runs after `authenticate`; sets `role` (the user's, or the key creator's) for the handler. */
export function authorize(ctx: ApiContext, action: Action) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const orgId = c.req.param('orgId')
    if (orgId === undefined) throw new Error(`route ${c.req.routePath} has no {orgId} to authorise`)
    const principal = c.var.principal
    if (principal.kind === 'api-key') {
      checkKey(principal.apiKey, action, orgId, c.req.param('projectId'))
    }
    const role = await roleIn(ctx.db, orgId, principal.user.id)
    if (role === undefined) {
      // The key's creator left the organisation: the key went with them.
      if (principal.kind === 'api-key') {
        throw unauthenticated('the API key is invalid, revoked or expired')
      }
      throw notFoundError('organisation', orgId)
    }
    if (!allows(role, action)) {
      throw new ControlPlaneError('FORBIDDEN', `the role ${role} does not allow ${action}`, {
        details: { role, action },
      })
    }
    c.set('role', role)
    await next()
  })
}

function checkKey(key: ApiKey, action: Action, orgId: string, projectId: string | undefined): void {
  if (key.orgId !== orgId) throw notFoundError('organisation', orgId)
  if (key.projectId !== null && projectId !== undefined && projectId !== key.projectId) {
    throw notFoundError('project', projectId)
  }
  if (!isScope(action) || !scopesOf(key).includes(action)) {
    throw new ControlPlaneError('FORBIDDEN', `the API key's scopes do not include ${action}`, {
      details: { action, scopes: scopesOf(key) },
    })
  }
  if (key.projectId !== null && projectId === undefined) {
    throw new ControlPlaneError('FORBIDDEN', "a project's API key reaches only that project", {
      details: { action, projectId: key.projectId },
    })
  }
}
