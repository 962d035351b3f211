// The job queue: jobs wait `pending`, are leased to one agent at a time (`running`, with a lease
// that heartbeats extend), and end `succeeded`, `failed` (an error retrying cannot mend), `dead`
// (out of attempts: the dead-letter queue) or `cancelled`. A retryable failure puts the job back
// with exponential backoff and jitter; a lease that expires puts it back with its attempt counted.
//
// Every transition is one guarded statement (or one transaction) so any number of agents and
// control-plane replicas can share the queue: a lease is `UPDATE … WHERE id = (SELECT … LIMIT 1
// FOR UPDATE SKIP LOCKED) RETURNING *` on PostgreSQL (SQLite has one writer at a time), and a
// report about a job (heartbeat, result, failure) only counts when it names the job's current,
// unexpired lease, so a late report of an expired lease is refused, never counted twice.

import { randomUUID } from 'node:crypto'
import type { ExpressionBuilder, Kysely } from 'kysely'
import { timestamp } from '../db/clock.js'
import type { DialectName } from '../db/database.js'
import { newId } from '../db/ids.js'
import type { Database, Job, JobKind, JobState, Timestamp } from '../db/schema.js'
import { inTransaction } from '../db/transaction.js'
import { ControlPlaneError, notFoundError } from '../errors.js'

export interface JobQueueOptions {
  /** How long a lease lasts without a heartbeat (default 20 s): an agent killed mid-job frees it then. */
  leaseMs?: number
  /** Leases a job may take before it goes to the dead-letter queue (default 5). */
  maxAttempts?: number
  /** Delay before the first retry (default 5 s), doubled on each attempt up to `backoffMaxMs`. */
  backoffBaseMs?: number
  /** Longest delay between attempts (default 10 minutes). */
  backoffMaxMs?: number
  /** Source of jitter in [0, 1) (tests pass a fixed one). */
  random?: () => number
  /** Told of leases and reports once they committed (the metrics' counters). */
  events?: QueueEvents
}

/** What the queue tells its observer (metrics.ts), after each change committed. */
export interface QueueEvents {
  onLeased(job: Job): void
  /** A result or failure was recorded; `state` is where the job went (`pending`: a retry). */
  onReported(job: Job, state: JobState): void
  onLeaseExpired(job: Job): void
}

export const DEFAULT_LEASE_MS = 20_000
export const DEFAULT_MAX_ATTEMPTS = 5

export interface NewJob {
  projectId: string
  connectionId?: string
  kind: JobKind
  /** The engine's job spec (plain JSON, connections named by id: never a secret). */
  spec: unknown
  /** `user:<id>`, `api_key:<id>`, `schedule:<id>`. */
  createdBy: string
  maxAttempts?: number
  runAfter?: Date
}

/** A failure as the agent reports it: the engine's error code and message, and whether to retry. */
export interface JobFailure {
  code: string
  message: string
  retryable: boolean
  /** Shown to admins only. */
  stack?: string
}

/** Only these states can still change; the rest are final. */
const LIVE_STATES: readonly JobState[] = ['pending', 'running']

interface Queue {
  readonly db: Kysely<Database>
  readonly dialect: DialectName
}

export class JobQueue {
  readonly #db: Kysely<Database>
  readonly #dialect: DialectName
  readonly #leaseMs: number
  readonly #maxAttempts: number
  readonly #backoffBaseMs: number
  readonly #backoffMaxMs: number
  readonly #random: () => number
  readonly #events: QueueEvents | undefined

  constructor({ db, dialect }: Queue, options: JobQueueOptions = {}) {
    this.#db = db
    this.#dialect = dialect
    this.#leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS
    this.#maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS
    this.#backoffBaseMs = options.backoffBaseMs ?? 5_000
    this.#backoffMaxMs = options.backoffMaxMs ?? 10 * 60_000
    this.#random = options.random ?? Math.random
    this.#events = options.events
  }

  get leaseMs(): number {
    return this.#leaseMs
  }

  /** This queue working in `db` (a route's transaction), so a job and its audit event commit together. */
  in(db: Kysely<Database>): JobQueue {
    return new JobQueue(
      { db, dialect: this.#dialect },
      {
        leaseMs: this.#leaseMs,
        maxAttempts: this.#maxAttempts,
        backoffBaseMs: this.#backoffBaseMs,
        backoffMaxMs: this.#backoffMaxMs,
        random: this.#random,
        ...(this.#events === undefined ? {} : { events: this.#events }),
      },
    )
  }

  /** Adds a job, `pending` until `runAfter` (default now). */
  async enqueue(input: NewJob, now: Date = new Date()): Promise<Job> {
    const at = timestamp(now)
    const job: Job = {
      id: newId(now.getTime()),
      projectId: input.projectId,
      connectionId: input.connectionId ?? null,
      kind: input.kind,
      spec: JSON.stringify(input.spec),
      state: 'pending',
      attempts: 0,
      maxAttempts: input.maxAttempts ?? this.#maxAttempts,
      runAfter: timestamp(input.runAfter ?? now),
      leaseId: null,
      leasedBy: null,
      leaseExpiresAt: null,
      cancelRequestedAt: null,
      progress: null,
      result: null,
      error: null,
      createdBy: input.createdBy,
      createdAt: at,
      updatedAt: at,
      startedAt: null,
      finishedAt: null,
    }
    return inTransaction(this.#db, async (trx) => {
      await trx.insertInto('jobs').values(job).execute()
      await addEvent(trx, job, 'created', at, null, { createdBy: job.createdBy })
      return job
    })
  }

  /**
   * Leases the project's next due job to `agentId`: the oldest `pending` job whose `runAfter`
   * has come, after returning expired leases to the queue. Undefined when there is none.
   * `projectId` null (the embedded agent): the next job of any project.
   */
  async lease(
    agentId: string,
    projectId: string | null,
    now: Date = new Date(),
  ): Promise<Job | undefined> {
    await this.expireLeases(now)
    const at = timestamp(now)
    const leased = await inTransaction(this.#db, async (trx) => {
      const next = trx
        .selectFrom('jobs')
        .select('id')
        .$if(projectId !== null, (q) => q.where('projectId', '=', projectId!))
        .where('state', '=', 'pending')
        .where('runAfter', '<=', at)
        .orderBy('runAfter')
        .orderBy('id')
        .limit(1)
        .$if(this.#dialect === 'postgres', (q) => q.forUpdate().skipLocked())
      const job = await trx
        .updateTable('jobs')
        .set((eb) => ({
          state: 'running',
          leaseId: randomUUID(),
          leasedBy: agentId,
          leaseExpiresAt: timestamp(new Date(now.getTime() + this.#leaseMs)),
          attempts: eb('attempts', '+', 1),
          progress: null,
          startedAt: eb.fn.coalesce('startedAt', eb.val(at)),
          updatedAt: at,
        }))
        .where('id', '=', next)
        .where('state', '=', 'pending')
        .returningAll()
        .executeTakeFirst()
      if (job !== undefined) await addEvent(trx, job, 'leased', at, agentId, {})
      return job
    })
    if (leased !== undefined) this.#events?.onLeased(leased)
    return leased
  }

  /**
   * Extends the lease and records the agent's progress. Tells whether the job was asked to
   * stop (the agent then aborts it and reports it failed). `LEASE_LOST` when the lease is not
   * the job's current, unexpired one: the agent must stop working on it.
   */
  async heartbeat(
    jobId: string,
    leaseId: string,
    progress: unknown,
    now: Date = new Date(),
  ): Promise<{ cancelRequested: boolean; leaseExpiresAt: Timestamp }> {
    const at = timestamp(now)
    const leaseExpiresAt = timestamp(new Date(now.getTime() + this.#leaseMs))
    const row = await this.#db
      .updateTable('jobs')
      .set({
        leaseExpiresAt,
        progress: progress === undefined ? null : JSON.stringify(progress),
        updatedAt: at,
      })
      .where((eb) => holdsLease(eb, jobId, leaseId, at))
      .returning(['cancelRequestedAt'])
      .executeTakeFirst()
    if (row === undefined) throw await this.#leaseLost(jobId, leaseId, 'heartbeat', now)
    return { cancelRequested: row.cancelRequestedAt !== null, leaseExpiresAt }
  }

  /**
   * Records the job's result: `succeeded`. `LEASE_LOST` as for heartbeats. `alsoRecord` runs in
   * the same transaction (the snapshot catalogue's row): if it throws, nothing is recorded.
   */
  async succeed(
    jobId: string,
    leaseId: string,
    result: unknown,
    now: Date = new Date(),
    alsoRecord?: (trx: Kysely<Database>, job: Job) => Promise<unknown>,
  ): Promise<Job> {
    const at = timestamp(now)
    // The refusal is recorded after the transaction: SQLite's one connection is held until then.
    const done = await inTransaction(this.#db, async (trx) => {
      const job = await trx
        .updateTable('jobs')
        .set({
          state: 'succeeded',
          result: JSON.stringify(result ?? null),
          error: null,
          leaseId: null,
          leaseExpiresAt: null,
          finishedAt: at,
          updatedAt: at,
        })
        .where((eb) => holdsLease(eb, jobId, leaseId, at))
        .returningAll()
        .executeTakeFirst()
      if (job !== undefined) {
        await alsoRecord?.(trx, job)
        await addEvent(trx, job, 'succeeded', at, job.leasedBy, {})
      }
      return job
    })
    if (done === undefined) throw await this.#leaseLost(jobId, leaseId, 'result', now)
    this.#events?.onReported(done, done.state)
    return done
  }

  /**
   * Records a failure. A job asked to stop ends `cancelled`; an error that is not retryable
   * ends it `failed`; a retryable one puts it back `pending` after a backoff, or, out of
   * attempts, `dead`. `LEASE_LOST` as for heartbeats.
   */
  async fail(
    jobId: string,
    leaseId: string,
    failure: JobFailure,
    now: Date = new Date(),
  ): Promise<Job> {
    const at = timestamp(now)
    const done = await inTransaction(this.#db, async (trx) => {
      const current = await trx
        .selectFrom('jobs')
        .selectAll()
        .where((eb) => holdsLease(eb, jobId, leaseId, at))
        .$if(this.#dialect === 'postgres', (q) => q.forUpdate())
        .executeTakeFirst()
      if (current === undefined) return undefined
      const state = stateAfterFailure(current, failure.retryable)
      const runAfter =
        state === 'pending'
          ? timestamp(new Date(now.getTime() + this.retryDelayMs(current.attempts)))
          : current.runAfter
      const job = await trx
        .updateTable('jobs')
        .set({
          state,
          error: JSON.stringify(failure),
          leaseId: null,
          leaseExpiresAt: null,
          runAfter,
          finishedAt: state === 'pending' ? null : at,
          updatedAt: at,
        })
        .where('id', '=', jobId)
        .returningAll()
        .executeTakeFirstOrThrow()
      await addEvent(
        trx,
        job,
        state === 'pending' ? 'retry-scheduled' : state,
        at,
        current.leasedBy,
        {
          code: failure.code,
          message: failure.message,
          retryable: failure.retryable,
          ...(state === 'pending' ? { runAfter } : {}),
        },
      )
      return job
    })
    if (done === undefined) throw await this.#leaseLost(jobId, leaseId, 'failure', now)
    this.#events?.onReported(done, done.state)
    return done
  }

  /**
   * The delay before the attempt after `attempts`: base × 2^(attempts−1), at most the maximum,
   * with "equal jitter" (half of it fixed, half random) so agents that failed together spread out.
   */
  retryDelayMs(attempts: number): number {
    const ceiling = Math.min(
      this.#backoffMaxMs,
      this.#backoffBaseMs * 2 ** Math.max(0, attempts - 1),
    )
    return Math.round(ceiling / 2 + (this.#random() * ceiling) / 2)
  }

  /**
   * Returns the jobs whose lease expired (their agent crashed or lost the network) to the queue,
   * their attempt counted; out of attempts they go `dead`, and a job asked to stop `cancelled`.
   * Returns how many leases expired.
   */
  async expireLeases(now: Date = new Date()): Promise<number> {
    const at = timestamp(now)
    const expired = await inTransaction(this.#db, async (trx) => {
      const expired = await trx
        .selectFrom('jobs')
        .selectAll()
        .where('state', '=', 'running')
        .where('leaseExpiresAt', '<', at)
        .$if(this.#dialect === 'postgres', (q) => q.forUpdate().skipLocked())
        .execute()
      for (const current of expired) {
        const state = stateAfterFailure(current, true)
        const error = {
          code: 'LEASE_EXPIRED',
          message: 'the agent stopped reporting',
          retryable: true,
        }
        const job = await trx
          .updateTable('jobs')
          .set({
            state,
            error: JSON.stringify(error),
            leaseId: null,
            leaseExpiresAt: null,
            runAfter: at,
            finishedAt: state === 'pending' ? null : at,
            updatedAt: at,
          })
          .where('id', '=', current.id)
          .returningAll()
          .executeTakeFirstOrThrow()
        await addEvent(trx, job, 'lease-expired', at, current.leasedBy, { state })
      }
      return expired
    })
    for (const job of expired) this.#events?.onLeaseExpired(job)
    return expired.length
  }

  /**
   * Stops a job: a pending one is `cancelled` at once; a running one is asked to stop (its agent
   * learns it at its next heartbeat). `JOB_FINISHED` for a job that has ended.
   */
  async cancel(projectId: string, jobId: string, by: string, now: Date = new Date()): Promise<Job> {
    const at = timestamp(now)
    return inTransaction(this.#db, async (trx) => {
      const current = await this.#find(trx, projectId, jobId, true)
      if (!LIVE_STATES.includes(current.state)) {
        throw new ControlPlaneError('JOB_FINISHED', `the job has ended (${current.state})`, {
          details: { id: jobId, state: current.state },
        })
      }
      const pending = current.state === 'pending'
      const job = await trx
        .updateTable('jobs')
        .set(
          pending
            ? { state: 'cancelled', finishedAt: at, updatedAt: at, cancelRequestedAt: at }
            : { cancelRequestedAt: at, updatedAt: at },
        )
        .where('id', '=', jobId)
        .returningAll()
        .executeTakeFirstOrThrow()
      await addEvent(trx, job, pending ? 'cancelled' : 'cancel-requested', at, null, { by })
      return job
    })
  }

  /** Puts dead jobs of the project back in the queue with fresh attempts. Returns those moved. */
  async redrive(
    projectId: string,
    jobIds: readonly string[],
    by: string,
    now: Date = new Date(),
  ): Promise<Job[]> {
    if (jobIds.length === 0) return []
    const at = timestamp(now)
    return inTransaction(this.#db, async (trx) => {
      const jobs = await trx
        .updateTable('jobs')
        .set({
          state: 'pending',
          attempts: 0,
          runAfter: at,
          error: null,
          finishedAt: null,
          updatedAt: at,
        })
        .where('projectId', '=', projectId)
        .where('id', 'in', jobIds)
        .where('state', '=', 'dead')
        .returningAll()
        .execute()
      for (const job of jobs) await addEvent(trx, job, 'redriven', at, null, { by })
      return jobs
    })
  }

  /** The project's job `jobId`; `NOT_FOUND` for another project's. */
  async get(projectId: string, jobId: string): Promise<Job> {
    return this.#find(this.#db, projectId, jobId, false)
  }

  async #find(db: Kysely<Database>, projectId: string, jobId: string, lock: boolean): Promise<Job> {
    const job = await db
      .selectFrom('jobs')
      .selectAll()
      .where('id', '=', jobId)
      .where('projectId', '=', projectId)
      .$if(lock && this.#dialect === 'postgres', (q) => q.forUpdate())
      .executeTakeFirst()
    if (job === undefined) throw notFoundError('job', jobId)
    return job
  }

  /** `LEASE_LOST`, recording the refused report in the job's history (a job that exists). */
  async #leaseLost(
    jobId: string,
    leaseId: string,
    report: string,
    now: Date,
  ): Promise<ControlPlaneError> {
    const job = await this.#db
      .selectFrom('jobs')
      .selectAll()
      .where('id', '=', jobId)
      .executeTakeFirst()
    if (job !== undefined) {
      await addEvent(this.#db, job, 'report-refused', timestamp(now), job.leasedBy, {
        report,
        leaseId,
      })
    }
    return new ControlPlaneError(
      'LEASE_LOST',
      'the job is no longer leased under this lease: it expired and went back to the queue, or the job ended',
      { details: { id: jobId, report } },
    )
  }
}

/** The job's current, unexpired lease is `leaseId`: the condition every report must meet. */
export function holdsLease(
  eb: ExpressionBuilder<Database, 'jobs'>,
  jobId: string,
  leaseId: string,
  at: Timestamp,
) {
  return eb.and([
    eb('id', '=', jobId),
    eb('leaseId', '=', leaseId),
    eb('state', '=', 'running'),
    eb('leaseExpiresAt', '>=', at),
  ])
}

/**
 * What a running job becomes when its attempt fails (a reported error, or its lease expiring): a
 * job asked to stop ends `cancelled`, an error retrying cannot mend `failed`, the last attempt
 * `dead`, any other back to `pending`.
 */
function stateAfterFailure(
  job: Pick<Job, 'cancelRequestedAt' | 'attempts' | 'maxAttempts'>,
  retryable: boolean,
): JobState {
  if (job.cancelRequestedAt !== null) return 'cancelled'
  if (!retryable) return 'failed'
  return job.attempts >= job.maxAttempts ? 'dead' : 'pending'
}

async function addEvent(
  db: Kysely<Database>,
  job: Pick<Job, 'id' | 'attempts'>,
  type: string,
  at: Timestamp,
  agentId: string | null,
  details: Record<string, unknown>,
): Promise<void> {
  await db
    .insertInto('jobEvents')
    .values({
      id: newId(),
      jobId: job.id,
      at,
      type,
      agentId,
      attempt: job.attempts,
      details: JSON.stringify(details),
    })
    .execute()
}
