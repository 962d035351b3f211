// Authenticates a request by its access token (`Authorization: Bearer`, else the session cookie)
// and checks on every request that the token's session is still active, so a revoked session's
// token is refused at once rather than when it expires. Routes that take API keys
// (`{ apiKeys: true }`) also accept `Authorization: Bearer dbs_…`: the key must be unrevoked,
// unexpired and its creator's account must exist; each use is counted per day (in memory,
// written every few seconds: middleware/api-key-usage.ts). Then counts the
// request against the user's (or the key's) rate limit.

import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import type { ApiContext } from '../api/context.js'
import { accessCookie } from '../api/cookies.js'
import type { AppEnv, Principal } from '../api/router.js'
import { findUsableApiKey } from '../data/api-keys.js'
import { findActiveSession, touchSession } from '../data/sessions.js'
import { findUserById } from '../data/users.js'
import { ControlPlaneError } from '../errors.js'
import { apiKeyMatches, apiKeyPrefix, looksLikeApiKey } from '../identity/api-key-secret.js'
import { verifyAccessToken } from '../identity/tokens.js'
import { clientIp } from './client-ip.js'

/** "Last seen" is written at most this often per session, not on every request. */
const TOUCH_INTERVAL_MS = 60_000

export interface AuthenticateOptions {
  /** Accept API keys as well as signed-in users (routes on an organisation's objects). */
  apiKeys?: boolean
}

export function authenticate(ctx: ApiContext, options: AuthenticateOptions = {}) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const principal = await principalOf(ctx, c, options.apiKeys === true)
    // A key has its own budget: a busy CI job does not throttle its creator's browser.
    await ctx.limiter.hit(
      'perUser',
      principal.kind === 'api-key' ? principal.apiKey.id : principal.user.id,
    )
    c.set('principal', principal)
    await next()
  })
}

async function principalOf(ctx: ApiContext, c: Context, apiKeys: boolean): Promise<Principal> {
  const header = c.req.header('authorization')
  let token: string | undefined
  let via: 'bearer' | 'cookie' = 'bearer'
  if (header !== undefined) {
    const match = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/i.exec(header.trim())
    if (match === null) throw unauthenticated('the Authorization header is not "Bearer <token>"')
    token = match[1]
  } else {
    token = accessCookie(c)
    via = 'cookie'
  }
  if (token === undefined) throw unauthenticated('sign in first: no access token')
  if (via === 'bearer' && looksLikeApiKey(token)) {
    if (!apiKeys) throw unauthenticated('this route needs a signed-in user, not an API key')
    return apiKeyPrincipal(ctx, token)
  }
  const claims = await verifyAccessToken(token, ctx.auth.signingKey)
  if (claims === undefined) throw unauthenticated('the access token is invalid or has expired')
  // Both at once: on PostgreSQL two connections of the pool, one round trip of waiting.
  const [session, user] = await Promise.all([
    findActiveSession(ctx.db, claims.sessionId),
    findUserById(ctx.db, claims.userId),
  ])
  if (session?.userId !== claims.userId || user === undefined) {
    throw unauthenticated('the session of this access token has ended')
  }
  if (Date.now() - Date.parse(session.lastSeenAt) > TOUCH_INTERVAL_MS) {
    const ip = clientIp(c, ctx.auth.trustProxy)
    await touchSession(ctx.db, session.id, ip === null ? {} : { ip })
  }
  return { kind: 'session', user, session, via }
}

async function apiKeyPrincipal(ctx: ApiContext, presented: string): Promise<Principal> {
  const prefix = apiKeyPrefix(presented)
  const apiKey = prefix === undefined ? undefined : await findUsableApiKey(ctx.db, prefix)
  // One message for unknown, wrong, revoked and expired keys: which one is not the caller's business.
  if (apiKey === undefined || !apiKeyMatches(presented, apiKey.keyHash)) {
    throw unauthenticated('the API key is invalid, revoked or expired')
  }
  const user = await findUserById(ctx.db, apiKey.createdBy)
  if (user === undefined) throw unauthenticated('the API key is invalid, revoked or expired')
  ctx.apiKeyUsage.record(apiKey.id)
  return { kind: 'api-key', user, apiKey, via: 'bearer' }
}

export function unauthenticated(message: string): ControlPlaneError {
  return new ControlPlaneError('UNAUTHENTICATED', message)
}
