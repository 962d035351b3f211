// What follows a job's success beyond the job itself, and the jobs an agent ran on its own.
//
// - After a scheduled snapshot succeeds, its schedule's retention policy becomes a retention job
//   (the engine's forget + prune, on the connection's catalogue name), in the job's own
//   transaction; what the retention forgot leaves the catalogue then (data/job-outcomes.ts).
// - An agent that could not reach the control plane runs its schedules itself and keeps the
//   reports in its outbox; delivered, each becomes a job created and finished by that agent
//   (`recordLocalJob`), once, however often it is delivered (keyed by the agent's job id).

import type { Kysely } from 'kysely'
import { timestamp } from '../db/clock.js'
import { newId } from '../db/ids.js'
import type { Agent, Database, Job } from '../db/schema.js'
import { ControlPlaneError, notFoundError } from '../errors.js'
import type { JobQueue } from './jobs.js'
import { recordOutcome } from './job-outcomes.js'
import { createKeyedJob, enqueueRetentionAfter } from './schedules.js'

/** Runs in the transaction that records `job`'s success (the result route's, or a local job's). */
export async function afterJobSucceeded(
  trx: Kysely<Database>,
  queue: JobQueue,
  job: Job,
  result: unknown,
): Promise<void> {
  if (job.kind === 'snapshot' && job.createdBy.startsWith('schedule:')) {
    const name = (result as { name?: unknown } | null)?.name
    if (typeof name === 'string') await enqueueRetentionAfter(trx, queue, job, name)
  }
}

/** A job an agent ran on its own while the control plane was away, as its outbox delivers it. */
export interface LocalJobReport {
  /** The agent's id for it (a UUID): delivering it again changes nothing. */
  clientJobId: string
  kind: 'snapshot' | 'retention'
  connectionId: string
  /** The schedule whose tick it ran, if any. */
  scheduleId?: string | undefined
  scheduledAt?: string | undefined
  /** The job of the control plane it finished after that job's lease was lost, if any. */
  leasedJobId?: string | undefined
  spec: Record<string, unknown>
  startedAt: string
  finishedAt: string
  result?: unknown
  error?: { code: string; message: string; retryable: boolean } | undefined
}

/**
 * Records a local job as created and finished by `agent`: `succeeded` with its result (a
 * snapshot then enters the catalogue through `catalogue`), or `failed` with its error.
 */
export async function recordLocalJob(
  db: Kysely<Database>,
  queue: JobQueue,
  agent: Agent,
  report: LocalJobReport,
  catalogue: (trx: Kysely<Database>, job: Job, result: unknown) => Promise<void>,
  now: Date = new Date(),
): Promise<{ job: Job; created: boolean }> {
  const connection = await db
    .selectFrom('connections')
    .select(['id', 'projectId'])
    .where('id', '=', report.connectionId)
    .executeTakeFirst()
  if (
    connection === undefined ||
    (agent.projectId !== null && agent.projectId !== connection.projectId)
  ) {
    throw notFoundError('connection', report.connectionId)
  }
  if ((report.result === undefined) === (report.error === undefined)) {
    throw new ControlPlaneError('INVALID_ARGUMENT', 'a local job has either a result or an error')
  }
  const key = `local:${agent.id}:${report.clientJobId}`
  return createKeyedJob(db, key, async (trx) => {
    const at = timestamp(now)
    const succeeded = report.error === undefined
    const job: Job = {
      id: newId(now.getTime()),
      projectId: connection.projectId,
      connectionId: connection.id,
      kind: report.kind,
      spec: JSON.stringify(report.spec),
      state: succeeded ? 'succeeded' : 'failed',
      attempts: 1,
      maxAttempts: 1,
      runAfter: timestamp(new Date(report.startedAt)),
      leaseId: null,
      leasedBy: agent.id,
      leaseExpiresAt: null,
      cancelRequestedAt: null,
      progress: null,
      result: succeeded ? JSON.stringify(report.result ?? null) : null,
      error: succeeded ? null : JSON.stringify(report.error),
      createdBy:
        report.scheduleId === undefined ? `agent:${agent.id}` : `schedule:${report.scheduleId}`,
      createdAt: at,
      updatedAt: at,
      startedAt: timestamp(new Date(report.startedAt)),
      finishedAt: timestamp(new Date(report.finishedAt)),
    }
    await trx.insertInto('jobs').values(job).execute()
    const event = (type: string, details: Record<string, unknown>) =>
      trx
        .insertInto('jobEvents')
        .values({
          id: newId(),
          jobId: job.id,
          at,
          type,
          agentId: agent.id,
          attempt: 1,
          details: JSON.stringify(details),
        })
        .execute()
    await event('created', {
      createdBy: job.createdBy,
      local: true,
      ...(report.scheduledAt === undefined ? {} : { scheduledAt: report.scheduledAt }),
      ...(report.leasedJobId === undefined ? {} : { leasedJobId: report.leasedJobId }),
    })
    if (succeeded) {
      if (job.kind === 'snapshot') await catalogue(trx, job, report.result)
      else await recordOutcome(trx, job, report.result)
      await event('succeeded', {})
    } else {
      await event('failed', { code: report.error!.code, message: report.error!.message })
    }
    return job
  })
}
