// Limits on request bodies: JSON only (a request declaring another media type, a form included,
// is refused before any handler runs: a cross-site form cannot post to the API) and at most
// `maxBytes`.

import { createMiddleware } from 'hono/factory'
import { bodyLimit } from 'hono/body-limit'
import { ControlPlaneError } from '../errors.js'

const JSON_MEDIA_TYPE = /^application\/([\w.-]+\+)?json$/i

/** 64 KiB: the largest body the API takes today is a login form. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024

/** A route that takes bodies above the API's limit (the agent's diff pages). */
export interface LargerBodies {
  path: RegExp
  maxBytes: number
}

function limitOf(maxBytes: number) {
  return bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw new ControlPlaneError(
        'PAYLOAD_TOO_LARGE',
        `the body is larger than the limit of ${maxBytes} bytes`,
        { details: { limit: maxBytes } },
      )
    },
  })
}

export function jsonBodies(
  maxBytes: number = DEFAULT_MAX_BODY_BYTES,
  larger: readonly LargerBodies[] = [],
) {
  const limit = limitOf(maxBytes)
  const limits = larger.map((l) => ({ path: l.path, limit: limitOf(l.maxBytes) }))
  return createMiddleware(async (c, next) => {
    // Judged by the declared type, not by whether a body follows: a request can declare no
    // length (chunked, or built in-process) and still carry one.
    const contentType = c.req.header('content-type')
    if (contentType !== undefined) {
      const mediaType = contentType.split(';')[0]!.trim()
      if (!JSON_MEDIA_TYPE.test(mediaType)) {
        throw new ControlPlaneError(
          'UNSUPPORTED_MEDIA_TYPE',
          `expected a body of type application/json, got ${JSON.stringify(mediaType)}`,
        )
      }
    }
    const special = limits.find((l) => l.path.test(c.req.path))
    return (special?.limit ?? limit)(c, next)
  })
}
