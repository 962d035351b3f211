// /api/v1/auth: register, login, refresh, logout, and who am I. Browsers get their tokens as
// cookies too; scripts use the tokens of the response body.

import { createRoute, z } from '@hono/zod-openapi'
import { audited } from '../api/audit.js'
import type { ApiContext } from '../api/context.js'
import { clearSessionCookies, refreshCookie, setSessionCookies } from '../api/cookies.js'
import { errorResponses, jsonContent, newRouter, sessionOf, USER_SECURITY } from '../api/router.js'
import {
  CredentialsSchema,
  SessionSchema,
  TokensSchema,
  UserSchema,
  sessionView,
  userView,
} from '../api/schemas.js'
import { revokeSession } from '../data/sessions.js'
import { ControlPlaneError } from '../errors.js'
import { login, refresh, register, setUpInstance, type SignedIn } from '../identity/sign-in.js'
import { authenticate } from '../middleware/authenticate.js'

const SignedInSchema = z
  .object({ user: UserSchema, session: SessionSchema, tokens: TokensSchema })
  .openapi('SignedIn')

export function authRoutes(ctx: ApiContext) {
  const requireUser = authenticate(ctx)

  const signedIn = (result: SignedIn) => ({
    user: userView(result.user),
    session: sessionView(result.session, result.session.id),
    tokens: {
      accessToken: result.accessToken,
      expiresIn: ctx.auth.accessTtlSeconds,
      refreshToken: result.refreshToken,
    },
  })
  const cookiesOf = (result: {
    accessToken: string
    refreshToken: string
    session: { expiresAt: string }
  }) => ({
    accessToken: result.accessToken,
    accessTtlSeconds: ctx.auth.accessTtlSeconds,
    refreshToken: result.refreshToken,
    sessionExpiresAt: result.session.expiresAt,
  })

  return newRouter()
    .openapi(
      createRoute({
        method: 'post',
        path: '/register',
        tags: ['auth'],
        summary: 'Create an account and sign in',
        request: { body: { required: true, ...jsonContent(CredentialsSchema) } },
        responses: {
          201: { description: 'Signed in to the new account', ...jsonContent(SignedInSchema) },
          ...errorResponses(400, 403, 409, 413, 415, 429),
        },
      }),
      async (c) => {
        const result = await register(ctx, c, c.req.valid('json'))
        setSessionCookies(c, cookiesOf(result))
        return c.json(signedIn(result), 201)
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/setup',
        tags: ['auth'],
        summary: "First run: create the instance's administrator with the setup link's token",
        description:
          'The token is in the link a first start with no accounts writes to the log; it works once, for an hour.',
        request: {
          body: {
            required: true,
            ...jsonContent(
              CredentialsSchema.extend({ token: z.string().min(1).max(128) }).openapi('Setup'),
            ),
          },
        },
        responses: {
          201: { description: 'The administrator, signed in', ...jsonContent(SignedInSchema) },
          ...errorResponses(400, 401, 403, 409, 413, 415, 429),
        },
      }),
      async (c) => {
        const result = await setUpInstance(ctx, c, c.req.valid('json'))
        setSessionCookies(c, cookiesOf(result))
        return c.json(signedIn(result), 201)
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/login',
        tags: ['auth'],
        summary: 'Sign in with email and password',
        request: { body: { required: true, ...jsonContent(CredentialsSchema) } },
        responses: {
          200: { description: 'Signed in', ...jsonContent(SignedInSchema) },
          ...errorResponses(400, 401, 403, 413, 415, 429),
        },
      }),
      async (c) => {
        const result = await login(ctx, c, c.req.valid('json'))
        setSessionCookies(c, cookiesOf(result))
        return c.json(signedIn(result), 200)
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/refresh',
        tags: ['auth'],
        summary: 'Exchange a refresh token for new tokens (single use)',
        description:
          'The refresh token comes in the body (scripts) or the refresh cookie (browsers); the new one goes back the same way. Presenting a token a second time ends its session.',
        request: {
          body: {
            required: true,
            ...jsonContent(z.strictObject({ refreshToken: z.string().min(1).max(256).optional() })),
          },
        },
        responses: {
          200: { description: 'New tokens', ...jsonContent(TokensSchema) },
          ...errorResponses(400, 401, 403, 413, 415, 429),
        },
      }),
      async (c) => {
        const fromBody = c.req.valid('json').refreshToken
        const presented = fromBody ?? refreshCookie(c)
        if (presented === undefined) {
          throw new ControlPlaneError('UNAUTHENTICATED', 'no refresh token in the body or cookie')
        }
        const result = await refresh(ctx, c, presented)
        if (fromBody === undefined) {
          setSessionCookies(c, cookiesOf(result))
          return c.json(
            { accessToken: result.accessToken, expiresIn: ctx.auth.accessTtlSeconds },
            200,
          )
        }
        return c.json(
          {
            accessToken: result.accessToken,
            expiresIn: ctx.auth.accessTtlSeconds,
            refreshToken: result.refreshToken,
          },
          200,
        )
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/logout',
        tags: ['auth'],
        summary: 'End the current session',
        middleware: [requireUser] as const,
        security: USER_SECURITY,
        responses: {
          204: { description: 'Signed out; the session cookies are cleared' },
          ...errorResponses(401, 403, 429),
        },
      }),
      async (c) => {
        const { user, session } = sessionOf(c.var.principal)
        await audited(
          ctx,
          c,
          (trx) => revokeSession(trx, { userId: user.id, sessionId: session.id, reason: 'logout' }),
          () => ({ action: 'logout', targetType: 'session', targetId: session.id }),
        )
        clearSessionCookies(c)
        return c.body(null, 204)
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/me',
        tags: ['auth'],
        summary: 'The signed-in user and session',
        middleware: [requireUser] as const,
        security: USER_SECURITY,
        responses: {
          200: {
            description: 'Who is signed in',
            ...jsonContent(z.object({ user: UserSchema, session: SessionSchema })),
          },
          ...errorResponses(401, 429),
        },
      }),
      (c) => {
        const { user, session } = sessionOf(c.var.principal)
        return c.json({ user: userView(user), session: sessionView(session, session.id) }, 200)
      },
    )
}
