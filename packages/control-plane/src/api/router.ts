// What every route module builds on: the router type with the app's context variables, and the
// error responses routes list in their OpenAPI definitions.

import { OpenAPIHono } from '@hono/zod-openapi'
import type { Agent, ApiKey, Role, Session, User } from '../db/schema.js'
import { ControlPlaneError } from '../errors.js'
import { ApiErrorSchema, validationHook } from './errors.js'

/** A person signed in: an access token of one of their sessions. */
export interface SessionPrincipal {
  kind: 'session'
  user: User
  session: Session
  /** How the credentials came: a cookie is an ambient credential, subject to the CSRF check. */
  via: 'bearer' | 'cookie'
}

/** A script with an API key; `user` is the key's creator, whose role bounds what it may do. */
export interface ApiKeyPrincipal {
  kind: 'api-key'
  user: User
  apiKey: ApiKey
  via: 'bearer'
}

/** Who made an authenticated request, set by the auth middleware. */
export type Principal = SessionPrincipal | ApiKeyPrincipal

/** The session principal of a route that does not accept API keys (`authenticate` refused them). */
export function sessionOf(principal: Principal): SessionPrincipal {
  if (principal.kind !== 'session') {
    throw new ControlPlaneError(
      'UNAUTHENTICATED',
      'this route needs a signed-in user, not an API key',
    )
  }
  return principal
}

export interface AppEnv {
  Variables: {
    principal: Principal
    /** The user's role in the path's organisation, set by the authorize middleware. */
    role: Role
    /** The agent calling the agent API, set by the authenticateAgent middleware. */
    agent: Agent
  }
}

/** A router whose invalid requests answer INVALID_ARGUMENT in the API's error shape. */
export function newRouter(): OpenAPIHono<AppEnv> {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
}

const ERROR_DESCRIPTIONS = {
  400: 'Invalid argument, or a body that is not JSON (INVALID_ARGUMENT, INVALID_JSON)',
  401: 'No credentials, or expired, tampered or revoked ones (UNAUTHENTICATED)',
  403: 'The role does not allow this (FORBIDDEN), or a cookie-authenticated change from another origin (CSRF_REJECTED)',
  404: 'No such object, or one of another tenant (NOT_FOUND)',
  409: 'A conflict with existing data (EMAIL_TAKEN, …)',
  410: 'The link expired or was used (DOWNLOAD_GONE)',
  413: 'The body is larger than the limit (PAYLOAD_TOO_LARGE)',
  415: 'The body is not application/json (UNSUPPORTED_MEDIA_TYPE)',
  429: 'Too many requests; Retry-After says when to retry (RATE_LIMITED)',
} as const

type ErrorStatus = keyof typeof ERROR_DESCRIPTIONS

interface ErrorResponse {
  description: string
  content: { 'application/json': { schema: typeof ApiErrorSchema } }
}

/** OpenAPI `responses` entries for the error statuses a route can answer. */
export function errorResponses<S extends ErrorStatus>(...statuses: S[]): Record<S, ErrorResponse> {
  const responses = {} as Record<S, ErrorResponse>
  for (const status of statuses) {
    responses[status] = {
      description: ERROR_DESCRIPTIONS[status],
      content: { 'application/json': { schema: ApiErrorSchema } },
    }
  }
  return responses
}

/** An OpenAPI request or response body of JSON with `schema`. */
export function jsonContent<T>(schema: T): { content: { 'application/json': { schema: T } } } {
  return { content: { 'application/json': { schema } } }
}

/** An authenticated route's OpenAPI `security`: a bearer token, or the session cookie. */
export const USER_SECURITY: Record<string, string[]>[] = [{ bearer: [] }, { cookie: [] }]

/** A route of the agent API: the agent's own credential (`Authorization: Bearer dbsa_…`). */
export const AGENT_SECURITY: Record<string, string[]>[] = [{ agent: [] }]

/** A route that also takes an API key (`Authorization: Bearer dbs_…`) with the right scope. */
export const KEY_SECURITY: Record<string, string[]>[] = [...USER_SECURITY, { apiKey: [] }]
