// /api/v1/orgs/{orgId}/projects/{projectId}/snapshots: the snapshot catalogue, as agents reported
// it — newest first, filtered by connection or catalogue name, paged by cursor. Metadata only:
// the snapshots themselves are in the agents' repositories.

import { createRoute, z } from '@hono/zod-openapi'
import type { ApiContext } from '../api/context.js'
import { CatalogueSnapshotSchema, catalogueSnapshotView } from '../api/job-schemas.js'
import { errorResponses, jsonContent, KEY_SECURITY, newRouter } from '../api/router.js'
import { IdParam } from '../api/schemas.js'
import { listSnapshots } from '../data/snapshots.js'
import { authenticate } from '../middleware/authenticate.js'
import { authorize } from '../middleware/authorize.js'
import { checkProject } from './agents.js'

const ProjectParams = z.strictObject({ orgId: IdParam, projectId: IdParam })

export function snapshotRoutes(ctx: ApiContext) {
  const keyOrUser = authenticate(ctx, { apiKeys: true })
  return newRouter().openapi(
    createRoute({
      method: 'get',
      path: '/{orgId}/projects/{projectId}/snapshots',
      tags: ['snapshots'],
      summary: "The project's snapshots, newest first",
      middleware: [keyOrUser, authorize(ctx, 'snapshots:read')],
      security: KEY_SECURITY,
      request: {
        params: ProjectParams,
        query: z.strictObject({
          connectionId: IdParam.optional(),
          name: z.string().min(1).max(256).optional(),
          /** The previous page's `next`. */
          cursor: z.string().min(1).max(512).optional(),
          limit: z.coerce.number().int().min(1).max(200).default(50),
        }),
      },
      responses: {
        200: {
          description: 'A page of snapshots; `next` is the cursor of the next page',
          ...jsonContent(
            z.object({ snapshots: z.array(CatalogueSnapshotSchema), next: z.string().nullable() }),
          ),
        },
        ...errorResponses(400, 401, 403, 404, 429),
      },
    }),
    async (c) => {
      const { orgId, projectId } = c.req.valid('param')
      await checkProject(ctx, orgId, projectId)
      const page = await listSnapshots(ctx.db, projectId, c.req.valid('query'))
      return c.json({ snapshots: page.snapshots.map(catalogueSnapshotView), next: page.next }, 200)
    },
  )
}
