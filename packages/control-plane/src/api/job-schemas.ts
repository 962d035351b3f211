// The shapes of agents and jobs in the API: what the web view, scripts and the agent read.
// Stored JSON (spec, progress, result, error) is parsed for the caller; an error's stack only
// reaches an organisation's admins.

import { z } from '@hono/zod-openapi'
import type { Agent, CatalogueSnapshot, Job, JobEvent } from '../db/schema.js'

export const JobKindSchema = z
  .enum(['snapshot', 'diff', 'verify', 'retention', 'export', 'connection-test', 'restore'])
  .openapi('JobKind')

export const JobStateSchema = z
  .enum(['pending', 'running', 'succeeded', 'failed', 'dead', 'cancelled'])
  .openapi('JobState')

export const AgentSchema = z
  .object({
    id: z.string(),
    /** Null for the control plane's embedded agent, which runs every project's jobs. */
    projectId: z.string().nullable(),
    name: z.string(),
    /** False until it trades its registration token for a credential. */
    registered: z.boolean(),
    version: z.string().nullable(),
    hostname: z.string().nullable(),
    lastSeenAt: z.string().nullable(),
    createdAt: z.string(),
    revokedAt: z.string().nullable(),
  })
  .openapi('Agent')

export function agentView(agent: Agent): z.infer<typeof AgentSchema> {
  return {
    id: agent.id,
    projectId: agent.projectId,
    name: agent.name,
    registered: agent.registeredAt !== null,
    version: agent.version,
    hostname: agent.hostname,
    lastSeenAt: agent.lastSeenAt,
    createdAt: agent.createdAt,
    revokedAt: agent.revokedAt,
  }
}

export const JobErrorSchema = z
  .object({
    code: z.string(),
    message: z.string(),
    retryable: z.boolean(),
    /** Admins only. */
    stack: z.string().optional(),
  })
  .openapi('JobError')

export const JobSchema = z
  .object({
    id: z.string(),
    projectId: z.string(),
    connectionId: z.string().nullable(),
    kind: JobKindSchema,
    spec: z.record(z.string(), z.unknown()),
    state: JobStateSchema,
    attempts: z.number().int(),
    maxAttempts: z.number().int(),
    runAfter: z.string(),
    /** The agent that ran it last. */
    agentId: z.string().nullable(),
    leaseExpiresAt: z.string().nullable(),
    cancelRequested: z.boolean(),
    /** The agent's last progress event (the engine's job progress). */
    progress: z.unknown().nullable(),
    result: z.unknown().nullable(),
    error: JobErrorSchema.nullable(),
    createdBy: z.string(),
    createdAt: z.string(),
    startedAt: z.string().nullable(),
    finishedAt: z.string().nullable(),
  })
  .openapi('Job')

export const JobEventSchema = z
  .object({
    at: z.string(),
    type: z.string(),
    agentId: z.string().nullable(),
    attempt: z.number().int(),
    details: z.record(z.string(), z.unknown()),
  })
  .openapi('JobEvent')

const parsed = (json: string | null): unknown => (json === null ? null : JSON.parse(json))

export function jobView(job: Job, options: { stack: boolean }): z.infer<typeof JobSchema> {
  const error = parsed(job.error) as z.infer<typeof JobErrorSchema> | null
  if (error !== null && !options.stack) delete error.stack
  return {
    id: job.id,
    projectId: job.projectId,
    connectionId: job.connectionId,
    kind: job.kind,
    spec: parsed(job.spec) as Record<string, unknown>,
    state: job.state,
    attempts: job.attempts,
    maxAttempts: job.maxAttempts,
    runAfter: job.runAfter,
    agentId: job.leasedBy,
    leaseExpiresAt: job.leaseExpiresAt,
    cancelRequested: job.cancelRequestedAt !== null,
    progress: parsed(job.progress),
    result: parsed(job.result),
    error,
    createdBy: job.createdBy,
    createdAt: job.createdAt,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
  }
}

export function jobEventView(event: JobEvent): z.infer<typeof JobEventSchema> {
  return {
    at: event.at,
    type: event.type,
    agentId: event.agentId,
    attempt: event.attempt,
    details: JSON.parse(event.details) as Record<string, unknown>,
  }
}

export const CatalogueSnapshotSchema = z
  .object({
    id: z.string(),
    projectId: z.string(),
    connectionId: z.string().nullable(),
    jobId: z.string().nullable(),
    agentId: z.string().nullable(),
    name: z.string(),
    repository: z.string(),
    startedAt: z.string(),
    finishedAt: z.string(),
    durationMs: z.number().int(),
    tables: z.number().int(),
    rows: z.number().int(),
    bytes: z.number().int(),
    newBytes: z.number().int(),
    chunks: z.number().int(),
    reusedChunks: z.number().int(),
    tags: z.record(z.string(), z.string()),
    warnings: z.array(z.string()),
    /** `postgres`, `mysql` or `mongodb`; null for snapshots catalogued before the control plane knew it. */
    engine: z.string().nullable(),
    /** The version the server reported when the snapshot was taken. */
    serverVersion: z.string().nullable(),
    /** SHA-256 of the snapshot's schema: equal fingerprints, same tables, columns, keys and indexes. */
    schemaFingerprint: z.string().nullable(),
    /** When a verify job last checked it, and how many problems that job found in it. */
    verifiedAt: z.string().nullable(),
    verifyProblems: z.number().int().nullable(),
  })
  .openapi('Snapshot')

export function catalogueSnapshotView(
  s: CatalogueSnapshot,
): z.infer<typeof CatalogueSnapshotSchema> {
  return {
    id: s.id,
    projectId: s.projectId,
    connectionId: s.connectionId,
    jobId: s.jobId,
    agentId: s.agentId,
    name: s.name,
    repository: s.repository,
    startedAt: s.startedAt,
    finishedAt: s.finishedAt,
    durationMs: s.durationMs,
    tables: s.tables,
    rows: s.rows,
    bytes: s.bytes,
    newBytes: s.newBytes,
    chunks: s.chunks,
    reusedChunks: s.reusedChunks,
    tags: JSON.parse(s.tags) as Record<string, string>,
    warnings: JSON.parse(s.warnings) as string[],
    engine: s.engine,
    serverVersion: s.serverVersion,
    schemaFingerprint: s.schemaFingerprint,
    verifiedAt: s.verifiedAt,
    verifyProblems: s.verifyProblems,
  }
}
