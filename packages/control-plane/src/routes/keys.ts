// /api/v1/orgs/{orgId}/keys: API keys of an organisation or of one of its projects. A key is
// shown once, at creation or rotation; a member manages the keys it created, an admin all.
// Scopes a creator's role does not allow are refused when the key is made (they could never
// be used anyway: authorize checks the creator's current role on every request).

import { createRoute, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { audited } from '../api/audit.js'
import type { ApiContext } from '../api/context.js'
import {
  errorResponses,
  jsonContent,
  newRouter,
  USER_SECURITY,
  type AppEnv,
} from '../api/router.js'
import { ApiKeySchema, IdParam, NameSchema, ScopeSchema, apiKeyView } from '../api/schemas.js'
import { allows, type Action } from '../authz/permissions.js'
import {
  apiKeyUsage,
  createApiKey,
  findApiKey,
  listApiKeys,
  revokeApiKey,
  rotateApiKey,
} from '../data/api-keys.js'
import type { ApiKey } from '../db/schema.js'
import { ControlPlaneError, notFoundError } from '../errors.js'
import { newApiKeySecret } from '../identity/api-key-secret.js'
import { authenticate } from '../middleware/authenticate.js'
import { authorize } from '../middleware/authorize.js'

const OrgParams = z.strictObject({ orgId: IdParam })
const KeyParams = z.strictObject({ orgId: IdParam, keyId: IdParam })

const DAY_MS = 24 * 60 * 60 * 1000
/** How long a rotated key keeps working unless the request says otherwise. */
const DEFAULT_GRACE_SECONDS = 24 * 60 * 60
const MAX_GRACE_SECONDS = 30 * 24 * 60 * 60
/** Daily counts shown with a key. */
const USAGE_DAYS = 90

const CreatedKeySchema = z
  .object({
    key: ApiKeySchema,
    secret: z.string().openapi({
      description: 'The whole key, `dbs_…`: shown this once, never again',
      example: 'dbs_k3y5pr3f1x00_…',
    }),
  })
  .openapi('CreatedApiKey')

export function keyRoutes(ctx: ApiContext) {
  // Keys are managed by people: a key cannot make or revoke keys (no scope grants keys:*).
  const user = authenticate(ctx)
  const can = (action: Action) => [user, authorize(ctx, action)]

  /** A non-admin manages only the keys it created. */
  const manageable = async (c: Context<AppEnv>, orgId: string, keyId: string): Promise<ApiKey> => {
    const key = await findApiKey(ctx.db, orgId, keyId)
    if (key === undefined) throw notFoundError('API key', keyId)
    if (c.var.role !== 'admin' && key.createdBy !== c.var.principal.user.id) {
      throw new ControlPlaneError('FORBIDDEN', 'only an admin manages the keys of others', {
        details: { keyId },
      })
    }
    return key
  }

  return newRouter()
    .openapi(
      createRoute({
        method: 'get',
        path: '/{orgId}/keys',
        tags: ['keys'],
        summary: "The organisation's API keys (or one project's), newest first, revoked included",
        middleware: can('keys:read'),
        security: USER_SECURITY,
        request: {
          params: OrgParams,
          query: z.strictObject({ projectId: IdParam.optional() }),
        },
        responses: {
          200: { description: 'Keys', ...jsonContent(z.object({ keys: z.array(ApiKeySchema) })) },
          ...errorResponses(400, 401, 403, 404, 429),
        },
      }),
      async (c) => {
        const { orgId } = c.req.valid('param')
        await ctx.apiKeyUsage.flush()
        const keys = await listApiKeys(ctx.db, orgId, c.req.valid('query').projectId)
        return c.json({ keys: keys.map(apiKeyView) }, 200)
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/{orgId}/keys',
        tags: ['keys'],
        summary: 'Create an API key; the response holds the key, shown this once',
        middleware: can('keys:write'),
        security: USER_SECURITY,
        request: {
          params: OrgParams,
          body: {
            required: true,
            ...jsonContent(
              z.strictObject({
                name: NameSchema,
                scopes: z.array(ScopeSchema).min(1).max(20),
                /** Limit the key to one project of the organisation. */
                projectId: IdParam.optional(),
                /** Days until the key stops working; none, never. */
                expiresInDays: z.number().int().min(1).max(3650).optional(),
              }),
            ),
          },
        },
        responses: {
          201: { description: 'Created', ...jsonContent(CreatedKeySchema) },
          ...errorResponses(400, 401, 403, 404, 413, 415, 429),
        },
      }),
      async (c) => {
        const { orgId } = c.req.valid('param')
        const body = c.req.valid('json')
        const beyond = body.scopes.filter((scope) => !allows(c.var.role, scope))
        if (beyond.length > 0) {
          throw new ControlPlaneError(
            'FORBIDDEN',
            `the role ${c.var.role} does not allow ${beyond.join(', ')}: a key cannot do more than its creator`,
            { details: { scopes: beyond } },
          )
        }
        const secret = newApiKeySecret()
        // Another organisation's project fails the key's foreign key: NOT_FOUND.
        const key = await audited(
          ctx,
          c,
          (trx) =>
            createApiKey(trx, {
              prefix: secret.prefix,
              keyHash: secret.hash,
              name: body.name,
              scopes: body.scopes,
              orgId,
              ...(body.projectId === undefined ? {} : { projectId: body.projectId }),
              createdBy: c.var.principal.user.id,
              ...(body.expiresInDays === undefined
                ? {}
                : { expiresAt: new Date(Date.now() + body.expiresInDays * DAY_MS).toISOString() }),
            }),
          (k) => ({
            orgId,
            action: 'api_key.created',
            targetType: 'api_key',
            targetId: k.id,
            details: { prefix: k.prefix, scopes: body.scopes, projectId: k.projectId },
          }),
        )
        return c.json({ key: apiKeyView(key), secret: secret.key }, 201)
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/{orgId}/keys/{keyId}',
        tags: ['keys'],
        summary: 'One API key, with its requests per UTC day (the last 90 days)',
        middleware: can('keys:read'),
        security: USER_SECURITY,
        request: { params: KeyParams },
        responses: {
          200: {
            description: 'The key and its daily request counts, oldest first',
            ...jsonContent(
              z.object({
                key: ApiKeySchema,
                usage: z.array(z.object({ day: z.string(), count: z.number().int() })),
              }),
            ),
          },
          ...errorResponses(400, 401, 403, 404, 429),
        },
      }),
      async (c) => {
        const { orgId, keyId } = c.req.valid('param')
        await ctx.apiKeyUsage.flush()
        const key = await findApiKey(ctx.db, orgId, keyId)
        if (key === undefined) throw notFoundError('API key', keyId)
        const since = new Date(Date.now() - (USAGE_DAYS - 1) * DAY_MS).toISOString().slice(0, 10)
        const usage = await apiKeyUsage(ctx.db, key.id, since)
        return c.json({ key: apiKeyView(key), usage }, 200)
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/{orgId}/keys/{keyId}/rotate',
        tags: ['keys'],
        summary: 'Replace a key by a new one; the old one keeps working for a grace period',
        middleware: can('keys:write'),
        security: USER_SECURITY,
        request: {
          params: KeyParams,
          body: {
            required: true,
            ...jsonContent(
              z.strictObject({
                /** Seconds the old key still works (default a day, 0 to end it now). */
                graceSeconds: z.number().int().min(0).max(MAX_GRACE_SECONDS).optional(),
              }),
            ),
          },
        },
        responses: {
          201: { description: 'The new key, shown this once', ...jsonContent(CreatedKeySchema) },
          ...errorResponses(400, 401, 403, 404, 413, 415, 429),
        },
      }),
      async (c) => {
        const { orgId, keyId } = c.req.valid('param')
        await manageable(c, orgId, keyId)
        const grace = c.req.valid('json').graceSeconds ?? DEFAULT_GRACE_SECONDS
        const secret = newApiKeySecret()
        const key = await audited(
          ctx,
          c,
          (trx) =>
            rotateApiKey(trx, {
              orgId,
              id: keyId,
              prefix: secret.prefix,
              keyHash: secret.hash,
              createdBy: c.var.principal.user.id,
              graceUntil: new Date(Date.now() + grace * 1000).toISOString(),
            }),
          (k) => ({
            orgId,
            action: 'api_key.rotated',
            targetType: 'api_key',
            targetId: keyId,
            details: { newKeyId: k.id, prefix: k.prefix, graceSeconds: grace },
          }),
        )
        return c.json({ key: apiKeyView(key), secret: secret.key }, 201)
      },
    )
    .openapi(
      createRoute({
        method: 'delete',
        path: '/{orgId}/keys/{keyId}',
        tags: ['keys'],
        summary: 'Revoke a key at once',
        middleware: can('keys:write'),
        security: USER_SECURITY,
        request: { params: KeyParams },
        responses: {
          204: { description: 'Revoked' },
          ...errorResponses(400, 401, 403, 404, 429),
        },
      }),
      async (c) => {
        const { orgId, keyId } = c.req.valid('param')
        await manageable(c, orgId, keyId)
        await audited(
          ctx,
          c,
          (trx) => revokeApiKey(trx, orgId, keyId),
          () => ({ orgId, action: 'api_key.revoked', targetType: 'api_key', targetId: keyId }),
        )
        return c.body(null, 204)
      },
    )
}
