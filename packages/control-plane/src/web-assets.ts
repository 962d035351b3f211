// Serves the web view (packages/control-plane/web, built into dist/web) at `/`: hashed assets
// with a long cache, and index.html with a fresh CSP nonce for every other non-API GET.

import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { serveStatic } from '@hono/node-server/serve-static'
import type { Hono } from 'hono'

/** Where the root build writes the web view: dist/web beside src/ and dist/, whichever runs. */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../dist/web', import.meta.url))

/** The placeholder vite writes into index.html (`html.cspNonce` in web/vite.config.ts). */
export const NONCE_PLACEHOLDER = '__DBSNAP_CSP_NONCE__'

/**
 * The web view's CSP: everything from this origin, no inline script at all; `<style>` elements
 * only with the request's nonce (Mantine writes its CSS variables in one, Monaco its theme).
 * Inline `style` attributes are allowed: Monaco, the diff page's editor, renders its lines as HTML
 * strings that position each line with one. An attribute cannot run script nor, unlike a style
 * element, match other elements (no CSS selector exfiltration); its workers come from 'self'.
 */
export function contentSecurityPolicy(nonce: string): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    `style-src 'self' 'nonce-${nonce}'`,
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ')
}

function isApiPath(path: string): boolean {
  return path === '/api' || path.startsWith('/api/')
}

/**
 * Adds the web view's routes to `app` when `root` holds a build (index.html); returns whether it
 * did. Paths under /api are left to the API, so an unknown one still gets the JSON 404.
 */
export function mountWebAssets(app: Hono, root: string = DEFAULT_WEB_ROOT): boolean {
  const indexFile = join(root, 'index.html')
  if (!existsSync(indexFile)) return false
  // Read once: the build does not change under a running service.
  const [before, ...rest] = readFileSync(indexFile, 'utf8').split(NONCE_PLACEHOLDER)
  const html = { before: before ?? '', rest }

  const assets = serveStatic({ root })
  app.on(['GET', 'HEAD'], '/assets/*', async (c) => {
    const res = await assets(c, () => Promise.resolve())
    if (!(res instanceof Response)) return c.notFound()
    // File names carry a hash of their content: a new build has new names.
    res.headers.set('Cache-Control', 'public, max-age=31536000, immutable')
    res.headers.set('X-Content-Type-Options', 'nosniff')
    return res
  })
  app.on(['GET', 'HEAD'], '*', (c, next) => {
    if (isApiPath(c.req.path)) return next()
    const nonce = randomBytes(16).toString('base64')
    c.header('Content-Security-Policy', contentSecurityPolicy(nonce))
    c.header('X-Frame-Options', 'DENY')
    c.header('X-Content-Type-Options', 'nosniff')
    c.header('Referrer-Policy', 'no-referrer')
    c.header('Cross-Origin-Opener-Policy', 'same-origin')
    c.header('Cache-Control', 'no-cache')
    return c.html(html.before + html.rest.map((part) => nonce + part).join(''))
  })
  return true
}
