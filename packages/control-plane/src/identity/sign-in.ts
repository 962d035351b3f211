// Signing in and staying signed in: register, log in (generic failure, constant work whether the
// account exists), and the refresh-token exchange. Routes call these and only shape the HTTP.

import { createHash } from 'node:crypto'
import type { Context } from 'hono'
import { audit, audited } from '../api/audit.js'
import type { ApiContext } from '../api/context.js'
import { createSession, rotateRefreshToken } from '../data/sessions.js'
import { claimSetup } from '../data/setup.js'
import { createUser, findUserByEmail, normalizeEmail, setPasswordHash } from '../data/users.js'
import { timestamp } from '../db/clock.js'
import type { Session, User } from '../db/schema.js'
import { ControlPlaneError } from '../errors.js'
import { clientIp } from '../middleware/client-ip.js'
import { hashPassword, needsRehash, rehashPassword, verifyPasswordOrDummy } from './passwords.js'
import { hashRefreshToken, newRefreshToken, signAccessToken } from './tokens.js'

/** Longer user agents are cut: the column is for display. */
const MAX_USER_AGENT = 512

export interface SignedIn {
  user: User
  session: Session
  accessToken: string
  refreshToken: string
}

export async function register(
  ctx: ApiContext,
  c: Context,
  input: { email: string; password: string },
): Promise<SignedIn> {
  await ctx.limiter.hit('authPerIp', ipKey(ctx, c))
  if (!ctx.auth.openRegistration) {
    throw new ControlPlaneError(
      'REGISTRATION_CLOSED',
      'sign-up is closed on this instance: ask an administrator for an account',
    )
  }
  const passwordHash = await hashPassword(input.password, { email: input.email })
  const user = await createUser(ctx.db, { email: input.email, passwordHash })
  return startSession(ctx, c, user, 'user.registered')
}

/** First run: the holder of a setup link's token creates the instance's administrator. */
export async function setUpInstance(
  ctx: ApiContext,
  c: Context,
  input: { token: string; email: string; password: string },
): Promise<SignedIn> {
  await ctx.limiter.hit('authPerIp', ipKey(ctx, c))
  const passwordHash = await hashPassword(input.password, { email: input.email })
  const user = await claimSetup(ctx.db, { token: input.token, email: input.email, passwordHash })
  return startSession(ctx, c, user, 'instance.admin_created')
}

export async function login(
  ctx: ApiContext,
  c: Context,
  input: { email: string; password: string },
): Promise<SignedIn> {
  await ctx.limiter.hit('authPerIp', ipKey(ctx, c))
  // Per account whether it exists or not, so the limit tells nothing about which emails do.
  const account = createHash('sha256').update(normalizeEmail(input.email)).digest('hex')
  await ctx.limiter.hit('loginPerAccount', account)
  const user = await findUserByEmail(ctx.db, input.email)
  const ok = await verifyPasswordOrDummy(user?.passwordHash ?? null, input.password)
  if (user === undefined || !ok) {
    await audit(ctx, c, {
      action: 'login.failed',
      ...(user === undefined ? {} : { targetType: 'user', targetId: user.id }),
      details: { reason: user === undefined ? 'unknown-email' : 'wrong-password' },
    })
    throw new ControlPlaneError('INVALID_CREDENTIALS', 'invalid email or password')
  }
  if (user.passwordHash !== null && needsRehash(user.passwordHash)) {
    await setPasswordHash(ctx.db, user.id, await rehashPassword(input.password))
  }
  return startSession(ctx, c, user, 'login.succeeded')
}

export type RefreshOutcome = { accessToken: string; refreshToken: string; session: Session }

/**
 * Exchanges a refresh token for a new pair. A token presented a second time revokes its whole
 * session (it was copied); both that and an unknown token are UNAUTHENTICATED.
 */
export async function refresh(
  ctx: ApiContext,
  c: Context,
  presented: string,
): Promise<RefreshOutcome> {
  await ctx.limiter.hit('authPerIp', ipKey(ctx, c))
  const refreshToken = newRefreshToken()
  const outcome = await rotateRefreshToken(ctx.db, {
    presentedHash: hashRefreshToken(presented),
    nextHash: hashRefreshToken(refreshToken),
  })
  if (outcome.status === 'reused') {
    ctx.logger.warn({ sessionId: outcome.sessionId }, 'refresh token reused: session revoked')
    throw new ControlPlaneError(
      'UNAUTHENTICATED',
      'this refresh token was already used; its session has been ended, sign in again',
    )
  }
  if (outcome.status === 'invalid') {
    throw new ControlPlaneError(
      'UNAUTHENTICATED',
      'the refresh token is invalid or its session has ended',
    )
  }
  const { session } = outcome
  const accessToken = await signAccessToken(
    { userId: session.userId, sessionId: session.id },
    { key: ctx.auth.signingKey, ttlSeconds: ctx.auth.accessTtlSeconds },
  )
  return { accessToken, refreshToken, session }
}

/** Starts a session and records, with it, the sign-in that made it. */
async function startSession(
  ctx: ApiContext,
  c: Context,
  user: User,
  action: 'login.succeeded' | 'user.registered' | 'instance.admin_created',
): Promise<SignedIn> {
  const refreshToken = newRefreshToken()
  const session = await audited(
    ctx,
    c,
    (trx) =>
      createSession(trx, {
        userId: user.id,
        refreshTokenHash: hashRefreshToken(refreshToken),
        ip: clientIp(c, ctx.auth.trustProxy),
        userAgent: c.req.header('user-agent')?.slice(0, MAX_USER_AGENT) ?? null,
        expiresAt: timestamp(new Date(Date.now() + ctx.auth.sessionTtlSeconds * 1000)),
      }),
    (s) => ({ actorType: 'user', actorId: user.id, action, targetType: 'session', targetId: s.id }),
  )
  const accessToken = await signAccessToken(
    { userId: user.id, sessionId: session.id },
    { key: ctx.auth.signingKey, ttlSeconds: ctx.auth.accessTtlSeconds },
  )
  return { user, session, accessToken, refreshToken }
}

/** The key of per-IP limits; requests with no known address share one bucket. */
function ipKey(ctx: ApiContext, c: Context): string {
  return clientIp(c, ctx.auth.trustProxy) ?? 'unknown'
}
