// /api/v1/orgs/{orgId}/projects/{projectId}/connections: a project's connections. A credential
// goes in (a URL, sealed at rest, or a reference the agent resolves), as does TLS material
// (sealed too), and never comes out: reads show the redacted URL and whether TLS is attached. Authorised by the permission table (`connections:read`/`:write`).

import { createRoute, z } from '@hono/zod-openapi'
import { audited } from '../api/audit.js'
import type { ApiContext } from '../api/context.js'
import { errorResponses, jsonContent, KEY_SECURITY, newRouter } from '../api/router.js'
import { IdParam, NameSchema } from '../api/schemas.js'
import type { Action } from '../authz/permissions.js'
import {
  connectionSummary,
  createConnection,
  deleteConnection,
  findConnection,
  listConnections,
  updateConnection,
  type CredentialInput,
} from '../data/connections.js'
import { CONNECTION_URL_EXPECTED, isConnectionUrl } from '../data/connection-url.js'
import { notFoundError } from '../errors.js'
import { authenticate } from '../middleware/authenticate.js'
import { authorize } from '../middleware/authorize.js'

const ProjectParams = z.strictObject({ orgId: IdParam, projectId: IdParam })
const ConnectionParams = ProjectParams.extend({ connectionId: IdParam })

const EngineSchema = z.enum(['postgres', 'mysql', 'mongodb'])

const UrlSchema = z
  .string()
  .trim()
  .min(1)
  .max(4096)
  .refine(isConnectionUrl, CONNECTION_URL_EXPECTED)
  .openapi({ example: 'postgres://app:secret@db.internal:5432/shop' })

/** `env:NAME` or `file:/absolute/path`, resolved by the agent. */
const RefSchema = z
  .string()
  .trim()
  .max(1024)
  .regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|file:\/[^\p{Cc}]*)$/u, 'expected env:NAME or file:/path')
  .openapi({ example: 'env:SHOP_DATABASE_URL' })

const Pem = (what: string) =>
  z
    .string()
    .max(65_536)
    .regex(/-----BEGIN [A-Z0-9 ]+-----/, `expected a PEM ${what}`)
    .optional()

/** CA, client certificate and key (PEM), sealed like the credential; a key goes with its cert. */
const TlsSchema = z
  .strictObject({ ca: Pem('certificate'), cert: Pem('certificate'), key: Pem('private key') })
  .refine((t) => (t.cert === undefined) === (t.key === undefined), {
    message: 'a client certificate and its key go together',
  })
  .refine((t) => t.ca !== undefined || t.cert !== undefined, { message: 'expected ca or cert' })

/** A credential: a `url`, or an `engine` with a `ref` (exactly one of the two forms). */
const CredentialFields = {
  url: UrlSchema.optional(),
  engine: EngineSchema.optional(),
  ref: RefSchema.optional(),
}

function credentialOf(body: {
  url?: string | undefined
  engine?: z.infer<typeof EngineSchema> | undefined
  ref?: string | undefined
}): CredentialInput | undefined {
  if (body.url !== undefined) return { url: body.url }
  if (body.ref !== undefined && body.engine !== undefined)
    return { engine: body.engine, ref: body.ref }
  return undefined
}

/** One credential form or none: `url`, or `engine` + `ref`. */
const oneCredentialForm = (body: { url?: unknown; engine?: unknown; ref?: unknown }) =>
  body.url === undefined
    ? (body.ref === undefined) === (body.engine === undefined)
    : body.ref === undefined && body.engine === undefined

const CreateBody = z
  .strictObject({ name: NameSchema, ...CredentialFields, tls: TlsSchema.optional() })
  .refine((b) => oneCredentialForm(b) && (b.url !== undefined || b.ref !== undefined), {
    message: 'give either url, or engine and ref',
  })

const UpdateBody = z
  .strictObject({
    name: NameSchema.optional(),
    ...CredentialFields,
    tls: TlsSchema.nullable().optional().openapi({ description: 'null removes it' }),
  })
  .refine(oneCredentialForm, { message: 'give either url, or engine and ref, or neither' })

const ConnectionSchema = z
  .object({
    id: z.string(),
    projectId: z.string(),
    name: z.string(),
    engine: EngineSchema,
    url: z.string().nullable().openapi({ description: 'The URL, password redacted' }),
    ref: z.string().nullable(),
    tls: z.boolean().openapi({ description: 'Whether TLS material is attached' }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .openapi('Connection')

const PATH = '/{orgId}/projects/{projectId}/connections'

export function connectionRoutes(ctx: ApiContext) {
  const keyOrUser = authenticate(ctx, { apiKeys: true })
  const can = (action: Action) => [keyOrUser, authorize(ctx, action)]
  const event = (
    orgId: string,
    action: 'connection.created' | 'connection.changed' | 'connection.deleted',
    connectionId: string,
  ) => ({ orgId, action, targetType: 'connection', targetId: connectionId })
  return newRouter()
    .openapi(
      createRoute({
        method: 'get',
        path: PATH,
        tags: ['connections'],
        summary: "The project's connections, by name",
        middleware: can('connections:read'),
        security: KEY_SECURITY,
        request: { params: ProjectParams },
        responses: {
          200: {
            description: 'Connections',
            ...jsonContent(z.object({ connections: z.array(ConnectionSchema) })),
          },
          ...errorResponses(400, 401, 403, 404, 429),
        },
      }),
      async (c) => {
        const rows = await listConnections(ctx.db, c.req.valid('param'))
        return c.json({ connections: rows.map(connectionSummary) }, 200)
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: PATH,
        tags: ['connections'],
        summary: 'Add a connection (its credential is encrypted at rest)',
        middleware: can('connections:write'),
        security: KEY_SECURITY,
        request: {
          params: ProjectParams,
          body: { required: true, ...jsonContent(CreateBody) },
        },
        responses: {
          201: { description: 'Created', ...jsonContent(ConnectionSchema) },
          ...errorResponses(400, 401, 403, 404, 409, 413, 415, 429),
        },
      }),
      async (c) => {
        const scope = c.req.valid('param')
        const body = c.req.valid('json')
        const row = await audited(
          ctx,
          c,
          (trx) =>
            createConnection(trx, ctx.secrets, scope, {
              name: body.name,
              credential: credentialOf(body)!,
              tls: body.tls,
            }),
          (r) => event(scope.orgId, 'connection.created', r.id),
        )
        return c.json(connectionSummary(row), 201)
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: `${PATH}/{connectionId}`,
        tags: ['connections'],
        summary: 'One connection',
        middleware: can('connections:read'),
        security: KEY_SECURITY,
        request: { params: ConnectionParams },
        responses: {
          200: { description: 'The connection', ...jsonContent(ConnectionSchema) },
          ...errorResponses(400, 401, 403, 404, 429),
        },
      }),
      async (c) => {
        const { connectionId, ...scope } = c.req.valid('param')
        const row = await findConnection(ctx.db, scope, connectionId)
        if (row === undefined) throw notFoundError('connection', connectionId)
        return c.json(connectionSummary(row), 200)
      },
    )
    .openapi(
      createRoute({
        method: 'patch',
        path: `${PATH}/{connectionId}`,
        tags: ['connections'],
        summary: 'Rename a connection or replace its credential',
        middleware: can('connections:write'),
        security: KEY_SECURITY,
        request: {
          params: ConnectionParams,
          body: { required: true, ...jsonContent(UpdateBody) },
        },
        responses: {
          200: { description: 'Changed', ...jsonContent(ConnectionSchema) },
          ...errorResponses(400, 401, 403, 404, 409, 413, 415, 429),
        },
      }),
      async (c) => {
        const { connectionId, ...scope } = c.req.valid('param')
        const body = c.req.valid('json')
        const row = await audited(
          ctx,
          c,
          (trx) =>
            updateConnection(trx, ctx.secrets, scope, connectionId, {
              name: body.name,
              credential: credentialOf(body),
              tls: body.tls,
            }),
          () => event(scope.orgId, 'connection.changed', connectionId),
        )
        return c.json(connectionSummary(row), 200)
      },
    )
    .openapi(
      createRoute({
        method: 'delete',
        path: `${PATH}/{connectionId}`,
        tags: ['connections'],
        summary: 'Delete a connection',
        middleware: can('connections:write'),
        security: KEY_SECURITY,
        request: { params: ConnectionParams },
        responses: {
          204: { description: 'Deleted' },
          ...errorResponses(400, 401, 403, 404, 429),
        },
      }),
      async (c) => {
        const { connectionId, ...scope } = c.req.valid('param')
        await audited(
          ctx,
          c,
          (trx) => deleteConnection(trx, scope, connectionId),
          () => event(scope.orgId, 'connection.deleted', connectionId),
        )
        return c.body(null, 204)
      },
    )
}
