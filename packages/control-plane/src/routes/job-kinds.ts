// The jobs other than snapshots that people and scripts ask for (issue 15): export a snapshot
// (and download it once it succeeded), restore one into a connection (org admins only, audited),
// verify the repository, and apply a retention policy to a connection's snapshots. Each queues one
// job for the project's agents; its spec names snapshots by their catalogue ids (the repository's
// ids) and connections by id, never a secret.

import { createRoute, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { audited } from '../api/audit.js'
import type { ApiContext } from '../api/context.js'
import { JobSchema, jobView } from '../api/job-schemas.js'
import { errorResponses, jsonContent, KEY_SECURITY, newRouter, type AppEnv } from '../api/router.js'
import { IdParam } from '../api/schemas.js'
import type { Action } from '../authz/permissions.js'
import { findConnection } from '../data/connections.js'
import { downloadKey, downloadOf } from '../data/exports.js'
import type { NewJob } from '../data/jobs.js'
import { findSnapshot } from '../data/snapshots.js'
import type { Job } from '../db/schema.js'
import { notFoundError } from '../errors.js'
import { authenticate } from '../middleware/authenticate.js'
import { authorize } from '../middleware/authorize.js'
import { checkProject } from './agents.js'
import { actorOf } from './jobs.js'

const ProjectParams = z.strictObject({ orgId: IdParam, projectId: IdParam })
const SnapshotParams = ProjectParams.extend({
  snapshotId: z.string().regex(/^[0-9a-f]{16,128}$/, 'a snapshot id'),
})
const ConnectionParams = ProjectParams.extend({ connectionId: IdParam })
const JobParams = ProjectParams.extend({ jobId: IdParam })

/** Tables as users write them: `schema.table`, `table`, or a glob. */
const TableList = z.array(z.string().min(1).max(512)).max(1000).optional()
const Duration = z
  .string()
  .regex(/^(\d+(\.\d+)?(ms|s|m|h|d|w))+$/, 'a duration such as 12h, 30d or 2w')
const Count = z.number().int().min(0).max(100_000).optional()

const ExportBody = z
  .strictObject({
    format: z.enum(['ndjson', 'json', 'ejson', 'sql']),
    /** sql: the SQL dialect; default the snapshot's engine. */
    dialect: z.enum(['postgres', 'mysql']).optional(),
    tables: TableList,
    exclude: TableList,
  })
  .refine((b) => b.dialect === undefined || b.format === 'sql', {
    message: 'dialect applies to format sql only',
  })

const RestoreBody = z
  .strictObject({
    /** The connection to restore into, of the same project. */
    connectionId: IdParam,
    tables: TableList,
    exclude: TableList,
    /** overwrite (default): tables end up as in the snapshot; append: insert the rows. */
    mode: z.enum(['overwrite', 'append']).optional(),
    /** append: what a row whose key is already there does; default fail. */
    onConflict: z.enum(['fail', 'skip', 'update']).optional(),
    /** overwrite tables that hold rows. */
    force: z.boolean().optional(),
    /** Write back only the rows that differ from the snapshot. */
    onlyChanged: z.boolean().optional(),
    /** Plan and check only; nothing is written. */
    dryRun: z.boolean().optional(),
  })
  .refine((b) => b.onConflict === undefined || b.mode === 'append', {
    message: 'onConflict applies to mode append only',
  })
  .refine(
    (b) =>
      b.onlyChanged !== true ||
      (b.mode === undefined && b.onConflict === undefined && b.force === undefined),
    { message: 'onlyChanged takes no mode, onConflict or force' },
  )

const VerifyBody = z.strictObject({
  /** Catalogue ids of the snapshots to check; absent: every snapshot of the repository. */
  snapshots: z.array(SnapshotParams.shape.snapshotId).min(1).max(1000).optional(),
  /** Also read this share of the data chunks in full: `5%` or `n/t`. */
  readDataSubset: z
    .string()
    .regex(/^(\d+(\.\d+)?%|\d+\/\d+)$/, 'a percentage (5%) or a part n/t (1/10)')
    .optional(),
})

export const RetentionPolicySchema = z
  .strictObject({
    keepLast: Count,
    /** Keep snapshots taken within this long of the latest: `30d`. */
    keepWithin: Duration.optional(),
    keepDaily: Count,
    keepWeekly: Count,
    keepMonthly: Count,
    keepYearly: Count,
  })
  .refine((p) => Object.values(p).some((v) => v !== undefined), {
    message: 'expected at least one rule: an empty policy would remove every snapshot',
  })
  .openapi('RetentionPolicy')

const RetentionBody = z.strictObject({
  policy: RetentionPolicySchema,
  /** Say what would go, remove nothing. */
  dryRun: z.boolean().optional(),
})

const Queued = { 202: { description: 'Queued', ...jsonContent(JobSchema) } }

export function jobKindRoutes(ctx: ApiContext) {
  const keyOrUser = authenticate(ctx, { apiKeys: true })
  const can = (action: Action) => [keyOrUser, authorize(ctx, action)]
  /** Stacks are for admins: they name files and lines of the agent's machine. */
  const view = (c: Context<AppEnv>, job: Job) => jobView(job, { stack: c.var.role === 'admin' })
  /** Queues `job` with its audit event (`action`, on `target`). */
  const enqueue = (
    c: Context<AppEnv>,
    orgId: string,
    job: Omit<NewJob, 'createdBy'>,
    action: string,
    target: { type: string; id: string },
  ) =>
    audited(
      ctx,
      c,
      (trx) =>
        ctx.queue.in(trx).enqueue({
          ...job,
          createdBy: actorOf(c.var.principal),
        }),
      (j) => ({
        orgId,
        action,
        targetType: target.type,
        targetId: target.id,
        details: { jobId: j.id, projectId: job.projectId },
      }),
    )
  return newRouter()
    .openapi(
      createRoute({
        method: 'post',
        path: '/{orgId}/projects/{projectId}/snapshots/{snapshotId}/exports',
        tags: ['jobs'],
        summary:
          'Export a snapshot as NDJSON, JSON, Extended JSON or SQL; `GET …/jobs/{jobId}/download` once it succeeded',
        middleware: can('snapshots:export'),
        security: KEY_SECURITY,
        request: { params: SnapshotParams, body: { required: true, ...jsonContent(ExportBody) } },
        responses: { ...Queued, ...errorResponses(400, 401, 403, 404, 413, 415, 429) },
      }),
      async (c) => {
        const { orgId, projectId, snapshotId } = c.req.valid('param')
        await checkProject(ctx, orgId, projectId)
        await findSnapshot(ctx.db, projectId, snapshotId)
        const body = c.req.valid('json')
        const job = await enqueue(
          c,
          orgId,
          { projectId, kind: 'export', spec: { kind: 'export', snapshot: snapshotId, ...body } },
          'snapshot.export-requested',
          { type: 'snapshot', id: snapshotId },
        )
        return c.json(view(c, job), 202)
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/{orgId}/projects/{projectId}/snapshots/{snapshotId}/restores',
        tags: ['jobs'],
        summary:
          'Restore a snapshot (or some of its tables) into a connection of the project: org admins only, in person',
        middleware: can('snapshots:restore'),
        security: KEY_SECURITY,
        request: { params: SnapshotParams, body: { required: true, ...jsonContent(RestoreBody) } },
        responses: { ...Queued, ...errorResponses(400, 401, 403, 404, 413, 415, 429) },
      }),
      async (c) => {
        const { orgId, projectId, snapshotId } = c.req.valid('param')
        await checkProject(ctx, orgId, projectId)
        await findSnapshot(ctx.db, projectId, snapshotId)
        const { connectionId, ...options } = c.req.valid('json')
        const target = await findConnection(ctx.db, { orgId, projectId }, connectionId)
        if (target === undefined) throw notFoundError('connection', connectionId)
        const job = await enqueue(
          c,
          orgId,
          {
            projectId,
            connectionId,
            kind: 'restore',
            // A restore that failed halfway is not retried behind the admin's back.
            maxAttempts: 1,
            spec: { kind: 'restore', connectionId, snapshot: snapshotId, ...options },
          },
          'snapshot.restore-requested',
          { type: 'snapshot', id: snapshotId },
        )
        return c.json(view(c, job), 202)
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/{orgId}/projects/{projectId}/verify',
        tags: ['jobs'],
        summary: "Verify the project's repository: every snapshot, or those named",
        middleware: can('snapshots:write'),
        security: KEY_SECURITY,
        request: {
          params: ProjectParams,
          body: { required: false, ...jsonContent(VerifyBody) },
        },
        responses: { ...Queued, ...errorResponses(400, 401, 403, 404, 413, 415, 429) },
      }),
      async (c) => {
        const { orgId, projectId } = c.req.valid('param')
        await checkProject(ctx, orgId, projectId)
        const body = (c.req.valid('json') as z.infer<typeof VerifyBody> | undefined) ?? {}
        for (const id of body.snapshots ?? []) await findSnapshot(ctx.db, projectId, id)
        const job = await enqueue(
          c,
          orgId,
          { projectId, kind: 'verify', spec: { kind: 'verify', ...body } },
          'repository.verify-requested',
          { type: 'project', id: projectId },
        )
        return c.json(view(c, job), 202)
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/{orgId}/projects/{projectId}/connections/{connectionId}/retention',
        tags: ['jobs'],
        summary:
          "Apply a retention policy to the connection's snapshots: forget those it does not keep, then prune",
        middleware: can('snapshots:forget'),
        security: KEY_SECURITY,
        request: {
          params: ConnectionParams,
          body: { required: true, ...jsonContent(RetentionBody) },
        },
        responses: { ...Queued, ...errorResponses(400, 401, 403, 404, 413, 415, 429) },
      }),
      async (c) => {
        const { orgId, projectId, connectionId } = c.req.valid('param')
        const connection = await findConnection(ctx.db, { orgId, projectId }, connectionId)
        if (connection === undefined) throw notFoundError('connection', connectionId)
        const job = await enqueue(
          c,
          orgId,
          {
            projectId,
            connectionId,
            kind: 'retention',
            spec: { kind: 'retention', connectionId, ...c.req.valid('json') },
          },
          'retention.requested',
          { type: 'connection', id: connectionId },
        )
        return c.json(view(c, job), 202)
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/{orgId}/projects/{projectId}/jobs/{jobId}/download',
        tags: ['jobs'],
        summary:
          "Where to download a succeeded export: a presigned S3 URL, or a link that serves the control plane's copy once",
        middleware: can('snapshots:export'),
        security: KEY_SECURITY,
        request: { params: JobParams },
        responses: {
          200: {
            description: 'A URL that needs no credentials, and when it stops working',
            ...jsonContent(z.object({ url: z.string(), expiresAt: z.string() })),
          },
          ...errorResponses(400, 401, 403, 404, 409, 410, 429),
        },
      }),
      async (c) => {
        const { orgId, projectId, jobId } = c.req.valid('param')
        await checkProject(ctx, orgId, projectId)
        const job = await ctx.queue.get(projectId, jobId)
        const origin = ctx.auth.publicOrigin ?? new URL(c.req.url).origin
        const link = await downloadOf(ctx.db, job, {
          key: downloadKey(ctx.auth.signingKey),
          origin,
        })
        return c.json(link, 200)
      },
    )
}
