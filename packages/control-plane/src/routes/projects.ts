// /api/v1/orgs/{orgId}/projects: an organisation's projects. Authorised by the permission table;
// a project id of another organisation is not found.

import { createRoute, z } from '@hono/zod-openapi'
import { audited } from '../api/audit.js'
import type { ApiContext } from '../api/context.js'
import { errorResponses, jsonContent, KEY_SECURITY, newRouter } from '../api/router.js'
import { IdParam, NameSchema, ProjectSchema, SlugSchema, projectView } from '../api/schemas.js'
import {
  createProject,
  deleteProject,
  findProject,
  listProjects,
  updateProject,
} from '../data/projects.js'
import { notFoundError } from '../errors.js'
import { authenticate } from '../middleware/authenticate.js'
import { authorize } from '../middleware/authorize.js'
import type { Action } from '../authz/permissions.js'
import { RepositorySettingSchema } from '../api/repository-setting.js'

const OrgParams = z.strictObject({ orgId: IdParam })
const ProjectParams = z.strictObject({ orgId: IdParam, projectId: IdParam })

export function projectRoutes(ctx: ApiContext) {
  const keyOrUser = authenticate(ctx, { apiKeys: true })
  const can = (action: Action) => [keyOrUser, authorize(ctx, action)]
  return newRouter()
    .openapi(
      createRoute({
        method: 'get',
        path: '/{orgId}/projects',
        tags: ['projects'],
        summary: "The organisation's projects, by name",
        middleware: can('projects:read'),
        security: KEY_SECURITY,
        request: { params: OrgParams },
        responses: {
          200: {
            description: 'Projects',
            ...jsonContent(z.object({ projects: z.array(ProjectSchema) })),
          },
          ...errorResponses(400, 401, 403, 404, 429),
        },
      }),
      async (c) => {
        const projects = await listProjects(ctx.db, c.req.valid('param').orgId)
        return c.json({ projects: projects.map(projectView) }, 200)
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/{orgId}/projects',
        tags: ['projects'],
        summary: 'Create a project',
        middleware: can('projects:write'),
        security: KEY_SECURITY,
        request: {
          params: OrgParams,
          body: {
            required: true,
            ...jsonContent(z.strictObject({ name: NameSchema, slug: SlugSchema })),
          },
        },
        responses: {
          201: { description: 'Created', ...jsonContent(ProjectSchema) },
          ...errorResponses(400, 401, 403, 404, 409, 413, 415, 429),
        },
      }),
      async (c) => {
        const { orgId } = c.req.valid('param')
        const project = await audited(
          ctx,
          c,
          (trx) => createProject(trx, { orgId, ...c.req.valid('json') }),
          (p) => ({ orgId, action: 'project.created', targetType: 'project', targetId: p.id }),
        )
        return c.json(projectView(project), 201)
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/{orgId}/projects/{projectId}',
        tags: ['projects'],
        summary: 'One project',
        middleware: can('projects:read'),
        security: KEY_SECURITY,
        request: { params: ProjectParams },
        responses: {
          200: { description: 'The project', ...jsonContent(ProjectSchema) },
          ...errorResponses(400, 401, 403, 404, 429),
        },
      }),
      async (c) => {
        const { orgId, projectId } = c.req.valid('param')
        const project = await findProject(ctx.db, orgId, projectId)
        if (project === undefined) throw notFoundError('project', projectId)
        return c.json(projectView(project), 200)
      },
    )
    .openapi(
      createRoute({
        method: 'patch',
        path: '/{orgId}/projects/{projectId}',
        tags: ['projects'],
        summary: 'Rename a project, or set where its agents keep snapshots (`repository`)',
        middleware: can('projects:write'),
        security: KEY_SECURITY,
        request: {
          params: ProjectParams,
          body: {
            required: true,
            ...jsonContent(
              z
                .strictObject({
                  name: NameSchema.optional(),
                  /** A directory on the agents' machines or `s3://bucket/prefix`; null: each agent's own. */
                  repository: RepositorySettingSchema.nullable().optional(),
                })
                .refine((b) => b.name !== undefined || b.repository !== undefined, {
                  message: 'expected name or repository',
                }),
            ),
          },
        },
        responses: {
          200: { description: 'Changed', ...jsonContent(ProjectSchema) },
          ...errorResponses(400, 401, 403, 404, 413, 415, 429),
        },
      }),
      async (c) => {
        const { orgId, projectId } = c.req.valid('param')
        const changes = c.req.valid('json')
        // Where backups go is audited: moving it is how snapshots would be sent elsewhere.
        const project =
          changes.repository === undefined
            ? await updateProject(ctx.db, orgId, projectId, changes)
            : await audited(
                ctx,
                c,
                (trx) => updateProject(trx, orgId, projectId, changes),
                (p) => ({
                  orgId,
                  action: 'project.repository-changed',
                  targetType: 'project',
                  targetId: p.id,
                  details: { repository: p.repository },
                }),
              )
        return c.json(projectView(project), 200)
      },
    )
    .openapi(
      createRoute({
        method: 'delete',
        path: '/{orgId}/projects/{projectId}',
        tags: ['projects'],
        summary: 'Delete a project with its connections',
        middleware: can('projects:write'),
        security: KEY_SECURITY,
        request: { params: ProjectParams },
        responses: {
          204: { description: 'Deleted' },
          ...errorResponses(400, 401, 403, 404, 429),
        },
      }),
      async (c) => {
        const { orgId, projectId } = c.req.valid('param')
        await audited(
          ctx,
          c,
          (trx) => deleteProject(trx, orgId, projectId),
          () => ({ orgId, action: 'project.deleted', targetType: 'project', targetId: projectId }),
        )
        return c.body(null, 204)
      },
    )
}
