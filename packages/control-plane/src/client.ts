// The typed RPC client of the control plane's API (Hono `hc`), for the agent and the web view:
// paths, bodies and responses are checked against the routes' own schemas at compile time.

import { hc, type ClientRequestOptions } from 'hono/client'
import type { ControlPlaneApp } from './app.js'

// The scopes an API key may have, for forms that offer them (a plain list: safe in a browser).
export { SCOPES, type Scope } from './authz/permissions.js'

/**
 * @example
 * const api = createClient('https://dbsnap.example.com', { headers: { authorization: `Bearer ${token}` } })
 * const res = await api.api.v1.sessions.$get()
 */
export function createClient(baseUrl: string, options?: ClientRequestOptions) {
  return hc<ControlPlaneApp>(baseUrl, options)
}

export type ControlPlaneClient = ReturnType<typeof createClient>
