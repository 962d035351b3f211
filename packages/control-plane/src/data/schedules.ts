// A connection's schedules: a cron expression (croner's syntax: 5 fields, or 6 with seconds) read
// in an IANA time zone, enabled or paused, with the retention policy run after each scheduled
// snapshot. The agents of the project fetch them (`GET /agent/schedules`) and run them, also
// while the control plane is away; a tick becomes a job here once, however many agents ask
// (`runScheduleTick`, keyed by schedule and scheduled time).

import { Cron } from 'croner'
import type { Kysely } from 'kysely'
import { z } from '@hono/zod-openapi'
import { timestamp } from '../db/clock.js'
import { newId } from '../db/ids.js'
import type { Database, Job, Schedule } from '../db/schema.js'
import { inTransaction } from '../db/transaction.js'
import { ControlPlaneError, notFoundError } from '../errors.js'
import type { JobQueue } from './jobs.js'
import { findConnection, type ConnectionScope } from './connections.js'

const count = z.number().int().min(0).max(100_000)

/** A retention policy as the engine's forget job takes it; at least one rule. */
export const RetentionPolicySchema = z
  .strictObject({
    keepLast: count.optional(),
    keepDaily: count.optional(),
    keepWeekly: count.optional(),
    keepMonthly: count.optional(),
    keepYearly: count.optional(),
    keepWithin: z
      .string()
      .regex(/^\d+(ms|s|m|h|d|w|y)$/, 'expected a duration such as 12h, 30d or 1y')
      .optional(),
  })
  .refine((p) => Object.values(p).some((v) => v !== undefined), {
    message: 'expected at least one rule (keepLast, keepDaily, …)',
  })

export type RetentionPolicy = z.infer<typeof RetentionPolicySchema>

export interface ScheduleInput {
  cron?: string | undefined
  timezone?: string | undefined
  enabled?: boolean | undefined
  retention?: RetentionPolicy | null | undefined
}

/** The croner job of an expression in a time zone; INVALID_ARGUMENT naming the field otherwise. */
export function cronOf(cron: string, timezone: string): Cron {
  try {
    Intl.DateTimeFormat('en', { timeZone: timezone })
  } catch {
    throw invalid('timezone', `expected an IANA time zone such as Europe/Paris, got ${timezone}`)
  }
  try {
    return new Cron(cron, { timezone, paused: true })
  } catch (err) {
    throw invalid(
      'cron',
      `expected a cron expression such as "0 3 * * *": ${(err as Error).message}`,
    )
  }
}

function invalid(field: string, message: string): ControlPlaneError {
  return new ControlPlaneError('INVALID_ARGUMENT', `${field}: ${message}`, {
    details: { fields: [{ path: field, message }] },
  })
}

/** The next time the schedule runs after `now`; null when paused or the expression never fires again. */
export function nextRunAt(schedule: Schedule, now: Date = new Date()): string | null {
  if (schedule.pausedAt !== null) return null
  return cronOf(schedule.cron, schedule.timezone).nextRun(now)?.toISOString() ?? null
}

export async function listSchedules(
  db: Kysely<Database>,
  scope: ConnectionScope,
  connectionId: string,
): Promise<Schedule[]> {
  await connectionOf(db, scope, connectionId)
  return db
    .selectFrom('schedules')
    .selectAll()
    .where('connectionId', '=', connectionId)
    .orderBy('createdAt')
    .orderBy('id')
    .execute()
}

export async function createSchedule(
  db: Kysely<Database>,
  scope: ConnectionScope,
  connectionId: string,
  input: ScheduleInput & { cron: string },
  createdBy: string,
  now: Date = new Date(),
): Promise<Schedule> {
  await connectionOf(db, scope, connectionId)
  const timezone = input.timezone ?? 'UTC'
  cronOf(input.cron, timezone)
  const at = timestamp(now)
  const row: Schedule = {
    id: newId(now.getTime()),
    projectId: scope.projectId,
    connectionId,
    cron: input.cron,
    timezone,
    pausedAt: input.enabled === false ? at : null,
    retention: input.retention == null ? null : JSON.stringify(input.retention),
    lastRunAt: null,
    createdBy,
    createdAt: at,
    updatedAt: at,
  }
  await db.insertInto('schedules').values(row).execute()
  return row
}

export async function updateSchedule(
  db: Kysely<Database>,
  scope: ConnectionScope,
  connectionId: string,
  scheduleId: string,
  change: ScheduleInput,
  now: Date = new Date(),
): Promise<Schedule> {
  const current = await findSchedule(db, scope, connectionId, scheduleId)
  const cron = change.cron ?? current.cron
  const timezone = change.timezone ?? current.timezone
  cronOf(cron, timezone)
  const at = timestamp(now)
  return db
    .updateTable('schedules')
    .set({
      cron,
      timezone,
      ...(change.enabled === undefined
        ? {}
        : { pausedAt: change.enabled ? null : (current.pausedAt ?? at) }),
      ...(change.retention === undefined
        ? {}
        : { retention: change.retention === null ? null : JSON.stringify(change.retention) }),
      updatedAt: at,
    })
    .where('id', '=', scheduleId)
    .returningAll()
    .executeTakeFirstOrThrow()
}

export async function deleteSchedule(
  db: Kysely<Database>,
  scope: ConnectionScope,
  connectionId: string,
  scheduleId: string,
): Promise<void> {
  await findSchedule(db, scope, connectionId, scheduleId)
  await db.deleteFrom('schedules').where('id', '=', scheduleId).execute()
}

async function connectionOf(db: Kysely<Database>, scope: ConnectionScope, connectionId: string) {
  const connection = await findConnection(db, scope, connectionId)
  if (connection === undefined) throw notFoundError('connection', connectionId)
  return connection
}

async function findSchedule(
  db: Kysely<Database>,
  scope: ConnectionScope,
  connectionId: string,
  scheduleId: string,
): Promise<Schedule> {
  await connectionOf(db, scope, connectionId)
  const row = await db
    .selectFrom('schedules')
    .selectAll()
    .where('id', '=', scheduleId)
    .where('connectionId', '=', connectionId)
    .executeTakeFirst()
  if (row === undefined) throw notFoundError('schedule', scheduleId)
  return row
}

/** The enabled schedules an agent runs: of its project; every project's for the embedded agent. */
export async function schedulesForAgent(
  db: Kysely<Database>,
  projectId: string | null,
): Promise<{ schedules: Schedule[] }> {
  const schedules = await db
    .selectFrom('schedules')
    .selectAll()
    .$if(projectId !== null, (q) => q.where('projectId', '=', projectId!))
    .where('pausedAt', 'is', null)
    .orderBy('id')
    .execute()
  return { schedules }
}

/**
 * Creates the snapshot job of a schedule's tick, once: the key (schedule, scheduled time) makes
 * a second ask — another agent of the project, a retry — return the job the first one made.
 */
export async function runScheduleTick(
  db: Kysely<Database>,
  queue: JobQueue,
  schedule: Pick<Schedule, 'id' | 'projectId' | 'connectionId'>,
  scheduledAt: Date,
): Promise<{ job: Job; created: boolean }> {
  const key = `schedule:${schedule.id}:${scheduledAt.toISOString()}`
  return createKeyedJob(db, key, async (trx) => {
    await trx
      .updateTable('schedules')
      .set({ lastRunAt: timestamp(scheduledAt) })
      .where('id', '=', schedule.id)
      .where((eb) =>
        eb.or([eb('lastRunAt', 'is', null), eb('lastRunAt', '<', timestamp(scheduledAt))]),
      )
      .execute()
    return queue.in(trx).enqueue({
      projectId: schedule.projectId,
      connectionId: schedule.connectionId,
      kind: 'snapshot',
      spec: {
        kind: 'snapshot',
        connectionId: schedule.connectionId,
        tags: { schedule: schedule.id, scheduledAt: scheduledAt.toISOString() },
      },
      createdBy: `schedule:${schedule.id}`,
    })
  })
}

/** The retention job of a scheduled snapshot that succeeded, when its schedule has a policy. */
export async function enqueueRetentionAfter(
  trx: Kysely<Database>,
  queue: JobQueue,
  job: Pick<Job, 'projectId' | 'connectionId' | 'createdBy'>,
  catalogueName: string,
): Promise<Job | undefined> {
  if (!job.createdBy.startsWith('schedule:') || job.connectionId === null) return undefined
  const schedule = await trx
    .selectFrom('schedules')
    .select(['id', 'retention'])
    .where('id', '=', job.createdBy.slice('schedule:'.length))
    .executeTakeFirst()
  if (schedule?.retention == null) return undefined
  return queue.in(trx).enqueue({
    projectId: job.projectId,
    connectionId: job.connectionId,
    kind: 'retention',
    spec: retentionSpec(
      job.connectionId,
      catalogueName,
      JSON.parse(schedule.retention) as RetentionPolicy,
    ),
    createdBy: `schedule:${schedule.id}`,
  })
}

/** The spec of a retention job: the engine's forget + prune, on one catalogue name. */
export function retentionSpec(
  connectionId: string,
  catalogueName: string,
  policy: RetentionPolicy,
): Record<string, unknown> {
  return { kind: 'retention', connectionId, policy, names: [catalogueName], prune: true }
}

/** Runs `make` (which creates a job) and records `key` for it, or returns the job `key` has. */
export async function createKeyedJob(
  db: Kysely<Database>,
  key: string,
  make: (trx: Kysely<Database>) => Promise<Job>,
): Promise<{ job: Job; created: boolean }> {
  const existing = async () => {
    const found = await db
      .selectFrom('jobKeys')
      .innerJoin('jobs', 'jobs.id', 'jobKeys.jobId')
      .selectAll('jobs')
      .where('jobKeys.key', '=', key)
      .executeTakeFirst()
    return found === undefined ? undefined : { job: found, created: false }
  }
  const before = await existing()
  if (before !== undefined) return before
  try {
    return await inTransaction(db, async (trx) => {
      const job = await make(trx)
      await trx.insertInto('jobKeys').values({ key, jobId: job.id }).execute()
      return { job, created: true }
    })
  } catch (err) {
    // Another request made it meanwhile (the key's unique constraint): theirs stands.
    const after = await existing()
    if (after !== undefined) return after
    throw err
  }
}
