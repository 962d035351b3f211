// /api/v1/downloads/{token}: a local export, served once to whoever holds the signed, expiring
// link `GET …/jobs/{jobId}/download` made (no other credentials: a browser or `curl` follows it).
// The file is deleted as it is served; a second request, or one after the link expired, is 410.

import { createRoute, z } from '@hono/zod-openapi'
import type { ApiContext } from '../api/context.js'
import { errorResponses, newRouter } from '../api/router.js'
import { claimDownload, downloadKey } from '../data/exports.js'

export function downloadRoutes(ctx: ApiContext) {
  return newRouter().openapi(
    createRoute({
      method: 'get',
      path: '/{token}',
      tags: ['jobs'],
      summary: 'Download a local export, once, by its signed link',
      request: {
        params: z.strictObject({ token: z.string().min(1).max(512) }),
      },
      responses: {
        200: {
          description: 'The export file',
          content: {
            'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) },
          },
        },
        ...errorResponses(400, 404, 410, 429),
      },
    }),
    async (c) => {
      const { row, stream } = await claimDownload(
        ctx.db,
        ctx.exports,
        downloadKey(ctx.auth.signingKey),
        c.req.valid('param').token,
      )
      ctx.logger.info({ jobId: row.jobId, bytes: row.bytes }, 'export downloaded')
      return c.body(stream, 200, {
        'content-type': 'application/octet-stream',
        'content-length': String(row.bytes),
        'content-disposition': `attachment; filename="${row.fileName}"`,
        'cache-control': 'no-store',
      })
    },
  )
}
