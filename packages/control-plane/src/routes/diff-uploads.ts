// /api/v1/agent/jobs/{jobId}/diff-changes: the agent uploads a diff job's row changes in numbered
// pages while the engine produces them (its memory stays bounded at any diff size), each with the
// column names of the tables its changes are in. Fenced by the
// lease like a heartbeat; a page sent again replaces itself; the first page of a new lease (a
// retried job) clears the earlier attempt's pages. Its body may be up to DIFF_PAGE_MAX_BYTES, the
// one route above the API's 64 KiB.

import { createRoute, z } from '@hono/zod-openapi'
import type { ApiContext } from '../api/context.js'
import { AGENT_SECURITY, errorResponses, jsonContent, newRouter } from '../api/router.js'
import { IdParam } from '../api/schemas.js'
import {
  DiffChangeSchema,
  DiffPageTableSchema,
  MAX_PAGE_CHANGES,
  storeDiffPage,
} from '../data/diffs.js'
import { authenticateAgent } from '../middleware/authenticate-agent.js'

/** The largest page body the agent may send: 1 MiB (the agent aims under 768 KiB). */
export const DIFF_PAGE_MAX_BYTES = 1024 * 1024

/** The path this route's larger body limit applies to (middleware/body.ts). */
export const DIFF_PAGE_PATH = /^\/api\/v1\/agent\/jobs\/[^/]+\/diff-changes$/

export function diffUploadRoutes(ctx: ApiContext) {
  const agentOnly = authenticateAgent(ctx)
  return newRouter().openapi(
    createRoute({
      method: 'post',
      path: '/jobs/{jobId}/diff-changes',
      tags: ['agent'],
      summary: 'Upload page `page` of a diff job’s row changes (idempotent per page)',
      middleware: [agentOnly],
      security: AGENT_SECURITY,
      request: {
        params: z.strictObject({ jobId: IdParam }),
        body: {
          required: true,
          ...jsonContent(
            z.strictObject({
              leaseId: z.string().uuid(),
              /** 0, 1, 2, …: a change's place in the diff is page × 1000 + its index. */
              page: z.number().int().min(0).max(1_000_000_000),
              changes: z.array(DiffChangeSchema).max(MAX_PAGE_CHANGES),
              /** The column names of the tables the changes are in. */
              tables: z.array(DiffPageTableSchema).max(MAX_PAGE_CHANGES).optional(),
            }),
          ),
        },
      },
      responses: {
        200: {
          description: 'Stored',
          ...jsonContent(z.object({ page: z.number().int(), stored: z.number().int() })),
        },
        ...errorResponses(400, 401, 409, 413, 415, 429),
      },
    }),
    async (c) => {
      const { leaseId, ...page } = c.req.valid('json')
      const { stored } = await storeDiffPage(ctx.db, c.req.valid('param').jobId, leaseId, page)
      return c.json({ page: page.page, stored }, 200)
    },
  )
}
