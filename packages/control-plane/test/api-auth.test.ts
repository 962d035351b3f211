// Sign-up, sign-in, tokens and sessions through the API on both dialects: bad input, expired,
// tampered and revoked tokens, refresh-token rotation and reuse, cookies and CSRF, rate limits.

import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { randomBytes } from 'node:crypto'
import { signAccessToken } from '../src/identity/tokens.js'
import { DIALECTS } from './dialects.js'
import {
  cookiesOf,
  errorOf,
  harness,
  ORIGIN,
  PASSWORD,
  uniqueEmail,
  type Harness,
} from './api-harness.js'

interface SessionBody {
  id: string
  ip: string | null
  userAgent: string | null
  current: boolean
}

describe.each(DIALECTS)('auth API on %s', (dialect) => {
  let h: Harness
  beforeAll(async () => {
    h = await harness(dialect, { auth: { trustProxy: true } })
  })
  afterAll(async () => {
    await h.cp.drop()
  })

  const me = (token: string) => h.call('GET', '/api/v1/auth/me', { token })
  const sessions = async (token: string): Promise<SessionBody[]> => {
    const res = await h.call('GET', '/api/v1/sessions', { token })
    expect(res.status).toBe(200)
    return ((await res.json()) as { sessions: SessionBody[] }).sessions
  }
  const login = (email: string, password: string, headers: Record<string, string> = {}) =>
    h.call('POST', '/api/v1/auth/login', { body: { email, password }, headers })

  describe('register', () => {
    it('creates an account, signs it in, and never returns the password hash', async () => {
      const email = uniqueEmail()
      const res = await h.call('POST', '/api/v1/auth/register', {
        body: { email, password: PASSWORD },
      })
      expect(res.status).toBe(201)
      const text = await res.text()
      expect(text).not.toMatch(/argon2|passwordHash/)
      const body = JSON.parse(text) as { user: { email: string }; tokens: { expiresIn: number } }
      expect(body.user.email).toBe(email)
      expect(body.tokens.expiresIn).toBe(900)
    })

    it('refuses an email that has an account, in any case', async () => {
      const { user } = await h.register()
      const res = await h.call('POST', '/api/v1/auth/register', {
        body: { email: user.email.toUpperCase(), password: PASSWORD },
      })
      expect(res.status).toBe(409)
      expect(await errorOf(res)).toMatchObject({ code: 'EMAIL_TAKEN' })
    })

    it('refuses a password outside the rules, and an invalid email', async () => {
      const short = await h.call('POST', '/api/v1/auth/register', {
        body: { email: uniqueEmail(), password: 'short' },
      })
      expect(short.status).toBe(400)
      expect(await errorOf(short)).toMatchObject({ code: 'PASSWORD_INVALID' })
      const bad = await h.call('POST', '/api/v1/auth/register', {
        body: { email: 'ada@', password: PASSWORD },
      })
      expect(bad.status).toBe(400)
      expect((await errorOf(bad)).fields?.map((f) => f.path)).toEqual(['email'])
    })

    it('refuses a common password and one made of the email, saying where', async () => {
      const email = uniqueEmail()
      const common = await h.call('POST', '/api/v1/auth/register', {
        body: { email, password: 'Password123!' },
      })
      expect(common.status).toBe(400)
      const error = await errorOf(common)
      expect(error).toMatchObject({ code: 'PASSWORD_INVALID' })
      expect(error.fields?.map((f) => f.path)).toEqual(['password'])
      expect(error.message).toMatch(/common/)
      const local = email.split('@')[0]!
      const context = await h.call('POST', '/api/v1/auth/register', {
        body: { email, password: `${local}!2026` },
      })
      expect(context.status).toBe(400)
      expect(await errorOf(context)).toMatchObject({ code: 'PASSWORD_INVALID' })
      expect((await login(email, 'Password123!')).status).toBe(401)
    })

    it('keeps SQL metacharacters and unicode as they are', async () => {
      const email = `o'brien-${randomBytes(3).toString('hex')}@example.com`
      const password = `'; DROP TABLE users; -- ünïcødé 🔑`
      // Headers are Latin-1: unicode beyond it cannot arrive in a user agent.
      const userAgent = `Robert'); DROP TABLE sessions;-- mañana "quoted" \\ %s`
      const res = await h.call('POST', '/api/v1/auth/register', {
        body: { email, password },
        headers: { 'user-agent': userAgent },
      })
      expect(res.status).toBe(201)
      const signedIn = await login(email.toUpperCase(), password)
      expect(signedIn.status).toBe(200)
      const { tokens } = (await signedIn.json()) as { tokens: { accessToken: string } }
      expect((await sessions(tokens.accessToken)).map((s) => s.userAgent)).toContain(userAgent)
    })
  })

  describe('login', () => {
    it('says the same for a wrong password and an unknown email', async () => {
      const { user } = await h.register()
      const wrong = await login(user.email, 'not the password')
      const unknown = await login(uniqueEmail(), PASSWORD)
      expect([wrong.status, unknown.status]).toEqual([401, 401])
      const [a, b] = [await errorOf(wrong), await errorOf(unknown)]
      expect(a).toMatchObject({ code: 'INVALID_CREDENTIALS', message: 'invalid email or password' })
      expect({ ...b, traceId: '' }).toEqual({ ...a, traceId: '' })
    })

    it('signs in with the email in another case', async () => {
      const { user } = await h.register()
      expect((await login(user.email.toUpperCase(), PASSWORD)).status).toBe(200)
    })
  })

  describe('access tokens', () => {
    it('are refused when expired, tampered with, signed with another key, or malformed', async () => {
      const { user, session, tokens } = await h.register()
      expect((await me(tokens.accessToken)).status).toBe(200)
      const claims = { userId: user.id, sessionId: session.id }
      const expired = await signAccessToken(claims, {
        key: h.signingKey,
        ttlSeconds: 60,
        now: Math.floor(Date.now() / 1000) - 120,
      })
      const [header, payload, signature] = tokens.accessToken.split('.') as [string, string, string]
      const forged = Buffer.from(
        JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), sub: 'x' }),
      ).toString('base64url')
      const otherKey = await signAccessToken(claims, { key: randomBytes(32), ttlSeconds: 60 })
      const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`
      for (const token of [expired, `${header}.${forged}.${signature}`, otherKey, none]) {
        const res = await me(token)
        expect(res.status).toBe(401)
        expect(await errorOf(res)).toMatchObject({ code: 'UNAUTHENTICATED' })
      }
      const garbled = await h.call('GET', '/api/v1/auth/me', {
        headers: { authorization: 'Basic dXNlcjpwYXNz' },
      })
      expect(garbled.status).toBe(401)
      expect((await h.call('GET', '/api/v1/sessions')).status).toBe(401)
    })

    it('of a revoked session are refused on the very next request', async () => {
      const { user } = await h.register()
      const phone = (await (await login(user.email, PASSWORD)).json()) as {
        session: { id: string }
        tokens: { accessToken: string }
      }
      const laptop = (await (await login(user.email, PASSWORD)).json()) as {
        tokens: { accessToken: string }
      }
      expect((await me(phone.tokens.accessToken)).status).toBe(200)
      const revoke = await h.call('DELETE', `/api/v1/sessions/${phone.session.id}`, {
        token: laptop.tokens.accessToken,
      })
      expect(revoke.status).toBe(204)
      const after = await me(phone.tokens.accessToken)
      expect(after.status).toBe(401)
      expect(await errorOf(after)).toMatchObject({ code: 'UNAUTHENTICATED' })
      expect((await me(laptop.tokens.accessToken)).status).toBe(200)
    })

    it('end with logout', async () => {
      const { tokens } = await h.register()
      const out = await h.call('POST', '/api/v1/auth/logout', { token: tokens.accessToken })
      expect(out.status).toBe(204)
      expect((await me(tokens.accessToken)).status).toBe(401)
    })
  })

  describe('refresh tokens', () => {
    const refresh = (refreshToken: string) =>
      h.call('POST', '/api/v1/auth/refresh', { body: { refreshToken } })

    it('rotate on every use; reusing a rotated one ends the session', async () => {
      const { tokens } = await h.register()
      const first = await refresh(tokens.refreshToken)
      expect(first.status).toBe(200)
      const next = (await first.json()) as { accessToken: string; refreshToken: string }
      expect(next.refreshToken).not.toBe(tokens.refreshToken)
      expect((await me(next.accessToken)).status).toBe(200)

      const reused = await refresh(tokens.refreshToken)
      expect(reused.status).toBe(401)
      expect((await errorOf(reused)).message).toMatch(/already used/)
      // The thief's replay ended the session for the owner too: their newest tokens are dead.
      expect((await me(next.accessToken)).status).toBe(401)
      expect((await refresh(next.refreshToken)).status).toBe(401)
    })

    it('are refused when unknown or missing', async () => {
      expect((await refresh(randomBytes(32).toString('base64url'))).status).toBe(401)
      const none = await h.call('POST', '/api/v1/auth/refresh', { body: {} })
      expect(none.status).toBe(401)
    })
  })

  describe('sessions', () => {
    it('list ip, user agent and times; end one; log out everywhere', async () => {
      const { user } = await h.register()
      const signIn = async (ip: string, agent: string) =>
        (await (
          await login(user.email, PASSWORD, { 'x-forwarded-for': ip, 'user-agent': agent })
        ).json()) as { session: { id: string }; tokens: { accessToken: string } }
      const a = await signIn('203.0.113.7', 'Firefox')
      const b = await signIn('198.51.100.2', 'curl/8.5')
      const listed = await sessions(a.tokens.accessToken)
      expect(listed).toHaveLength(3)
      expect(listed.find((s) => s.id === a.session.id)).toMatchObject({
        ip: '203.0.113.7',
        userAgent: 'Firefox',
        current: true,
      })
      expect(listed.find((s) => s.id === b.session.id)).toMatchObject({
        ip: '198.51.100.2',
        current: false,
      })
      // Another user's session id is not found, never "forbidden".
      const other = await h.register()
      const foreign = await h.call('DELETE', `/api/v1/sessions/${b.session.id}`, {
        token: other.tokens.accessToken,
      })
      expect(foreign.status).toBe(404)

      const everywhere = await h.call('DELETE', '/api/v1/sessions?keepCurrent=true', {
        token: a.tokens.accessToken,
      })
      expect(await everywhere.json()).toEqual({ revoked: 2 })
      expect((await me(b.tokens.accessToken)).status).toBe(401)
      expect((await sessions(a.tokens.accessToken)).map((s) => s.id)).toEqual([a.session.id])
      const all = await h.call('DELETE', '/api/v1/sessions', { token: a.tokens.accessToken })
      expect(await all.json()).toEqual({ revoked: 1 })
      expect((await me(a.tokens.accessToken)).status).toBe(401)
    })
  })

  describe('browser cookies', () => {
    it('are HttpOnly, Secure and SameSite=Strict; the refresh one only goes to /api/v1/auth', async () => {
      const res = await h.call('POST', '/api/v1/auth/register', {
        body: { email: uniqueEmail(), password: PASSWORD },
        headers: { origin: ORIGIN },
      })
      const lines = res.headers.getSetCookie()
      const access = lines.find((l) => l.startsWith('__Host-dbsnap-access='))
      const refresh = lines.find((l) => l.startsWith('__Secure-dbsnap-refresh='))
      expect(access).toMatch(/; Max-Age=900; Path=\/; HttpOnly; Secure; SameSite=Strict/)
      expect(refresh).toMatch(/; Path=\/api\/v1\/auth; HttpOnly; Secure; SameSite=Strict/)
    })

    it('authenticate, refresh, and changes need the same Origin (CSRF)', async () => {
      const registered = await h.call('POST', '/api/v1/auth/register', {
        body: { email: uniqueEmail(), password: PASSWORD },
        headers: { origin: ORIGIN },
      })
      let jar = cookiesOf(registered)
      const cookie = () =>
        Object.entries(jar)
          .map(([k, v]) => `${k}=${v}`)
          .join('; ')
      expect(
        (await h.call('GET', '/api/v1/auth/me', { headers: { cookie: cookie() } })).status,
      ).toBe(200)

      const refreshed = await h.call('POST', '/api/v1/auth/refresh', {
        body: {},
        headers: { cookie: cookie(), origin: ORIGIN },
      })
      expect(refreshed.status).toBe(200)
      // A refresh by cookie answers by cookie: the body holds no refresh token for scripts to steal.
      expect(await refreshed.json()).not.toHaveProperty('refreshToken')
      jar = { ...jar, ...cookiesOf(refreshed) }

      const noOrigin = await h.call('POST', '/api/v1/auth/logout', {
        headers: { cookie: cookie() },
      })
      expect(noOrigin.status).toBe(403)
      expect(await errorOf(noOrigin)).toMatchObject({ code: 'CSRF_REJECTED' })
      const evil = await h.call('POST', '/api/v1/auth/logout', {
        headers: { cookie: cookie(), origin: 'https://evil.example' },
      })
      expect(evil.status).toBe(403)
      const crossLogin = await h.call('POST', '/api/v1/auth/login', {
        body: { email: uniqueEmail(), password: PASSWORD },
        headers: { origin: 'https://evil.example' },
      })
      expect(crossLogin.status).toBe(403)
      expect(
        (await h.call('GET', '/api/v1/auth/me', { headers: { cookie: cookie() } })).status,
      ).toBe(200)

      const out = await h.call('POST', '/api/v1/auth/logout', {
        headers: { cookie: cookie(), origin: ORIGIN },
      })
      expect(out.status).toBe(204)
      expect(out.headers.getSetCookie().every((l) => /Max-Age=0/.test(l))).toBe(true)
      expect(
        (await h.call('GET', '/api/v1/auth/me', { headers: { cookie: cookie() } })).status,
      ).toBe(401)
    })
  })
})

describe.each(DIALECTS)('rate limits on %s', (dialect) => {
  let h: Harness
  beforeAll(async () => {
    h = await harness(dialect, {
      auth: { trustProxy: true },
      rateLimits: {
        authPerIp: { hits: 5, windowSeconds: 60 },
        loginPerAccount: { hits: 3, windowSeconds: 60 },
        perUser: { hits: 4, windowSeconds: 60 },
      },
      // Mid-window, and still: the windows are fixed, so a real clock crossing a minute
      // between two hits would start a fresh count and the limit would never be reached.
      rateLimitClock: () => Date.UTC(2026, 11, 3, 12, 0, 30),
    })
  })
  afterAll(async () => {
    await h.cp.drop()
  })

  const login = (email: string, ip: string) =>
    h.call('POST', '/api/v1/auth/login', {
      body: { email, password: 'wrong password' },
      headers: { 'x-forwarded-for': ip },
    })

  it('limit logins per account across IPs, with Retry-After', async () => {
    const email = uniqueEmail()
    for (const ip of ['192.0.2.1', '192.0.2.2', '192.0.2.3']) {
      expect((await login(email, ip)).status).toBe(401)
    }
    const limited = await login(email, '192.0.2.4')
    expect(limited.status).toBe(429)
    expect(await errorOf(limited)).toMatchObject({ code: 'RATE_LIMITED' })
    const retryAfter = Number(limited.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(60)
    // Another account from a fresh IP is not held back.
    expect((await login(uniqueEmail(), '192.0.2.5')).status).toBe(401)
  })

  it('limit auth routes per IP whatever the account', async () => {
    const statuses = []
    for (let i = 0; i < 6; i++) statuses.push((await login(uniqueEmail(), '198.51.100.9')).status)
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429])
  })

  it('limit authenticated requests per user', async () => {
    const { tokens } = await h
      .call('POST', '/api/v1/auth/register', {
        body: { email: uniqueEmail(), password: PASSWORD },
        headers: { 'x-forwarded-for': '203.0.113.50' },
      })
      .then(async (res) => (await res.json()) as { tokens: { accessToken: string } })
    const statuses = []
    for (let i = 0; i < 5; i++) {
      statuses.push((await h.call('GET', '/api/v1/auth/me', { token: tokens.accessToken })).status)
    }
    expect(statuses).toEqual([200, 200, 200, 200, 429])
  })
})
