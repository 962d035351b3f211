import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createApp } from './app.js'
import { openDatabase } from './db/database.js'
import { SecretBox, secretKey } from './secrets/secret-box.js'
import { NONCE_PLACEHOLDER } from './web-assets.js'

describe('the web view at /', async () => {
  const root = mkdtempSync(join(tmpdir(), 'dbsnap-web-assets-'))
  mkdirSync(join(root, 'assets'))
  writeFileSync(
    join(root, 'index.html'),
    `<html><head><meta property="csp-nonce" nonce="${NONCE_PLACEHOLDER}">` +
      `<script type="module" src="/assets/app-1a2b.js" nonce="${NONCE_PLACEHOLDER}"></script>` +
      '</head><body><div id="root"></div></body></html>',
  )
  writeFileSync(join(root, 'assets', 'app-1a2b.js'), 'console.log("app")\n')

  const db = await openDatabase({ dialect: 'sqlite', path: ':memory:' })
  const deps = {
    db,
    version: '1.2.3',
    auth: { signingKey: randomBytes(32) },
    secrets: new SecretBox(secretKey(randomBytes(32))),
  }
  const app = createApp({ ...deps, webRoot: root })
  afterAll(async () => {
    await db.close()
    rmSync(root, { recursive: true, force: true })
  })

  it.each(['/', '/login', '/orgs/o1/keys', '/setup'])(
    'answers %s with index.html under a strict CSP',
    async (path) => {
      const res = await app.request(path)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toMatch(/^text\/html/)
      const csp = res.headers.get('content-security-policy') ?? ''
      expect(csp).toContain("default-src 'self'")
      expect(csp).toContain("script-src 'self'")
      // Inline style attributes only (Monaco positions its lines with them); no inline script,
      // no style element without the nonce.
      expect(csp.split('; ').filter((d) => d.includes('unsafe-inline'))).toEqual([
        "style-src-attr 'unsafe-inline'",
      ])
      expect(csp).toContain("frame-ancestors 'none'")
      expect(res.headers.get('x-content-type-options')).toBe('nosniff')
      expect(res.headers.get('cache-control')).toBe('no-cache')
    },
  )

  it('gives each response its own nonce, in the CSP and in the page', async () => {
    const nonces = await Promise.all(
      [1, 2].map(async () => {
        const res = await app.request('/')
        const nonce = /'nonce-([^']+)'/.exec(res.headers.get('content-security-policy') ?? '')?.[1]
        const html = await res.text()
        expect(html).not.toContain(NONCE_PLACEHOLDER)
        expect(html.split(`nonce="${nonce}"`)).toHaveLength(3)
        return nonce
      }),
    )
    expect(nonces[0]).toMatch(/^[A-Za-z0-9+/]{22}==$/)
    expect(nonces[0]).not.toBe(nonces[1])
  })

  it('serves the hashed assets with a long cache', async () => {
    const res = await app.request('/assets/app-1a2b.js')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/javascript/)
    expect(res.headers.get('cache-control')).toContain('immutable')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(await res.text()).toContain('console.log')
  })

  it.each(['/assets/missing.js', '/assets/sub/missing.css', '/api/v1/nope', '/api'])(
    'answers %s with the JSON 404, not the page',
    async (path) => {
      const res = await app.request(path)
      expect(res.status).toBe(404)
      expect(res.headers.get('cache-control')).toBeNull()
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND')
    },
  )

  it('leaves the API and the probes alone', async () => {
    expect((await app.request('/api/v1/version')).status).toBe(200)
    expect((await app.request('/livez')).headers.get('content-type')).toMatch(/json/)
    expect((await app.request('/', { method: 'POST' })).status).toBe(404)
  })

  it('serves no page without a build, or when told not to', async () => {
    for (const webRoot of [join(root, 'absent'), false as const]) {
      const res = await createApp({ ...deps, webRoot }).request('/')
      expect(res.status).toBe(404)
    }
  })
})
