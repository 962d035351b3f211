// /api/v1/orgs/{orgId}/projects/{projectId}/diffs: ask for a diff (two catalogue snapshots, or a
// snapshot and the live database of its connection), list and read diffs, and page through a
// diff's row changes, filtered by table and change type and searched by key or value, count them,
// and export a succeeded diff as NDJSON or Markdown. A page (or count) of a succeeded diff never
// changes: it carries an ETag and `Cache-Control: immutable`, and a request naming that ETag in
// If-None-Match gets 304 (decision 0030).

import { createHash } from 'node:crypto'
import { createRoute, z } from '@hono/zod-openapi'
import { DBSNAP_VERSION } from '@dbsnap/engine/core'
import type { Context } from 'hono'
import { audited } from '../api/audit.js'
import type { ApiContext } from '../api/context.js'
import { DiffChangeSchema, DiffSchema, TableCountsSchema, diffView } from '../api/diff-schemas.js'
import { JobSchema, JobStateSchema, jobView } from '../api/job-schemas.js'
import { errorResponses, jsonContent, KEY_SECURITY, newRouter } from '../api/router.js'
import { IdParam } from '../api/schemas.js'
import type { Action } from '../authz/permissions.js'
import {
  checkExportable,
  markdownExport,
  MARKDOWN_MAX_CHANGES,
  ndjsonExport,
} from '../data/diff-export.js'
import {
  countChanges,
  getDiff,
  listChanges,
  listDiffs,
  requestDiff,
  type DiffWithJob,
} from '../data/diffs.js'
import { ControlPlaneError } from '../errors.js'
import { authenticate } from '../middleware/authenticate.js'
import { authorize } from '../middleware/authorize.js'
import { checkProject } from './agents.js'

const ProjectParams = z.strictObject({ orgId: IdParam, projectId: IdParam })
const DiffParams = ProjectParams.extend({ diffId: IdParam })
const SnapshotId = z.string().min(1).max(128)
const TableList = z.array(z.string().min(1).max(512)).min(1).max(1000)

/** The filters of a diff's changes: `/changes`, `/counts` and `/export` take the same. */
const ChangeFilterQuery = z.strictObject({
  table: z.string().min(1).max(1024).optional(),
  type: z.enum(['added', 'removed', 'modified']).optional(),
  /** Case-insensitive substring of the key's or of a value's text form. */
  q: z.string().min(1).max(256).optional(),
})

/** How long a browser may keep a page of a succeeded diff (it never changes). */
const IMMUTABLE = 'private, max-age=31536000, immutable'

const DiffRequestSchema = z.strictObject({
  /** The earlier side: a snapshot id of the project's catalogue. */
  from: SnapshotId,
  /** The later side: another snapshot id… */
  to: SnapshotId.optional(),
  /** …or `true`: the live database of `from`'s connection. */
  live: z.literal(true).optional(),
  tables: TableList.optional(),
  exclude: TableList.optional(),
  schemaOnly: z.boolean().optional(),
  dataOnly: z.boolean().optional(),
})

export function diffRoutes(ctx: ApiContext) {
  const keyOrUser = authenticate(ctx, { apiKeys: true })
  const can = (action: Action) => [keyOrUser, authorize(ctx, action)]
  return newRouter()
    .openapi(
      createRoute({
        method: 'post',
        path: '/{orgId}/projects/{projectId}/diffs',
        tags: ['diffs'],
        summary: 'Diff two snapshots, or a snapshot and the live database: queues a diff job',
        middleware: can('diffs:write'),
        security: KEY_SECURITY,
        request: {
          params: ProjectParams,
          body: { required: true, ...jsonContent(DiffRequestSchema) },
        },
        responses: {
          202: {
            description: 'Queued',
            ...jsonContent(z.object({ diff: DiffSchema, job: JobSchema })),
          },
          ...errorResponses(400, 401, 403, 404, 413, 415, 429),
        },
      }),
      async (c) => {
        const { orgId, projectId } = c.req.valid('param')
        await checkProject(ctx, orgId, projectId)
        const body = c.req.valid('json')
        checkRequest(body)
        const principal = c.var.principal
        const createdBy =
          principal.kind === 'api-key'
            ? `api_key:${principal.apiKey.id}`
            : `user:${principal.user.id}`
        const made = await audited(
          ctx,
          c,
          (trx) => requestDiff(trx, ctx.queue, { projectId, ...body, createdBy }),
          ({ diff, job }) => ({
            orgId,
            action: 'diff.requested',
            targetType: 'diff',
            targetId: diff.id,
            details: { projectId, jobId: job.id, from: diff.fromSnapshotId, to: diff.toSnapshotId },
          }),
        )
        return c.json(
          {
            diff: diffView(made.diff),
            job: jobView(made.job, { stack: c.var.role === 'admin' }),
          },
          202,
        )
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/{orgId}/projects/{projectId}/diffs',
        tags: ['diffs'],
        summary: "The project's diffs, newest first",
        middleware: can('diffs:read'),
        security: KEY_SECURITY,
        request: {
          params: ProjectParams,
          query: z.strictObject({
            connectionId: IdParam.optional(),
            state: JobStateSchema.optional(),
            /** The previous page's `next`. */
            cursor: IdParam.optional(),
            limit: z.coerce.number().int().min(1).max(200).default(50),
          }),
        },
        responses: {
          200: {
            description: 'A page of diffs; `next` is the cursor of the next page',
            ...jsonContent(z.object({ diffs: z.array(DiffSchema), next: z.string().nullable() })),
          },
          ...errorResponses(400, 401, 403, 404, 429),
        },
      }),
      async (c) => {
        const { orgId, projectId } = c.req.valid('param')
        await checkProject(ctx, orgId, projectId)
        const page = await listDiffs(ctx.db, projectId, c.req.valid('query'))
        return c.json({ diffs: page.diffs.map(diffView), next: page.next }, 200)
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/{orgId}/projects/{projectId}/diffs/{diffId}',
        tags: ['diffs'],
        summary: 'One diff: its state, and once it succeeded its summary and per-table counts',
        middleware: can('diffs:read'),
        security: KEY_SECURITY,
        request: { params: DiffParams },
        responses: {
          200: { description: 'The diff', ...jsonContent(DiffSchema) },
          ...errorResponses(400, 401, 403, 404, 429),
        },
      }),
      async (c) => {
        const { orgId, projectId, diffId } = c.req.valid('param')
        await checkProject(ctx, orgId, projectId)
        return c.json(diffView(await getDiff(ctx.db, projectId, diffId)), 200)
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/{orgId}/projects/{projectId}/diffs/{diffId}/changes',
        tags: ['diffs'],
        summary: "A page of the diff's row changes, in (table, seq) order, filtered and searched",
        middleware: can('diffs:read'),
        security: KEY_SECURITY,
        request: {
          params: DiffParams,
          query: ChangeFilterQuery.extend({
            /** The previous page's `nextCursor`. */
            cursor: z.string().min(1).max(2048).optional(),
            limit: z.coerce.number().int().min(1).max(500).default(100),
          }),
        },
        responses: {
          200: {
            description:
              'A page of changes; `nextCursor` is the next page’s cursor (null at the end). A succeeded diff’s pages carry an ETag and are immutable',
            ...jsonContent(
              z.object({ items: z.array(DiffChangeSchema), nextCursor: z.string().nullable() }),
            ),
          },
          304: { description: 'Not modified: the page of If-None-Match' },
          ...errorResponses(400, 401, 403, 404, 429),
        },
      }),
      async (c) => {
        const { orgId, projectId, diffId } = c.req.valid('param')
        await checkProject(ctx, orgId, projectId)
        const diff = await getDiff(ctx.db, projectId, diffId)
        const page = await listChanges(ctx.db, diff.id, c.req.valid('query'))
        if (cached(c, diff, page)) return c.body(null, 304)
        return c.json(page, 200)
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/{orgId}/projects/{projectId}/diffs/{diffId}/counts',
        tags: ['diffs'],
        summary: 'How many of the diff’s row changes pass the filters, per table and in all',
        middleware: can('diffs:read'),
        security: KEY_SECURITY,
        request: { params: DiffParams, query: ChangeFilterQuery },
        responses: {
          200: {
            description:
              'Counts of the changes that pass `table`, `type` and `q`, per table (tables with none left out). A succeeded diff’s counts carry an ETag and are immutable',
            ...jsonContent(
              z.object({ total: z.number().int(), tables: z.array(TableCountsSchema) }),
            ),
          },
          304: { description: 'Not modified: the counts of If-None-Match' },
          ...errorResponses(400, 401, 403, 404, 429),
        },
      }),
      async (c) => {
        const { orgId, projectId, diffId } = c.req.valid('param')
        await checkProject(ctx, orgId, projectId)
        const diff = await getDiff(ctx.db, projectId, diffId)
        const counts = await countChanges(ctx.db, diff.id, c.req.valid('query'))
        if (cached(c, diff, counts)) return c.body(null, 304)
        return c.json(counts, 200)
      },
    )
    .openapi(
      createRoute({
        method: 'get',
        path: '/{orgId}/projects/{projectId}/diffs/{diffId}/export',
        tags: ['diffs'],
        summary: 'A succeeded diff as a file: NDJSON of its changes, or a Markdown report',
        description: `\`format=ndjson\`: every change that passes \`table\`, \`type\` and \`q\`, one a line, as \`/changes\` lists them, streamed. \`format=markdown\`: the report \`dbsnap diff --format markdown\` prints (sides, schema changes, the first ${MARKDOWN_MAX_CHANGES} changes that pass the filters and how many more, per-table counts, summary). 409 DIFF_NOT_READY until the diff succeeded.`,
        middleware: can('diffs:read'),
        security: KEY_SECURITY,
        request: {
          params: DiffParams,
          query: ChangeFilterQuery.extend({ format: z.enum(['ndjson', 'markdown']) }),
        },
        responses: {
          200: {
            description:
              'The file, as an attachment `diff-<id>.ndjson` or `diff-<id>.md`, with an ETag: a request naming it in If-None-Match gets a 304',
            content: {
              'application/x-ndjson': { schema: z.string() },
              'text/markdown': { schema: z.string() },
            },
          },
          304: { description: 'Not modified: the file of If-None-Match' },
          ...errorResponses(400, 401, 403, 404, 409, 429),
        },
      }),
      async (c) => {
        const { orgId, projectId, diffId } = c.req.valid('param')
        await checkProject(ctx, orgId, projectId)
        const { format, ...filter } = c.req.valid('query')
        const diff = await getDiff(ctx.db, projectId, diffId)
        checkExportable(diff)
        // A succeeded diff never changes: the file is named by what it is made of (the version
        // of DBSnap included, as a newer one may write it differently), and a client that has
        // it already gets a 304 before any change is read.
        const etag = strongTag([DBSNAP_VERSION, diff.id, format, filter])
        if (matches(c.req.header('if-none-match'), etag)) {
          return c.body(null, 304, { etag, 'cache-control': 'private, no-cache' })
        }
        const [text, type, extension] =
          format === 'ndjson'
            ? [ndjsonExport(ctx.db, diff, filter), 'application/x-ndjson', 'ndjson']
            : [await markdownExport(ctx.db, diff, filter), 'text/markdown', 'md']
        return c.body(encoded(text), 200, {
          'content-type': `${type}; charset=utf-8`,
          'content-disposition': `attachment; filename="diff-${diff.id}.${extension}"`,
          'cache-control': 'private, no-cache',
          etag,
        })
      },
    )
}

/**
 * Sets the caching headers of `body`, an answer about `diff`: a succeeded diff never changes, so
 * it gets a strong ETag (a hash of the body) and `immutable`; a running one `no-cache`. True when
 * If-None-Match names that ETag (answer 304).
 */
function cached(c: Context, diff: DiffWithJob, body: unknown): boolean {
  if (diff.state !== 'succeeded') {
    c.header('Cache-Control', 'private, no-cache')
    return false
  }
  const etag = strongTag(body)
  c.header('ETag', etag)
  c.header('Cache-Control', IMMUTABLE)
  return matches(c.req.header('if-none-match'), etag)
}

/** A strong ETag naming `value`: a hash of its JSON. */
function strongTag(value: unknown): string {
  const hash = createHash('sha256').update(JSON.stringify(value)).digest('base64url')
  return `"${hash.slice(0, 27)}"`
}

/** Text pieces as a byte stream that reads the next piece only when the client takes more. */
function encoded(text: AsyncIterable<string>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  const pieces = text[Symbol.asyncIterator]()
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await pieces.next()
      if (next.done === true) controller.close()
      else controller.enqueue(encoder.encode(next.value))
    },
    // The client went away: the generators stop reading (their `finally` runs).
    async cancel() {
      await pieces.return?.()
    },
  })
}
/** Exactly one of `to` and `live`; at most one of `schemaOnly` and `dataOnly`. */
function checkRequest(body: z.infer<typeof DiffRequestSchema>): void {
  if ((body.to === undefined) === (body.live === undefined)) {
    throw new ControlPlaneError(
      'INVALID_ARGUMENT',
      'expected either `to` (a snapshot id) or `live: true`, not both or neither',
    )
  }
  if (body.schemaOnly === true && body.dataOnly === true) {
    throw new ControlPlaneError(
      'INVALID_ARGUMENT',
      'expected at most one of schemaOnly and dataOnly',
    )
  }
}

/** If-None-Match names `etag` (or `*`), weak or strong. */
function matches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false
  return header
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''))
    .some((t) => t === etag || t === '*')
}
