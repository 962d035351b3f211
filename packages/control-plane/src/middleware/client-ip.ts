// The address a request came from: the socket's peer, or, behind a trusted reverse proxy, the
// address that proxy appended last to X-Forwarded-For (earlier entries are the client's to forge).

import { getConnInfo } from '@hono/node-server/conninfo'
import type { Context } from 'hono'

export function clientIp(c: Context, trustProxy: boolean): string | null {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',').at(-1)?.trim()
    if (forwarded !== undefined && forwarded !== '') return forwarded
  }
  try {
    return getConnInfo(c).remote.address ?? null
  } catch {
    // `app.request()` in tests has no socket.
    return null
  }
}
