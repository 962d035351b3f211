// Authenticates a request by its access token (`Authorization: Bearer`, else the session cookie)
// and checks on every request that the token's session is still active, so a revoked session's
// token is refused at once rather than when it expires. Then counts the request against the
// user's rate limit.

import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import type { ApiContext } from '../api/context.js'
import { accessCookie } from '../api/cookies.js'
import type { AppEnv, Principal } from '../api/router.js'
import { findActiveSession, touchSession } from '../data/sessions.js'
import { findUserById } from '../data/users.js'
import { ControlPlaneError } from '../errors.js'
import { verifyAccessToken } from '../identity/tokens.js'
import { clientIp } from './client-ip.js'

/** "Last seen" is written at most this often per session, not on every request. */
const TOUCH_INTERVAL_MS = 60_000

export function authenticate(ctx: ApiContext) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const principal = await principalOf(ctx, c)
    await ctx.limiter.hit('perUser', principal.user.id)
    c.set('principal', principal)
    await next()
  })
}

async function principalOf(ctx: ApiContext, c: Context): Promise<Principal> {
  const header = c.req.header('authorization')
  let token: string | undefined
  let via: Principal['via'] = 'bearer'
  if (header !== undefined) {
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header.trim())
    if (match === null) throw unauthenticated('the Authorization header is not "Bearer <token>"')
    token = match[1]
  } else {
    token = accessCookie(c)
    via = 'cookie'
  }
  if (token === undefined) throw unauthenticated('sign in first: no access token')
  const claims = await verifyAccessToken(token, ctx.auth.signingKey)
  if (claims === undefined) throw unauthenticated('the access token is invalid or has expired')
  const session = await findActiveSession(ctx.db, claims.sessionId)
  if (session?.userId !== claims.userId) {
    throw unauthenticated('the session of this access token has ended')
  }
  const user = await findUserById(ctx.db, claims.userId)
  if (user === undefined) throw unauthenticated('the session of this access token has ended')
  if (Date.now() - Date.parse(session.lastSeenAt) > TOUCH_INTERVAL_MS) {
    const ip = clientIp(c, ctx.auth.trustProxy)
    await touchSession(ctx.db, session.id, ip === null ? {} : { ip })
  }
  return { user, session, via }
}

export function unauthenticated(message: string): ControlPlaneError {
  return new ControlPlaneError('UNAUTHENTICATED', message)
}
