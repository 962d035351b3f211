// The API's one error shape, `{ error: { code, message, traceId } }`, and the handlers that turn
// every failure (validation, a ControlPlaneError, an unexpected throw) into it.

import { currentTraceId, type Logger } from '@dbsnap/engine/core'
import { z } from '@hono/zod-openapi'
import type { Context, ErrorHandler, NotFoundHandler } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { ZodError } from 'zod'
import { ControlPlaneError, type ControlPlaneErrorCode } from '../errors.js'

export const ApiErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: 'INVALID_ARGUMENT' }),
      message: z.string().openapi({ example: 'email: Invalid email address' }),
      traceId: z.string().openapi({ example: '4bf92f3577b34da6a3ce929d0e0e4736' }),
      /** Field errors of an INVALID_ARGUMENT: where (dotted path) and what is wrong. */
      fields: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    }),
  })
  .openapi('Error')

export type ApiErrorBody = z.infer<typeof ApiErrorSchema>

/** The HTTP status of each code; a code missing here is a 500. */
const STATUS: Partial<Record<ControlPlaneErrorCode, ContentfulStatusCode>> = {
  INVALID_ARGUMENT: 400,
  INVALID_JSON: 400,
  PASSWORD_INVALID: 400,
  UNAUTHENTICATED: 401,
  INVALID_CREDENTIALS: 401,
  CSRF_REJECTED: 403,
  FORBIDDEN: 403,
  REGISTRATION_CLOSED: 403,
  NOT_FOUND: 404,
  EMAIL_TAKEN: 409,
  SLUG_TAKEN: 409,
  NAME_TAKEN: 409,
  ALREADY_MEMBER: 409,
  ORG_NOT_EMPTY: 409,
  LAST_ADMIN: 409,
  LEASE_LOST: 409,
  JOB_FINISHED: 409,
  EXPORT_NOT_READY: 409,
  DIFF_NOT_READY: 409,
  DOWNLOAD_GONE: 410,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  RATE_LIMITED: 429,
  DATABASE_UNAVAILABLE: 503,
}

export function statusOf(code: ControlPlaneErrorCode): ContentfulStatusCode {
  return STATUS[code] ?? 500
}

/** The error body for `err`, and its status. Only ControlPlaneError messages reach the caller. */
export function errorResponse(c: Context, err: ControlPlaneError): Response {
  const fields = err.details['fields'] as ApiErrorBody['error']['fields']
  const body: ApiErrorBody = {
    error: {
      code: err.code,
      message: err.message,
      traceId: currentTraceId() ?? '',
      ...(fields === undefined ? {} : { fields }),
    },
  }
  const retryAfter = err.details['retryAfterSeconds']
  if (typeof retryAfter === 'number') c.header('Retry-After', String(retryAfter))
  return c.json(body, statusOf(err.code))
}

/**
 * zod-openapi's hook for requests that fail their schema: INVALID_ARGUMENT naming each field
 * (unknown fields included: request schemas are strict).
 */
export function validationHook(
  result: { success: true } | { success: false; error: ZodError },
  c: Context,
): Response | undefined {
  if (result.success) return undefined
  const fields = result.error.issues.map((issue) => ({
    path: issuePath(issue),
    message: issue.message,
  }))
  const message = fields.map((f) => (f.path === '' ? f.message : `${f.path}: ${f.message}`))
  return errorResponse(
    c,
    new ControlPlaneError('INVALID_ARGUMENT', message.join('; '), { details: { fields } }),
  )
}

/** `a.b.0` for the issue's path; for an unknown key, the key itself (zod puts it in `keys`). */
function issuePath(issue: ZodError['issues'][number]): string {
  const base = issue.path.map(String)
  if (issue.code === 'unrecognized_keys') return [...base, issue.keys.join(',')].join('.')
  return base.join('.')
}

/**
 * The app's error handler: a ControlPlaneError as its code says,
 * hono's malformed-JSON 400 as INVALID_JSON, anything else as INTERNAL with nothing of the
 * error (a stack, SQL) in the response; the log has it, under the same trace id.
 */
export function errorHandler(logger: Logger): ErrorHandler {
  return (err, c) => {
    if (err instanceof ControlPlaneError) return errorResponse(c, err)
    if (err instanceof HTTPException && err.status === 400) {
      return errorResponse(c, new ControlPlaneError('INVALID_JSON', 'the body is not valid JSON'))
    }
    logger.error({ err, method: c.req.method, path: c.req.path }, 'request failed')
    return errorResponse(
      c,
      new ControlPlaneError('INTERNAL', 'internal error; the trace id finds it in the logs'),
    )
  }
}

export const notFoundHandler: NotFoundHandler = (c) =>
  errorResponse(c, new ControlPlaneError('NOT_FOUND', `no route ${c.req.method} ${c.req.path}`))
