// The browser's session cookies: HttpOnly (no script reads them), Secure, SameSite=Strict, with
// name prefixes the browser enforces (`__Host-`: this host only, path /; `__Secure-`: HTTPS only).
// The refresh token's cookie goes only to the auth routes, so ordinary requests never carry it.

import type { Context } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'

/** Sent as `__Host-dbsnap-access` (hono adds the prefix). */
export const ACCESS_COOKIE = 'dbsnap-access'
/** Sent as `__Secure-dbsnap-refresh`. */
export const REFRESH_COOKIE = 'dbsnap-refresh'
const REFRESH_PATH = '/api/v1/auth'

export function setSessionCookies(
  c: Context,
  tokens: {
    accessToken: string
    accessTtlSeconds: number
    refreshToken?: string
    sessionExpiresAt?: string
  },
): void {
  setCookie(c, ACCESS_COOKIE, tokens.accessToken, {
    path: '/',
    httpOnly: true,
    secure: true,
    sameSite: 'Strict',
    maxAge: tokens.accessTtlSeconds,
    prefix: 'host',
  })
  if (tokens.refreshToken !== undefined && tokens.sessionExpiresAt !== undefined) {
    const maxAge = Math.max(
      0,
      Math.floor((Date.parse(tokens.sessionExpiresAt) - Date.now()) / 1000),
    )
    setCookie(c, REFRESH_COOKIE, tokens.refreshToken, {
      path: REFRESH_PATH,
      httpOnly: true,
      secure: true,
      sameSite: 'Strict',
      maxAge,
      prefix: 'secure',
    })
  }
}

export function clearSessionCookies(c: Context): void {
  deleteCookie(c, ACCESS_COOKIE, { path: '/', secure: true, prefix: 'host' })
  deleteCookie(c, REFRESH_COOKIE, { path: REFRESH_PATH, secure: true, prefix: 'secure' })
}

export function accessCookie(c: Context): string | undefined {
  return getCookie(c, ACCESS_COOKIE, 'host')
}

export function refreshCookie(c: Context): string | undefined {
  return getCookie(c, REFRESH_COOKIE, 'secure')
}

/** True when the request carries any cookie of ours: an ambient credential a browser adds by itself. */
export function hasSessionCookie(c: Context): boolean {
  return accessCookie(c) !== undefined || refreshCookie(c) !== undefined
}
