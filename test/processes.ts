// Helpers of the tests that run the built control plane and agent as real processes: start a bin
// and wait for a line of its JSON log, call the control plane's API, sign up.

import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'

/** Starts `node bin …args` with JSON logs and resolves once a log line has `field`. */
export async function startLogging(
  bin: string,
  args: string[],
  env: Record<string, string>,
  field: string,
): Promise<{ child: ChildProcess; line: Record<string, unknown> }> {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { ...process.env, LOG_FORMAT: 'json', ...env },
  })
  for await (const text of createInterface({ input: child.stdout })) {
    const line = JSON.parse(text) as Record<string, unknown>
    if (line[field] !== undefined) return { child, line }
  }
  throw new Error(`${bin} ended before logging ${field}`)
}

/** A JSON call to the control plane at `base` with a bearer token; throws on a non-2xx answer. */
export async function callApi(
  base: string,
  bearer: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${base}/api/v1${path}`, {
    method,
    headers: {
      authorization: `Bearer ${bearer}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await res.text()
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`)
  return JSON.parse(text) as Record<string, unknown>
}

/** Signs up `ops@example.com` on an open instance and returns its access token. */
export async function signUp(base: string): Promise<string> {
  const res = await fetch(`${base}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'ops@example.com', password: 'correct horse battery staple' }),
  })
  return ((await res.json()) as { tokens: { accessToken: string } }).tokens.accessToken
}
