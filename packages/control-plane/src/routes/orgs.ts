// /api/v1/orgs: organisations (create, list mine, read, rename, delete) and their members. Every
// route under /orgs/{orgId} is authorised by the permission table for its action.

import { createRoute, z } from '@hono/zod-openapi'
import { audited } from '../api/audit.js'
import type { ApiContext } from '../api/context.js'
import {
  errorResponses,
  jsonContent,
  KEY_SECURITY,
  newRouter,
  USER_SECURITY,
} from '../api/router.js'
import {
  EmailSchema,
  IdParam,
  MemberSchema,
  NameSchema,
  OrgSchema,
  RoleSchema,
  SlugSchema,
  orgView,
} from '../api/schemas.js'
import {
  addMember,
  createOrg,
  deleteOrg,
  findOrg,
  listMemberAccounts,
  listOrgsOfUser,
  removeMember,
  renameOrg,
  setRole,
} from '../data/orgs.js'
import { findUserByEmail } from '../data/users.js'
import { notFoundError } from '../errors.js'
import { authenticate } from '../middleware/authenticate.js'
import { authorize } from '../middleware/authorize.js'
import type { Action } from '../authz/permissions.js'

const OrgParams = z.strictObject({ orgId: IdParam })
const MemberParams = z.strictObject({ orgId: IdParam, userId: IdParam })

export function orgRoutes(ctx: ApiContext) {
  const user = authenticate(ctx)
  const keyOrUser = authenticate(ctx, { apiKeys: true })
  const can = (action: Action) => [keyOrUser, authorize(ctx, action)]
  return newRouter()
    .openapi(
      createRoute({
        method: 'post',
        path: '/',
        tags: ['orgs'],
        summary: 'Create an organisation; its creator becomes its admin',
        middleware: [user] as const,
        security: USER_SECURITY,
        request: {
          body: {
            required: true,
            ...jsonContent(z.strictObject({ name: NameSchema, slug: SlugSchema })),
          },
        },
        responses: {
          201: { description: 'Created', ...jsonContent(OrgSchema) },
          ...errorResponses(400, 401, 403, 409, 413, 415, 429),
        },
      }),
      async (c) => {
        const org = await audited(
          ctx,
          c,
          (trx) => createOrg(trx, { ...c.req.valid('json'), ownerId: c.var.principal.user.id }),
          (o) => ({ orgId: o.id, action: 'org.created', targetType: 'org', targetId: o.id }),
        )
        return c.json(orgView(org, 'admin'), 201)
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/',
        tags: ['orgs'],
        summary: 'The organisations the user belongs to, with their role',
        middleware: [user] as const,
        security: USER_SECURITY,
        responses: {
          200: {
            description: 'Organisations',
            ...jsonContent(z.object({ orgs: z.array(OrgSchema) })),
          },
          ...errorResponses(401, 429),
        },
      }),
      async (c) => {
        const orgs = await listOrgsOfUser(ctx.db, c.var.principal.user.id)
        return c.json({ orgs: orgs.map((o) => orgView(o, o.role)) }, 200)
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/{orgId}',
        tags: ['orgs'],
        summary: 'One organisation',
        middleware: can('org:read'),
        security: KEY_SECURITY,
        request: { params: OrgParams },
        responses: {
          200: { description: 'The organisation', ...jsonContent(OrgSchema) },
          ...errorResponses(400, 401, 403, 404, 429),
        },
      }),
      async (c) => {
        const { orgId } = c.req.valid('param')
        const org = await findOrg(ctx.db, orgId)
        if (org === undefined) throw notFoundError('organisation', orgId)
        return c.json(orgView(org, c.var.role), 200)
      },
    )
    .openapi(
      createRoute({
        method: 'patch',
        path: '/{orgId}',
        tags: ['orgs'],
        summary: 'Rename an organisation',
        middleware: can('org:update'),
        security: KEY_SECURITY,
        request: {
          params: OrgParams,
          body: { required: true, ...jsonContent(z.strictObject({ name: NameSchema })) },
        },
        responses: {
          200: { description: 'Renamed', ...jsonContent(OrgSchema) },
          ...errorResponses(400, 401, 403, 404, 413, 415, 429),
        },
      }),
      async (c) => {
        const { orgId } = c.req.valid('param')
        const org = await renameOrg(ctx.db, orgId, c.req.valid('json').name)
        return c.json(orgView(org, c.var.role), 200)
      },
    )
    .openapi(
      createRoute({
        method: 'delete',
        path: '/{orgId}',
        tags: ['orgs'],
        summary: 'Delete an organisation (refused while it has projects: ORG_NOT_EMPTY)',
        middleware: can('org:delete'),
        security: KEY_SECURITY,
        request: { params: OrgParams },
        responses: {
          204: { description: 'Deleted' },
          ...errorResponses(400, 401, 403, 404, 409, 429),
        },
      }),
      async (c) => {
        const { orgId } = c.req.valid('param')
        // The event stays in the organisation's chain: the log outlives what it names.
        await audited(
          ctx,
          c,
          (trx) => deleteOrg(trx, orgId),
          () => ({ orgId, action: 'org.deleted', targetType: 'org', targetId: orgId }),
        )
        return c.body(null, 204)
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/{orgId}/members',
        tags: ['orgs'],
        summary: 'The members of an organisation and their roles',
        middleware: can('members:read'),
        security: KEY_SECURITY,
        request: { params: OrgParams },
        responses: {
          200: {
            description: 'Members',
            ...jsonContent(z.object({ members: z.array(MemberSchema) })),
          },
          ...errorResponses(400, 401, 403, 404, 429),
        },
      }),
      async (c) => {
        const members = await listMemberAccounts(ctx.db, c.req.valid('param').orgId)
        return c.json(
          {
            members: members.map((m) => ({
              userId: m.userId,
              email: m.email,
              role: m.role,
              createdAt: m.createdAt,
            })),
          },
          200,
        )
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/{orgId}/members',
        tags: ['orgs'],
        summary: 'Add the account of an email address as a member',
        middleware: can('members:write'),
        security: KEY_SECURITY,
        request: {
          params: OrgParams,
          body: {
            required: true,
            ...jsonContent(z.strictObject({ email: EmailSchema, role: RoleSchema })),
          },
        },
        responses: {
          201: { description: 'Added', ...jsonContent(MemberSchema) },
          ...errorResponses(400, 401, 403, 404, 409, 413, 415, 429),
        },
      }),
      async (c) => {
        const { orgId } = c.req.valid('param')
        const { email, role } = c.req.valid('json')
        const account = await findUserByEmail(ctx.db, email)
        if (account === undefined) throw notFoundError('account', email)
        const m = await audited(
          ctx,
          c,
          (trx) => addMember(trx, { orgId, userId: account.id, role }),
          () => ({
            orgId,
            action: 'member.added',
            targetType: 'user',
            targetId: account.id,
            details: { role },
          }),
        )
        return c.json(
          { userId: m.userId, email: account.email, role: m.role, createdAt: m.createdAt },
          201,
        )
      },
    )
    .openapi(
      createRoute({
        method: 'patch',
        path: '/{orgId}/members/{userId}',
        tags: ['orgs'],
        summary: "Change a member's role (an organisation keeps an admin: LAST_ADMIN)",
        middleware: can('members:write'),
        security: KEY_SECURITY,
        request: {
          params: MemberParams,
          body: { required: true, ...jsonContent(z.strictObject({ role: RoleSchema })) },
        },
        responses: {
          204: { description: 'Changed' },
          ...errorResponses(400, 401, 403, 404, 409, 413, 415, 429),
        },
      }),
      async (c) => {
        const { orgId, userId } = c.req.valid('param')
        const { role } = c.req.valid('json')
        await audited(
          ctx,
          c,
          (trx) => setRole(trx, orgId, userId, role),
          () => ({
            orgId,
            action: 'member.role_changed',
            targetType: 'user',
            targetId: userId,
            details: { role },
          }),
        )
        return c.body(null, 204)
      },
    )
    .openapi(
      createRoute({
        method: 'delete',
        path: '/{orgId}/members/{userId}',
        tags: ['orgs'],
        summary: 'Remove a member (not the last admin: LAST_ADMIN)',
        middleware: can('members:write'),
        security: KEY_SECURITY,
        request: { params: MemberParams },
        responses: {
          204: { description: 'Removed' },
          ...errorResponses(400, 401, 403, 404, 409, 429),
        },
      }),
      async (c) => {
        const { orgId, userId } = c.req.valid('param')
        await audited(
          ctx,
          c,
          (trx) => removeMember(trx, orgId, userId),
          () => ({ orgId, action: 'member.removed', targetType: 'user', targetId: userId }),
        )
        return c.body(null, 204)
      },
    )
}
