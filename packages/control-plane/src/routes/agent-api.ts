// /api/v1/agent: what `dbsnap-agent` calls. It registers once with its one-time token, then, with
// its own credential, long-polls for a job of its project, heartbeats while it runs it (learning
// whether to stop), and reports the result or the failure. Nothing here connects to the agent:
// it pulls. A report names the lease it was given; a report of a lease that expired is refused
// (409 LEASE_LOST) and the agent drops the job.
//
// The lease answer carries what the job needs to reach its database: the connection's URL
// (decrypted here, over the agent's HTTPS connection) or the reference the agent resolves itself.

import { currentTraceId } from '@dbsnap/engine/core'
import { createRoute, z } from '@hono/zod-openapi'
import type { Kysely } from 'kysely'
import type { ApiContext } from '../api/context.js'
import { AgentSchema, agentView, JobKindSchema, JobStateSchema } from '../api/job-schemas.js'
import { AGENT_SECURITY, errorResponses, jsonContent, newRouter } from '../api/router.js'
import { IdParam } from '../api/schemas.js'
import { registerAgent } from '../data/agents.js'
import { appendAuditEvent } from '../data/audit.js'
import { openCredential, openTls, type Connection } from '../data/connections.js'
import { recordOutcome } from '../data/job-outcomes.js'
import { recordDiffResult } from '../data/diffs.js'
import { afterJobSucceeded } from '../data/scheduled-jobs.js'
import { recordSnapshot } from '../data/snapshots.js'
import type { Agent, Database, Job } from '../db/schema.js'
import { authenticateAgent } from '../middleware/authenticate-agent.js'
import { clientIp } from '../middleware/client-ip.js'

/** How long a lease request waits for a job at most, and how often it looks meanwhile. */
export const MAX_WAIT_SECONDS = 30
const POLL_INTERVAL_MS = 1_000

const JobParams = z.strictObject({ jobId: IdParam })
const LeaseIdSchema = z.string().uuid()

const ConnectionForAgentSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    engine: z.enum(['postgres', 'mysql', 'mongodb']),
    /** The URL with its password: present when the control plane holds the credential. */
    url: z.string().optional(),
    /** `env:NAME` or `file:/path`: the agent resolves it on its side. */
    ref: z.string().optional(),
    tls: z
      .object({
        ca: z.string().optional(),
        cert: z.string().optional(),
        key: z.string().optional(),
      })
      .optional(),
  })
  .openapi('AgentConnection')

const LeasedJobSchema = z
  .object({
    job: z.object({
      id: z.string(),
      projectId: z.string(),
      kind: JobKindSchema,
      spec: z.record(z.string(), z.unknown()),
      attempt: z.number().int(),
      maxAttempts: z.number().int(),
      leaseId: z.string(),
      leaseExpiresAt: z.string(),
      /** Heartbeat at least this often to keep the lease. */
      heartbeatSeconds: z.number().int(),
    }),
    connection: ConnectionForAgentSchema.nullable(),
    /** The project's repository setting; null: the agent's own (DBSNAP_AGENT_REPOSITORY). */
    repository: z.string().nullable(),
  })
  .openapi('LeasedJob')

const OutcomeSchema = z.object({ state: JobStateSchema, runAfter: z.string() })

export function agentApiRoutes(ctx: ApiContext) {
  const agentOnly = authenticateAgent(ctx)
  return newRouter()
    .openapi(
      createRoute({
        method: 'post',
        path: '/register',
        tags: ['agent'],
        summary: 'Trade a one-time registration token for the agent’s own credential',
        request: {
          body: {
            required: true,
            ...jsonContent(
              z.strictObject({
                token: z.string().min(1).max(200),
                version: z.string().min(1).max(64),
                hostname: z.string().min(1).max(255),
              }),
            ),
          },
        },
        responses: {
          201: {
            description: 'Registered: keep the credential (it is not shown again)',
            ...jsonContent(z.object({ agent: AgentSchema, credential: z.string() })),
          },
          ...errorResponses(400, 401, 413, 415, 429),
        },
      }),
      async (c) => {
        await ctx.limiter.hit('authPerIp', clientIp(c, ctx.auth.trustProxy) ?? 'unknown')
        const { token, version, hostname } = c.req.valid('json')
        const { agent, credential } = await registerAgent(ctx.db, token, { version, hostname })
        ctx.logger.info({ agentId: agent.id, projectId: agent.projectId }, 'agent registered')
        return c.json({ agent: agentView(agent), credential }, 201)
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/lease',
        tags: ['agent'],
        summary: 'Lease the next job of the agent’s project, waiting up to `waitSeconds` for one',
        middleware: [agentOnly],
        security: AGENT_SECURITY,
        request: {
          body: {
            required: true,
            ...jsonContent(
              z.strictObject({
                waitSeconds: z.number().int().min(0).max(MAX_WAIT_SECONDS).default(20),
              }),
            ),
          },
        },
        responses: {
          200: { description: 'A job, leased to this agent', ...jsonContent(LeasedJobSchema) },
          204: { description: 'No job came within the wait' },
          ...errorResponses(400, 401, 413, 415, 429),
        },
      }),
      async (c) => {
        const agent = c.var.agent
        const deadline = Date.now() + c.req.valid('json').waitSeconds * 1000
        const signal = c.req.raw.signal
        for (;;) {
          const leased = await leaseOne(ctx, agent)
          if (leased !== undefined) return c.json(leased, 200)
          const remaining = deadline - Date.now()
          if (remaining <= 0 || signal.aborted) return c.body(null, 204)
          await new Promise((resolve) => setTimeout(resolve, Math.min(POLL_INTERVAL_MS, remaining)))
        }
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/jobs/{jobId}/heartbeat',
        tags: ['agent'],
        summary: 'Keep the lease and report progress; the answer says whether to stop',
        middleware: [agentOnly],
        security: AGENT_SECURITY,
        request: {
          params: JobParams,
          body: {
            required: true,
            ...jsonContent(
              z.strictObject({ leaseId: LeaseIdSchema, progress: z.unknown().optional() }),
            ),
          },
        },
        responses: {
          200: {
            description: 'The lease is extended',
            ...jsonContent(z.object({ cancelRequested: z.boolean(), leaseExpiresAt: z.string() })),
          },
          ...errorResponses(400, 401, 409, 413, 415, 429),
        },
      }),
      async (c) => {
        const { leaseId, progress } = c.req.valid('json')
        const beat = await ctx.queue.heartbeat(c.req.valid('param').jobId, leaseId, progress)
        return c.json(beat, 200)
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/jobs/{jobId}/result',
        tags: ['agent'],
        summary: 'Report that the job succeeded, with its result',
        middleware: [agentOnly],
        security: AGENT_SECURITY,
        request: {
          params: JobParams,
          body: {
            required: true,
            ...jsonContent(z.strictObject({ leaseId: LeaseIdSchema, result: z.unknown() })),
          },
        },
        responses: {
          200: { description: 'Recorded', ...jsonContent(OutcomeSchema) },
          ...errorResponses(400, 401, 409, 413, 415, 429),
        },
      }),
      async (c) => {
        const { leaseId, result } = c.req.valid('json')
        // A snapshot's result goes into the catalogue with the job's success, or neither.
        const job = await ctx.queue.succeed(
          c.req.valid('param').jobId,
          leaseId,
          result,
          new Date(),
          async (trx, done) => {
            if (done.kind === 'snapshot') await catalogue(trx, done, result)
            else if (done.kind === 'diff') await recordDiffResult(trx, done, leaseId, result)
            else await recordOutcome(trx, done, result, { leased: true })
            await afterJobSucceeded(trx, ctx.queue, done, result)
          },
        )
        return c.json({ state: job.state, runAfter: job.runAfter }, 200)
      },
    )
    .openapi(
      createRoute({
        method: 'post',
        path: '/jobs/{jobId}/failure',
        tags: ['agent'],
        summary: 'Report that the job failed: retried later when the error is retryable',
        middleware: [agentOnly],
        security: AGENT_SECURITY,
        request: {
          params: JobParams,
          body: {
            required: true,
            ...jsonContent(
              z.strictObject({
                leaseId: LeaseIdSchema,
                error: z.strictObject({
                  code: z.string().min(1).max(64),
                  message: z.string().max(4096),
                  retryable: z.boolean(),
                  stack: z.string().max(16_384).optional(),
                }),
              }),
            ),
          },
        },
        responses: {
          200: {
            description: 'Recorded; `state` says what becomes of the job',
            ...jsonContent(OutcomeSchema),
          },
          ...errorResponses(400, 401, 409, 413, 415, 429),
        },
      }),
      async (c) => {
        const { leaseId, error } = c.req.valid('json')
        const job = await ctx.queue.fail(c.req.valid('param').jobId, leaseId, error)
        return c.json({ state: job.state, runAfter: job.runAfter }, 200)
      },
    )
}

type LeasedJob = z.infer<typeof LeasedJobSchema>

/** Records a snapshot job's result in the catalogue, with its `snapshot.created` audit event. */
export async function catalogue(trx: Kysely<Database>, job: Job, result: unknown): Promise<void> {
  const snapshot = await recordSnapshot(trx, job, result)
  const project = await trx
    .selectFrom('projects')
    .select('orgId')
    .where('id', '=', job.projectId)
    .executeTakeFirstOrThrow()
  const traceId = currentTraceId()
  await appendAuditEvent(trx, {
    actorType: 'system',
    ...(job.leasedBy === null ? {} : { actorId: job.leasedBy }),
    orgId: project.orgId,
    action: 'snapshot.created',
    targetType: 'snapshot',
    targetId: snapshot.id,
    ...(traceId === undefined ? {} : { traceId }),
    details: {
      projectId: job.projectId,
      connectionId: job.connectionId,
      jobId: job.id,
      agentId: job.leasedBy,
      rows: snapshot.rows,
      newBytes: snapshot.newBytes,
    },
  })
}

/**
 * Leases the agent's next job with what it needs to reach its database. A job whose credential
 * cannot be opened here (its key is gone) fails at once, not retried, and the next is tried.
 */
async function leaseOne(ctx: ApiContext, agent: Agent): Promise<LeasedJob | undefined> {
  for (;;) {
    const job = await ctx.queue.lease(agent.id, agent.projectId)
    if (job === undefined) return undefined
    try {
      const connection =
        job.connectionId === null
          ? undefined
          : await ctx.db
              .selectFrom('connections')
              .selectAll()
              .where('id', '=', job.connectionId)
              .executeTakeFirst()
      const project = await ctx.db
        .selectFrom('projects')
        .select('repository')
        .where('id', '=', job.projectId)
        .executeTakeFirst()
      return {
        job: leasedJobView(job, ctx.queue.leaseMs),
        connection: connection === undefined ? null : connectionForAgent(ctx, connection),
        repository: project?.repository ?? null,
      }
    } catch (err) {
      const code = (err as { code?: unknown }).code
      ctx.logger.warn({ jobId: job.id, code }, 'a leased job cannot be handed to its agent')
      await ctx.queue.fail(job.id, job.leaseId!, {
        code: typeof code === 'string' ? code : 'INTERNAL',
        message: 'the control plane cannot open the connection’s stored credential',
        retryable: false,
      })
    }
  }
}

function leasedJobView(job: Job, leaseMs: number): LeasedJob['job'] {
  return {
    id: job.id,
    projectId: job.projectId,
    kind: job.kind,
    spec: JSON.parse(job.spec) as Record<string, unknown>,
    attempt: job.attempts,
    maxAttempts: job.maxAttempts,
    leaseId: job.leaseId!,
    leaseExpiresAt: job.leaseExpiresAt!,
    heartbeatSeconds: Math.max(1, Math.floor(leaseMs / 3000)),
  }
}

export function connectionForAgent(
  ctx: ApiContext,
  row: Connection,
): z.infer<typeof ConnectionForAgentSchema> {
  const url = openCredential(ctx.secrets, row)
  const tls = openTls(ctx.secrets, row)
  return {
    id: row.id,
    name: row.name,
    engine: row.engine,
    ...(url === undefined ? {} : { url }),
    ...(row.credentialRef === null ? {} : { ref: row.credentialRef }),
    ...(tls === undefined ? {} : { tls }),
  }
}
