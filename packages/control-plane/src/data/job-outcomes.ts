// What a job's success changes besides the job (snapshots have theirs in data/snapshots.ts): a
// retention job removes from the catalogue the snapshots it forgot, and those the catalogue holds
// that its listing shows gone; a verify job records when each snapshot it checked was verified and
// how many problems it found there. Run in the transaction that records the success, so the
// catalogue and the job agree.

import { currentTraceId } from '@dbsnap/engine/core'
import type { Kysely } from 'kysely'
import { z } from 'zod'
import { timestamp } from '../db/clock.js'
import type { Database, Job } from '../db/schema.js'
import { appendAuditEvent } from './audit.js'

/** The part of the engine's forget job result the catalogue needs. */
const ForgetResultSchema = z.object({
  // Absent from the results of agents older than the reconciliation.
  repository: z.string().min(1).max(4096).optional(),
  dryRun: z.boolean(),
  snapshots: z.array(z.object({ id: z.string(), name: z.string(), keep: z.boolean() })),
})

/** The part of the engine's verify result the catalogue needs (absent when it was truncated). */
const VerifyResultSchema = z.object({
  problems: z.array(z.object({ snapshots: z.array(z.string()) })),
})

export interface OutcomeOptions {
  now?: Date
  /**
   * The job was leased from the queue, so its `startedAt` is this control plane's time of its
   * first lease; a job an agent ran on its own and reported later has the agent's time there.
   */
  leased?: boolean
}

/** Applies a succeeded job's result to the catalogue; kinds without one change nothing. */
export async function recordOutcome(
  trx: Kysely<Database>,
  job: Job,
  result: unknown,
  { now = new Date(), leased = false }: OutcomeOptions = {},
): Promise<void> {
  if (job.kind === 'retention') await forgetInCatalogue(trx, job, result, leased)
  else if (job.kind === 'verify') await markVerified(trx, job, result, now)
}

async function forgetInCatalogue(
  trx: Kysely<Database>,
  job: Job,
  result: unknown,
  leased: boolean,
) {
  const parsed = ForgetResultSchema.safeParse(result)
  if (!parsed.success || parsed.data.dryRun) return
  const project = await trx
    .selectFrom('projects')
    .select(['orgId', 'repository'])
    .where('id', '=', job.projectId)
    .executeTakeFirstOrThrow()
  const forgotten = parsed.data.snapshots.filter((s) => !s.keep).map((s) => s.id)
  const missing = leased ? await goneFromRepository(trx, job, project.repository, parsed.data) : []
  const gone = [...forgotten, ...missing]
  if (gone.length === 0) return
  // Remembered, so that a report of one of them that comes later (an agent's outbox, a result
  // after its lease) does not bring it back (data/snapshots.ts).
  await trx
    .insertInto('forgottenSnapshots')
    .values(gone.map((id) => ({ projectId: job.projectId, id, forgottenAt: timestamp() })))
    .onConflict((oc) => oc.columns(['projectId', 'id']).doNothing())
    .execute()
  await trx
    .deleteFrom('snapshots')
    .where('projectId', '=', job.projectId)
    .where('id', 'in', gone)
    .execute()
  const traceId = currentTraceId()
  await appendAuditEvent(trx, {
    actorType: 'system',
    ...(job.leasedBy === null ? {} : { actorId: job.leasedBy }),
    orgId: project.orgId,
    action: 'snapshot.forgotten',
    targetType: 'connection',
    ...(job.connectionId === null ? {} : { targetId: job.connectionId }),
    ...(traceId === undefined ? {} : { traceId }),
    details: {
      projectId: job.projectId,
      jobId: job.id,
      snapshots: forgotten,
      ...(missing.length === 0 ? {} : { missing }),
    },
  })
}

/**
 * The catalogued snapshots a retention's listing shows gone from its repository: of the names it
 * listed, in the same repository (and, when the project has no shared one, by the same agent),
 * catalogued before the job was first leased, and not listed. Such a snapshot was written before
 * the listing, so it is not there because something forgot it: a retention whose report was lost
 * (an agent killed between its forget and its outbox), or a `dbsnap forget` run by hand. Snapshots
 * catalogued later may have been written after the listing, and wait for the next retention.
 */
async function goneFromRepository(
  trx: Kysely<Database>,
  job: Job,
  projectRepository: string | null,
  listing: z.infer<typeof ForgetResultSchema>,
): Promise<string[]> {
  const names = [...new Set(listing.snapshots.map((s) => s.name))]
  if (listing.repository === undefined || job.startedAt === null || names.length === 0) return []
  let candidates = trx
    .selectFrom('snapshots')
    .select('id')
    .where('projectId', '=', job.projectId)
    .where('repository', '=', listing.repository)
    .where('name', 'in', names)
    .where('createdAt', '<', job.startedAt)
  if (projectRepository === null) {
    // Each agent's own repository: the same path on two machines is two repositories.
    if (job.leasedBy === null) return []
    candidates = candidates.where('agentId', '=', job.leasedBy)
  }
  const listed = new Set(listing.snapshots.map((s) => s.id))
  return (await candidates.execute()).map((s) => s.id).filter((id) => !listed.has(id))
}

async function markVerified(trx: Kysely<Database>, job: Job, result: unknown, now: Date) {
  const parsed = VerifyResultSchema.safeParse(result)
  if (!parsed.success) return
  const problems = new Map<string, number>()
  for (const problem of parsed.data.problems) {
    for (const id of problem.snapshots) problems.set(id, (problems.get(id) ?? 0) + 1)
  }
  const spec = JSON.parse(job.spec) as { snapshots?: string[] }
  const checked =
    spec.snapshots ??
    (
      await trx
        .selectFrom('snapshots')
        .select('id')
        .where('projectId', '=', job.projectId)
        .execute()
    ).map((s) => s.id)
  const at = timestamp(now)
  for (const id of checked) {
    await trx
      .updateTable('snapshots')
      .set({ verifiedAt: at, verifyProblems: problems.get(id) ?? 0 })
      .where('projectId', '=', job.projectId)
      .where('id', '=', id)
      .execute()
  }
}
