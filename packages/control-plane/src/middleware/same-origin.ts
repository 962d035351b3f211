// CSRF protection: a request that may change something (not GET, HEAD or OPTIONS) and that a
// browser could have sent on its own — it carries our cookies, or names an Origin — must come
// from the control plane's own origin. Scripts with `Authorization: Bearer` and no cookies send no
// Origin and are not concerned: a bearer token is never added by a browser.

import { createMiddleware } from 'hono/factory'
import { hasSessionCookie } from '../api/cookies.js'
import { ControlPlaneError } from '../errors.js'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/**
 * `publicOrigin` (e.g. `https://dbsnap.example.com`) is the origin the web view is served from;
 * unset, the request's own host is expected (right when no proxy rewrites the Host header).
 */
export function sameOrigin(publicOrigin: string | undefined) {
  return createMiddleware(async (c, next) => {
    if (SAFE_METHODS.has(c.req.method)) return next()
    const origin = c.req.header('origin')
    if (origin === undefined) {
      if (!hasSessionCookie(c)) return next()
      throw rejected('a request with session cookies must name its Origin')
    }
    if (!isAllowed(origin, publicOrigin, c.req.url)) {
      throw rejected(`requests from origin ${JSON.stringify(origin)} are not accepted`)
    }
    return next()
  })
}

function isAllowed(origin: string, publicOrigin: string | undefined, requestUrl: string): boolean {
  if (publicOrigin !== undefined) return origin === publicOrigin
  try {
    return new URL(origin).host === new URL(requestUrl).host
  } catch {
    return false
  }
}

function rejected(message: string): ControlPlaneError {
  return new ControlPlaneError('CSRF_REJECTED', message)
}
