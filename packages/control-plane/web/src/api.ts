// The web view's API client: the package's typed `hc` client over a fetch that renews the
// session once on a 401 (the refresh cookie) and signs out when that fails.

import { createClient } from '@dbsnap/control-plane/client'
import type { ClientResponse } from 'hono/client'
import type { SuccessStatusCode } from 'hono/utils/http-status'

/** A failed call, from the API's `{ error: { code, message, traceId, fields? } }`. */
export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly traceId: string | undefined
  readonly fields: readonly { path: string; message: string }[]

  constructor(
    status: number,
    code: string,
    message: string,
    traceId?: string,
    fields: readonly { path: string; message: string }[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.traceId = traceId
    this.fields = fields
  }
}

interface ErrorBody {
  error?: {
    code?: string
    message?: string
    traceId?: string
    fields?: { path: string; message: string }[]
  }
}

async function apiErrorOf(res: Response): Promise<ApiError> {
  const body = (await res.json().catch(() => ({}))) as ErrorBody
  const traceId = body.error?.traceId ?? res.headers.get('x-trace-id') ?? undefined
  return new ApiError(
    res.status,
    body.error?.code ?? `HTTP_${res.status}`,
    body.error?.message ?? `the server answered ${res.status} ${res.statusText}`,
    traceId,
    body.error?.fields,
  )
}

// Routes where a 401 means wrong credentials, not an expired access token.
const NO_REFRESH = ['/auth/login', '/auth/register', '/auth/setup', '/auth/refresh']

let signedOutListener: (() => void) | undefined
let pendingRefresh: Promise<boolean> | undefined

/** Called when the session is gone for good (the refresh failed): the app goes to /login. */
export function onSignedOut(listener: () => void): void {
  signedOutListener = listener
}

/** One refresh at a time: parallel 401s share it (a refresh token is single use). */
function refreshSession(): Promise<boolean> {
  pendingRefresh ??= fetch('/api/v1/auth/refresh', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  })
    .then((res) => res.ok)
    .catch(() => false)
    .finally(() => {
      pendingRefresh = undefined
    })
  return pendingRefresh
}

function urlOf(input: RequestInfo | URL): string {
  if (typeof input === 'string') return input
  return input instanceof URL ? input.href : input.url
}

async function sessionFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const res = await fetch(input, init)
  const url = urlOf(input)
  if (res.status !== 401 || NO_REFRESH.some((path) => url.includes(path))) return res
  if (await refreshSession()) return fetch(input, init)
  signedOutListener?.()
  return res
}

export const api = createClient(window.location.origin, { fetch: sessionFetch }).api.v1

type OkBody<R> =
  R extends ClientResponse<infer T, infer S, infer _F>
    ? S extends SuccessStatusCode
      ? T
      : never
    : never

/**
 * The body of a successful call (undefined for a 204), or an ApiError.
 * @example const { orgs } = await ok(api.orgs.$get())
 */
export async function ok<R extends ClientResponse<unknown, number, 'json' | 'text'>>(
  call: Promise<R>,
): Promise<OkBody<R>> {
  let res: Response
  try {
    res = await call
  } catch (cause) {
    throw new ApiError(0, 'NETWORK', 'the control plane cannot be reached', undefined, [], {
      cause,
    })
  }
  if (!res.ok) throw await apiErrorOf(res)
  return (res.status === 204 ? undefined : await res.json()) as OkBody<R>
}
