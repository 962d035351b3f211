// The snapshot catalogue: one row per snapshot an agent reported, from the engine's snapshot
// result (checked here: it crossed the network). Listed newest first by when it finished, paged
// by an opaque cursor of (finishedAt, id).

import type { Kysely } from 'kysely'
import { z } from 'zod'
import { timestamp } from '../db/clock.js'
import type { CatalogueSnapshot, Database, Job } from '../db/schema.js'
import { ControlPlaneError, notFoundError } from '../errors.js'

/** The part of the engine's `SnapshotResult` the catalogue keeps. */
const SnapshotResultSchema = z.object({
  id: z.string().regex(/^[0-9a-f]{16,128}$/),
  name: z.string().min(1).max(256),
  repository: z.string().min(1).max(4096),
  startedAt: z.iso.datetime(),
  finishedAt: z.iso.datetime(),
  durationMs: z.number().int().min(0),
  totals: z.object({
    tables: z.number().int().min(0),
    rows: z.number().int().min(0),
    bytes: z.number().int().min(0),
    chunks: z.number().int().min(0),
    newBytes: z.number().int().min(0),
    reusedChunks: z.number().int().min(0),
  }),
  warnings: z.array(z.string()).default([]),
  // Absent from the results of agents older than the catalogue's 0009 migration.
  engine: z.string().min(1).max(32).optional(),
  serverVersion: z.string().max(256).optional(),
  schemaFingerprint: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
})

/**
 * Records the snapshot a job's result describes. A result that is not a snapshot result is an
 * `INVALID_ARGUMENT` (the agent's report is refused, nothing recorded). Reporting the same
 * snapshot again (a retried report) changes nothing.
 */
export async function recordSnapshot(
  db: Kysely<Database>,
  job: Pick<Job, 'id' | 'projectId' | 'connectionId' | 'leasedBy' | 'spec'>,
  result: unknown,
  now: Date = new Date(),
): Promise<CatalogueSnapshot> {
  const parsed = SnapshotResultSchema.safeParse(result)
  if (!parsed.success) {
    throw new ControlPlaneError('INVALID_ARGUMENT', 'the result is not a snapshot result', {
      details: { issues: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`) },
    })
  }
  const r = parsed.data
  const spec = JSON.parse(job.spec) as { tags?: Record<string, string> }
  const row: CatalogueSnapshot = {
    projectId: job.projectId,
    id: r.id,
    connectionId: job.connectionId,
    jobId: job.id,
    agentId: job.leasedBy,
    name: r.name,
    repository: r.repository,
    startedAt: timestamp(new Date(r.startedAt)),
    finishedAt: timestamp(new Date(r.finishedAt)),
    durationMs: r.durationMs,
    tables: r.totals.tables,
    rows: r.totals.rows,
    bytes: r.totals.bytes,
    newBytes: r.totals.newBytes,
    chunks: r.totals.chunks,
    reusedChunks: r.totals.reusedChunks,
    tags: JSON.stringify(spec.tags ?? {}),
    warnings: JSON.stringify(r.warnings),
    createdAt: timestamp(now),
    engine: r.engine ?? null,
    serverVersion: r.serverVersion ?? null,
    schemaFingerprint: r.schemaFingerprint ?? null,
    verifiedAt: null,
    verifyProblems: null,
  }
  // A retention may have forgotten it before its report came (outbox, a result after its lease).
  const forgotten = await db
    .selectFrom('forgottenSnapshots')
    .select('id')
    .where('projectId', '=', row.projectId)
    .where('id', '=', row.id)
    .executeTakeFirst()
  if (forgotten !== undefined) return row
  await db
    .insertInto('snapshots')
    .values(row)
    .onConflict((oc) => oc.columns(['projectId', 'id']).doNothing())
    .execute()
  return row
}

export interface SnapshotFilter {
  connectionId?: string
  name?: string
  /** The previous page's `next`. */
  cursor?: string
  limit?: number
}

const encodeCursor = (s: Pick<CatalogueSnapshot, 'finishedAt' | 'id'>): string =>
  Buffer.from(`${s.finishedAt}|${s.id}`).toString('base64url')

function decodeCursor(cursor: string): { finishedAt: string; id: string } {
  const [finishedAt, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|')
  if (finishedAt === undefined || id === undefined || Number.isNaN(Date.parse(finishedAt))) {
    throw new ControlPlaneError('INVALID_ARGUMENT', 'the cursor is not one this API gave')
  }
  return { finishedAt, id }
}

/** The project's snapshots, newest first, and the cursor of the next page (null at the end). */
export async function listSnapshots(
  db: Kysely<Database>,
  projectId: string,
  filter: SnapshotFilter = {},
): Promise<{ snapshots: CatalogueSnapshot[]; next: string | null }> {
  const limit = filter.limit ?? 50
  const after = filter.cursor === undefined ? undefined : decodeCursor(filter.cursor)
  const rows = await db
    .selectFrom('snapshots')
    .selectAll()
    .where('projectId', '=', projectId)
    .$if(filter.connectionId !== undefined, (q) =>
      q.where('connectionId', '=', filter.connectionId!),
    )
    .$if(filter.name !== undefined, (q) => q.where('name', '=', filter.name!))
    .$if(after !== undefined, (q) =>
      q.where((eb) =>
        eb.or([
          eb('finishedAt', '<', after!.finishedAt),
          eb.and([eb('finishedAt', '=', after!.finishedAt), eb('id', '<', after!.id)]),
        ]),
      ),
    )
    .orderBy('finishedAt', 'desc')
    .orderBy('id', 'desc')
    .limit(limit + 1)
    .execute()
  const page = rows.slice(0, limit)
  return { snapshots: page, next: rows.length > limit ? encodeCursor(page.at(-1)!) : null }
}

/** The project's snapshot `id`; `NOT_FOUND` when the catalogue has none. */
export async function findSnapshot(
  db: Kysely<Database>,
  projectId: string,
  id: string,
): Promise<CatalogueSnapshot> {
  const snapshot = await db
    .selectFrom('snapshots')
    .selectAll()
    .where('projectId', '=', projectId)
    .where('id', '=', id)
    .executeTakeFirst()
  if (snapshot === undefined) throw notFoundError('snapshot', id)
  return snapshot
}
