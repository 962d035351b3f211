// What the agent sends of an export job before it reports the result (docs/jobs.md, "Exports"):
// on an S3 repository the presigned URL it made of the file it wrote there (`export-link`), on a
// local repository the file itself, streamed (`export-file`). Both are fenced by the job's lease,
// as the agent's reports are. The file upload is the one request body that is not JSON, so it is
// mounted before the API's JSON-only middleware and only described in the OpenAPI document.

import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi'
import { Hono } from 'hono'
import type { ApiContext } from '../api/context.js'
import {
  AGENT_SECURITY,
  errorResponses,
  jsonContent,
  newRouter,
  type AppEnv,
} from '../api/router.js'
import { IdParam } from '../api/schemas.js'
import {
  leasedExportJob,
  recordExportLink,
  removeExpiredExports,
  storeExportFile,
} from '../data/exports.js'
import { ControlPlaneError } from '../errors.js'
import { authenticateAgent } from '../middleware/authenticate-agent.js'

const JobParams = z.strictObject({ jobId: IdParam })
const LeaseIdSchema = z.string().uuid()
/** The header that names the lease of a file upload (its body is the file). */
export const LEASE_HEADER = 'dbsnap-lease-id'
/** A presigned URL lasts at most 7 days (SigV4). */
const MAX_LINK_MS = 7 * 24 * 3600 * 1000

/** `POST /agent/jobs/{jobId}/export-link`: the presigned GET URL of an export on S3. */
export function agentExportRoutes(ctx: ApiContext) {
  return newRouter().openapi(
    createRoute({
      method: 'post',
      path: '/jobs/{jobId}/export-link',
      tags: ['agent'],
      summary: 'Hand over the presigned GET URL of an export the agent wrote to S3',
      middleware: [authenticateAgent(ctx)],
      security: AGENT_SECURITY,
      request: {
        params: JobParams,
        body: {
          required: true,
          ...jsonContent(
            z.strictObject({
              leaseId: LeaseIdSchema,
              url: z.url({ protocol: /^https?$/ }).max(8192),
              expiresAt: z.iso.datetime(),
              bytes: z.number().int().min(0),
            }),
          ),
        },
      },
      responses: {
        204: { description: 'Recorded: the download answers with this URL' },
        ...errorResponses(400, 401, 409, 413, 415, 429),
      },
    }),
    async (c) => {
      const { leaseId, url, expiresAt, bytes } = c.req.valid('json')
      const job = await leasedExportJob(ctx.db, c.req.valid('param').jobId, leaseId, c.var.agent.id)
      if (Date.parse(expiresAt) > Date.now() + MAX_LINK_MS) {
        throw new ControlPlaneError('INVALID_ARGUMENT', 'a presigned URL lasts 7 days at most')
      }
      await recordExportLink(ctx.db, job, { url, expiresAt, bytes })
      return c.body(null, 204)
    },
  )
}

/** `PUT /api/v1/agent/jobs/{jobId}/export-file`: the export of a local repository, streamed. */
export function agentExportFileRoutes(ctx: ApiContext) {
  return new Hono<AppEnv>().put(
    '/api/v1/agent/jobs/:jobId/export-file',
    authenticateAgent(ctx),
    async (c) => {
      const jobId = IdParam.safeParse(c.req.param('jobId'))
      const leaseId = LeaseIdSchema.safeParse(c.req.header(LEASE_HEADER))
      if (!jobId.success || !leaseId.success) {
        throw new ControlPlaneError(
          'INVALID_ARGUMENT',
          `expected a job id in the path and a lease id in the ${LEASE_HEADER} header`,
        )
      }
      const declared = Number(c.req.header('content-length') ?? Number.NaN)
      if (declared > ctx.exports.maxBytes) {
        throw new ControlPlaneError(
          'PAYLOAD_TOO_LARGE',
          `the export is larger than the limit of ${ctx.exports.maxBytes} bytes (DBSNAP_CP_EXPORT_MAX_BYTES)`,
          { details: { limit: ctx.exports.maxBytes } },
        )
      }
      const job = await leasedExportJob(ctx.db, jobId.data, leaseId.data, c.var.agent.id)
      // Exports nobody downloaded in time go as new ones come: no sweeper to run.
      await removeExpiredExports(ctx.db, ctx.exports)
      const body = c.req.raw.body ?? new Blob([]).stream()
      const stored = await storeExportFile(ctx.db, ctx.exports, job, body)
      ctx.logger.info({ jobId: job.id, bytes: stored.bytes }, 'export file received')
      return c.json({ bytes: stored.bytes }, 201)
    },
  )
}

/** Describes the file upload in the OpenAPI document (it is served by `agentExportFileRoutes`). */
export function describeExportFileUpload(api: OpenAPIHono<AppEnv>): void {
  api.openAPIRegistry.registerPath(
    createRoute({
      method: 'put',
      path: '/agent/jobs/{jobId}/export-file',
      tags: ['agent'],
      summary: `Stream the file of an export on a local repository (the body is the file; the ${LEASE_HEADER} header names the lease)`,
      security: AGENT_SECURITY,
      request: {
        params: JobParams,
        headers: z.object({ [LEASE_HEADER]: LeaseIdSchema }),
        body: {
          required: true,
          content: {
            'application/octet-stream': { schema: z.string().openapi({ format: 'binary' }) },
          },
        },
      },
      responses: {
        201: {
          description: 'Stored: served once by a signed download link',
          ...jsonContent(z.object({ bytes: z.number().int() })),
        },
        ...errorResponses(400, 401, 409, 413, 429),
      },
    }),
  )
}
