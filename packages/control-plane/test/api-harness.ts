// A control-plane app over a migrated test database of either dialect, with helpers that call
// it through `app.request()` the way a script (bearer token) or a browser (cookies) would.

import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp, type AppDeps } from '../src/app.js'
import { migratedDatabase, type TestControlPlaneDb } from './dialects.js'
import type { DialectName } from '../src/db/database.js'
import { SecretBox, secretKey } from '../src/secrets/secret-box.js'

export const ORIGIN = 'http://localhost'

export interface Harness {
  cp: TestControlPlaneDb
  app: ReturnType<typeof createApp>
  signingKey: Uint8Array
  secrets: SecretBox
  /** A JSON request; `body` is sent as JSON unless it is a string. */
  call(
    method: string,
    path: string,
    init?: { body?: unknown; token?: string; headers?: Record<string, string> },
  ): Promise<Response>
  /** Registers a new account (unique email) and returns its tokens and session. */
  register(email?: string, password?: string): Promise<SignedInBody>
}

export interface SignedInBody {
  user: { id: string; email: string }
  session: { id: string }
  tokens: { accessToken: string; refreshToken: string; expiresIn: number }
}

export const PASSWORD = 'correct horse battery staple'

export async function harness(
  dialect: DialectName,
  deps: Partial<Omit<AppDeps, 'db' | 'version' | 'auth'>> & {
    auth?: Partial<AppDeps['auth']>
  } = {},
): Promise<Harness> {
  const cp = await migratedDatabase(dialect)
  const signingKey = randomBytes(32)
  const secrets = new SecretBox(secretKey(randomBytes(32)))
  const app = createApp({
    db: cp,
    version: 'test',
    secrets,
    // Never the user's data directory: a directory of this run's own.
    exports: { dir: join(tmpdir(), `dbsnap-exports-${randomBytes(6).toString('hex')}`) },
    ...deps,
    // Most suites sign up freely; api-setup.test.ts covers the closed default.
    auth: { signingKey, openRegistration: true, ...deps.auth },
  })
  const call: Harness['call'] = (method, path, init = {}) => {
    const headers: Record<string, string> = { ...init.headers }
    if (init.token !== undefined) headers['authorization'] = `Bearer ${init.token}`
    let body: string | undefined
    if (init.body !== undefined) {
      body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body)
      headers['content-type'] ??= 'application/json'
    }
    return Promise.resolve(
      app.request(path, { method, headers, ...(body === undefined ? {} : { body }) }),
    )
  }
  return {
    cp,
    app,
    signingKey,
    secrets,
    call,
    async register(email = uniqueEmail(), password = PASSWORD) {
      const res = await call('POST', '/api/v1/auth/register', { body: { email, password } })
      if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`)
      return (await res.json()) as SignedInBody
    },
  }
}

export function uniqueEmail(): string {
  return `u-${randomBytes(4).toString('hex')}@example.com`
}

/** The error body of a response, asserting its shape. */
export async function errorOf(
  res: Response,
): Promise<{ code: string; message: string; traceId: string; fields?: { path: string }[] }> {
  const body = (await res.json()) as { error: { code: string; message: string; traceId: string } }
  return body.error
}

/** The cookies a response sets, by name, as `name=value` pairs (attributes dropped). */
export function cookiesOf(res: Response): Record<string, string> {
  return Object.fromEntries(
    res.headers.getSetCookie().map((line) => {
      const pair = line.split(';')[0]!
      const eq = pair.indexOf('=')
      return [pair.slice(0, eq), pair.slice(eq + 1)]
    }),
  )
}
