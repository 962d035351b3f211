// Gives every request a trace id (from the caller's `x-trace-id` or W3C `traceparent` header,
// else a new one), runs the handler inside it so engine logs carry it, and echoes it back.

import { newTraceId, withTraceId, type Logger } from '@dbsnap/engine/core'
import { createMiddleware } from 'hono/factory'

const TRACE_ID = /^[0-9a-f]{32}$/

export function traceMiddleware(logger: Logger) {
  return createMiddleware(async (c, next) => {
    const fromParent = c.req.header('traceparent')?.split('-')[1]
    const given = c.req.header('x-trace-id') ?? fromParent
    const traceId = given !== undefined && TRACE_ID.test(given) ? given : newTraceId()
    c.header('x-trace-id', traceId)
    const started = performance.now()
    await withTraceId(traceId, async () => {
      await next()
      logger.info(
        {
          method: c.req.method,
          path: c.req.path,
          status: c.res.status,
          ms: Math.round(performance.now() - started),
        },
        'request',
      )
    })
  })
}
