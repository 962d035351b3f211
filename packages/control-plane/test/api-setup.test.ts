// First run on both dialects: sign-up closed by default; the setup token creates the instance's
// administrator once (reused, expired or after an account exists: refused); the built bin logs
// the setup link on a first start, and `admin create` reads the password from stdin, never from
// an argument.

import { execFile, spawn } from 'node:child_process'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createSetupToken, SETUP_TOKEN_TTL_MS } from '../src/data/setup.js'
import { findUserByEmail } from '../src/data/users.js'
import { openDatabase } from '../src/db/database.js'
import { DIALECTS } from './dialects.js'
import { errorOf, harness, PASSWORD, uniqueEmail, type Harness } from './api-harness.js'

const bin = fileURLToPath(new URL('../bin/dbsnap-control-plane.js', import.meta.url))

describe.each(DIALECTS)('first run on %s', (dialect) => {
  let h: Harness
  beforeAll(async () => {
    h = await harness(dialect, { auth: { openRegistration: false } })
  })
  afterAll(async () => {
    await h.cp.drop()
  })
  const setup = (token: string, email = uniqueEmail()) =>
    h.call('POST', '/api/v1/auth/setup', { body: { token, email, password: PASSWORD } })

  it('keeps sign-up closed by default', async () => {
    const res = await h.call('POST', '/api/v1/auth/register', {
      body: { email: uniqueEmail(), password: PASSWORD },
    })
    expect(res.status).toBe(403)
    expect((await errorOf(res)).code).toBe('REGISTRATION_CLOSED')
  })

  it('applies the password rules to the administrator, keeping the token', async () => {
    const token = await createSetupToken(h.cp.db)
    const email = uniqueEmail()
    for (const password of ['short', 'iloveyou', 'dbsnap-dbsnap']) {
      const res = await h.call('POST', '/api/v1/auth/setup', { body: { token, email, password } })
      expect(res.status).toBe(400)
      expect((await errorOf(res)).code).toBe('PASSWORD_INVALID')
    }
    expect(await findUserByEmail(h.cp.db, email)).toBeUndefined()
    // The token stays pending: the next test's setup uses it up with the others.
  })

  it('creates the administrator with a setup token, once', async () => {
    const expired = await createSetupToken(h.cp.db, new Date(Date.now() - SETUP_TOKEN_TTL_MS - 1))
    expect((await setup(expired!)).status).toBe(401)
    const token = await createSetupToken(h.cp.db)
    const other = await createSetupToken(h.cp.db)
    const email = uniqueEmail()
    const res = await setup(token!, email)
    expect(res.status, await res.clone().text()).toBe(201)
    expect(((await res.json()) as { user: { email: string } }).user.email).toBe(email)
    expect((await findUserByEmail(h.cp.db, email))?.instanceAdminAt).not.toBeNull()

    const again = await setup(token!)
    expect(again.status).toBe(401)
    expect((await errorOf(again)).code).toBe('UNAUTHENTICATED')
    // Another replica's link is used up too: one administrator, whichever link was opened.
    expect((await setup(other!)).status).toBe(401)
    expect(await createSetupToken(h.cp.db)).toBeUndefined()
    expect(
      (await h.call('POST', '/api/v1/auth/login', { body: { email, password: PASSWORD } })).status,
    ).toBe(200)
  })
})

describe('first run of the built service (SQLite)', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dbsnap-cp-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })
  const env = (file: string) => ({
    ...process.env,
    DATABASE_URL: `sqlite:${join(dir, file)}`,
    DBSNAP_CP_PORT: '0',
    LOG_FORMAT: 'json',
  })

  it('logs a setup link whose token creates the administrator', async () => {
    const child = spawn(process.execPath, [bin], { env: env('serve.sqlite') })
    try {
      let port = 0
      let setupUrl = ''
      for await (const line of createInterface({ input: child.stdout })) {
        const entry = JSON.parse(line) as { port?: number; setupUrl?: string }
        if (entry.port !== undefined) port = entry.port
        if (entry.setupUrl !== undefined) setupUrl = entry.setupUrl
        if (port !== 0 && setupUrl !== '') break
      }
      const token = new URL(setupUrl).hash.replace('#token=', '')
      const post = () =>
        fetch(`http://127.0.0.1:${port}/api/v1/auth/setup`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ token, email: uniqueEmail(), password: PASSWORD }),
        })
      expect((await post()).status).toBe(201)
      expect((await post()).status).toBe(401)
    } finally {
      child.kill('SIGTERM')
    }
  })

  it('keeps its data in the per-user data directory (0700) and logs the URL', async () => {
    const dataHome = join(dir, 'xdg-data')
    const { DATABASE_URL: _unset, ...rest } = env('unused.sqlite')
    const child = spawn(process.execPath, [bin], { env: { ...rest, XDG_DATA_HOME: dataHome } })
    try {
      let listening: { msg: string; url: string } | undefined
      for await (const line of createInterface({ input: child.stdout })) {
        const entry = JSON.parse(line) as { msg: string; url?: string }
        if (entry.url !== undefined) {
          listening = { msg: entry.msg, url: entry.url }
          break
        }
      }
      expect(listening?.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/)
      expect(listening?.msg).toBe(`listening on ${listening?.url}`)
      expect((await fetch(new URL('/livez', listening!.url))).status).toBe(200)
      const home = join(dataHome, 'dbsnap', 'control-plane')
      expect((await stat(home)).mode & 0o777).toBe(0o700)
      expect((await stat(join(dataHome, 'dbsnap'))).mode & 0o777).toBe(0o700)
      expect(await readdir(home)).toEqual(
        expect.arrayContaining(['control-plane.sqlite', 'jwt-secret', 'secret-key']),
      )
    } finally {
      child.kill('SIGTERM')
    }
  })

  it('creates an administrator from the shell, the password read from stdin', async () => {
    const email = uniqueEmail()
    const code = await new Promise<number | null>((resolve) => {
      const child = execFile(
        process.execPath,
        [bin, 'admin', 'create', '--email', email],
        { env: env('admin.sqlite') },
        (err) => resolve(err === null ? 0 : ((err as { code?: number }).code ?? null)),
      )
      child.stdin!.end(`${PASSWORD}\n`)
    })
    expect(code).toBe(0)
    const cp = await openDatabase({ dialect: 'sqlite', path: join(dir, 'admin.sqlite') })
    try {
      expect((await findUserByEmail(cp.db, email))?.instanceAdminAt).not.toBeNull()
    } finally {
      await cp.close()
    }
    const refused = await new Promise<number | null>((resolve) => {
      execFile(
        process.execPath,
        [bin, 'admin', 'create', '--email', email, '--password', PASSWORD],
        { env: env('admin.sqlite') },
        (err) => resolve((err as { code?: number } | null)?.code ?? 0),
      )
    })
    expect(refused).toBe(2)
  })
})
