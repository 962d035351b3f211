// A schedule's tick run on the agent itself, because the control plane could not be reached: the
// snapshot, then the schedule's retention (forget + prune on the connection's catalogue name),
// each reported through the outbox as a job this agent ran on its own. The specs are built as
// the control plane would have built them, so the catalogue cannot tell the difference.

import { randomUUID } from 'node:crypto'
import type { Logger } from '@dbsnap/engine/core'
import type { AgentSchedule, LeasedJob, LocalJobReport } from './control-plane-client.js'
import { engineSpec } from './engine-spec.js'
import type { Outbox } from './outbox.js'
import { compact, failureOf, type RunJob } from './runner.js'

export interface LocalRunContext {
  runJob: RunJob
  outbox: Outbox
  repository: string | undefined
  logger: Logger
  signal?: AbortSignal
}

/** Runs the schedule's snapshot and, when it succeeded and the schedule has one, its retention. */
export async function runScheduleLocally(
  schedule: AgentSchedule,
  at: Date,
  context: LocalRunContext,
): Promise<void> {
  const snapshotSpec = {
    kind: 'snapshot',
    connectionId: schedule.connectionId,
    tags: { schedule: schedule.id, scheduledAt: at.toISOString() },
  }
  const snapshot = await runOne(schedule, at, 'snapshot', snapshotSpec, context)
  const name = (snapshot as { name?: unknown } | undefined)?.name
  if (schedule.retention === null || typeof name !== 'string') return
  const retentionSpec = {
    kind: 'retention',
    connectionId: schedule.connectionId,
    policy: schedule.retention,
    names: [name],
    prune: true,
  }
  await runOne(schedule, at, 'retention', retentionSpec, context)
}

/** Runs one job here and keeps its report in the outbox; its result, or undefined if it failed. */
async function runOne(
  schedule: AgentSchedule,
  at: Date,
  kind: 'snapshot' | 'retention',
  spec: Record<string, unknown>,
  context: LocalRunContext,
): Promise<unknown> {
  const log = context.logger.child({ scheduleId: schedule.id, kind, local: true })
  const leased: LeasedJob = {
    job: {
      id: `local-${randomUUID()}`,
      projectId: schedule.projectId,
      kind,
      spec,
      attempt: 1,
      maxAttempts: 1,
      leaseId: '',
      leaseExpiresAt: '',
      heartbeatSeconds: 0,
    },
    connection: schedule.connection,
  }
  const startedAt = new Date().toISOString()
  const report: Omit<LocalJobReport, 'finishedAt'> = {
    clientJobId: randomUUID(),
    kind,
    connectionId: schedule.connectionId,
    scheduleId: schedule.id,
    scheduledAt: at.toISOString(),
    spec,
    startedAt,
  }
  let result: unknown
  try {
    const engine = await engineSpec(leased, { repository: context.repository })
    result = compact(
      await context.runJob(engine, {
        signal: context.signal ?? new AbortController().signal,
        onEvent: () => undefined,
      }),
    )
  } catch (err) {
    const { code, message, retryable } = failureOf(err, undefined)
    log.warn({ code }, `local ${kind} failed: ${message}`)
    await context.outbox.submit({
      type: 'local',
      report: {
        ...report,
        finishedAt: new Date().toISOString(),
        error: { code, message, retryable },
      },
    })
    return undefined
  }
  log.info('local job succeeded')
  await context.outbox.submit({
    type: 'local',
    report: { ...report, finishedAt: new Date().toISOString(), result },
  })
  return result
}
