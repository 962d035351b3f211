// What a job's success changes besides the job (snapshots have theirs in data/snapshots.ts): a
// retention job removes the snapshots it forgot from the catalogue, and a verify job records when
// each snapshot it checked was verified and how many problems it found there. Run in the
// transaction that records the success, so the catalogue and the job agree.

import { currentTraceId } from '@dbsnap/engine/core'
import type { Kysely } from 'kysely'
import { z } from 'zod'
import { timestamp } from '../db/clock.js'
import type { Database, Job } from '../db/schema.js'
import { appendAuditEvent } from './audit.js'

/** The part of the engine's forget job result the catalogue needs. */
const ForgetResultSchema = z.object({
  dryRun: z.boolean(),
  snapshots: z.array(z.object({ id: z.string(), keep: z.boolean() })),
})

/** The part of the engine's verify result the catalogue needs (absent when it was truncated). */
const VerifyResultSchema = z.object({
  problems: z.array(z.object({ snapshots: z.array(z.string()) })),
})

/** Applies a succeeded job's result to the catalogue; kinds without one change nothing. */
export async function recordOutcome(
  trx: Kysely<Database>,
  job: Job,
  result: unknown,
  now: Date = new Date(),
): Promise<void> {
  if (job.kind === 'retention') await forgetInCatalogue(trx, job, result)
  else if (job.kind === 'verify') await markVerified(trx, job, result, now)
}

async function forgetInCatalogue(trx: Kysely<Database>, job: Job, result: unknown) {
  const parsed = ForgetResultSchema.safeParse(result)
  if (!parsed.success || parsed.data.dryRun) return
  const forgotten = parsed.data.snapshots.filter((s) => !s.keep).map((s) => s.id)
  if (forgotten.length === 0) return
  // Remembered, so that a report of one of them that comes later (an agent's outbox, a result
  // after its lease) does not bring it back (data/snapshots.ts).
  await trx
    .insertInto('forgottenSnapshots')
    .values(forgotten.map((id) => ({ projectId: job.projectId, id, forgottenAt: timestamp() })))
    .onConflict((oc) => oc.columns(['projectId', 'id']).doNothing())
    .execute()
  await trx
    .deleteFrom('snapshots')
    .where('projectId', '=', job.projectId)
    .where('id', 'in', forgotten)
    .execute()
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
    action: 'snapshot.forgotten',
    targetType: 'connection',
    ...(job.connectionId === null ? {} : { targetId: job.connectionId }),
    ...(traceId === undefined ? {} : { traceId }),
    details: { projectId: job.projectId, jobId: job.id, snapshots: forgotten },
  })
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
