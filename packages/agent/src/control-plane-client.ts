// The agent's side of the control plane's agent API (docs/jobs.md): register, lease (long-poll),
// heartbeat, result, failure, and an export's file or link. Answers are checked with zod: they
// come over the network. (The control plane's typed `hc` client is not used here: it would make the agent's build depend on
// the control plane's, and the control plane embeds the agent.)

import { z } from 'zod'

export const LeasedJobSchema = z.object({
  job: z.object({
    id: z.string(),
    projectId: z.string(),
    kind: z.string(),
    spec: z.record(z.string(), z.unknown()),
    attempt: z.number(),
    maxAttempts: z.number(),
    leaseId: z.string(),
    leaseExpiresAt: z.string(),
    heartbeatSeconds: z.number(),
  }),
  connection: z
    .object({
      id: z.string(),
      name: z.string(),
      engine: z.string(),
      url: z.string().optional(),
      ref: z.string().optional(),
    })
    .nullable(),
  /** The project's repository setting; null or absent: the agent's own. */
  repository: z.string().nullable().optional(),
})

export type LeasedJob = z.infer<typeof LeasedJobSchema>

const RetentionPolicySchema = z.object({
  keepLast: z.number().optional(),
  keepDaily: z.number().optional(),
  keepWeekly: z.number().optional(),
  keepMonthly: z.number().optional(),
  keepYearly: z.number().optional(),
  keepWithin: z.string().optional(),
})

/** A schedule as the agent keeps it: with the connection a local run needs. */
export const AgentScheduleSchema = z.object({
  id: z.string(),
  projectId: z.string(),
  connectionId: z.string(),
  cron: z.string(),
  timezone: z.string(),
  retention: RetentionPolicySchema.nullable(),
  connection: LeasedJobSchema.shape.connection.unwrap(),
})

export const AgentSchedulesSchema = z.object({
  version: z.string(),
  schedules: z.array(AgentScheduleSchema),
})

export type AgentSchedule = z.infer<typeof AgentScheduleSchema>
export type AgentSchedules = z.infer<typeof AgentSchedulesSchema>

const JobOutcomeSchema = z.object({
  job: z.object({ id: z.string(), state: z.string() }),
  created: z.boolean(),
})

/** A job the agent ran on its own (the control plane was away), as `POST /agent/jobs/local` takes it. */
export interface LocalJobReport {
  clientJobId: string
  kind: 'snapshot' | 'retention'
  connectionId: string
  scheduleId?: string
  scheduledAt?: string
  leasedJobId?: string
  /** The control plane's form of the spec: the connection by id, no repository, no secret. */
  spec: Record<string, unknown>
  startedAt: string
  finishedAt: string
  result?: unknown
  error?: { code: string; message: string; retryable: boolean }
}

const RegisteredSchema = z.object({
  agent: z.object({ id: z.string(), projectId: z.string(), name: z.string() }),
  credential: z.string(),
})
const HeartbeatSchema = z.object({ cancelRequested: z.boolean(), leaseExpiresAt: z.string() })
const OutcomeSchema = z.object({ state: z.string(), runAfter: z.string() })
const DiffPageSchema = z.object({ page: z.number(), stored: z.number() })

const AgentQueueSchema = z.object({
  projectId: z.string().nullable(),
  pending: z.number(),
  delayed: z.number(),
  running: z.number(),
  oldestPendingAgeSeconds: z.number(),
})

export type AgentQueue = z.infer<typeof AgentQueueSchema>

export interface JobFailure {
  code: string
  message: string
  retryable: boolean
  stack?: string
}

/**
 * A call to the control plane failed: it answered with an error (`status`, and the API's `code`:
 * `LEASE_LOST`, `UNAUTHENTICATED`, …), or could not be reached (`status` undefined).
 */
export class ControlPlaneCallError extends Error {
  override readonly name = 'ControlPlaneCallError'
  constructor(
    readonly status: number | undefined,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
  }

  /** Worth trying again later: unreachable, overloaded or failing for now. */
  get retryable(): boolean {
    return this.status === undefined || this.status === 429 || this.status >= 500
  }
}

export class ControlPlaneClient {
  readonly #base: string
  readonly #credential: string | undefined

  constructor(controlPlaneUrl: string, credential?: string) {
    this.#base = new URL('/api/v1/', controlPlaneUrl).href
    this.#credential = credential
  }

  async register(token: string, facts: { version: string; hostname: string }) {
    return RegisteredSchema.parse(await this.#post('agent/register', { token, ...facts }))
  }

  /** The next job, waiting up to `waitSeconds`; undefined when none came. */
  async lease(waitSeconds: number, signal?: AbortSignal): Promise<LeasedJob | undefined> {
    const body = await this.#post('agent/lease', { waitSeconds }, signal)
    return body === undefined ? undefined : LeasedJobSchema.parse(body)
  }

  async heartbeat(jobId: string, leaseId: string, progress: unknown) {
    return HeartbeatSchema.parse(
      await this.#post(`agent/jobs/${encodeURIComponent(jobId)}/heartbeat`, {
        leaseId,
        ...(progress === undefined ? {} : { progress }),
      }),
    )
  }

  async result(jobId: string, leaseId: string, result: unknown) {
    return OutcomeSchema.parse(
      await this.#post(`agent/jobs/${encodeURIComponent(jobId)}/result`, { leaseId, result }),
    )
  }

  async failure(jobId: string, leaseId: string, error: JobFailure) {
    return OutcomeSchema.parse(
      await this.#post(`agent/jobs/${encodeURIComponent(jobId)}/failure`, { leaseId, error }),
    )
  }

  /**
   * Uploads page `page` of a diff job's row changes, with the column names of the tables they
   * are in (the control plane stores each page once).
   */
  async diffChanges(
    jobId: string,
    leaseId: string,
    page: number,
    changes: unknown[],
    tables: unknown[],
  ) {
    return DiffPageSchema.parse(
      await this.#post(`agent/jobs/${encodeURIComponent(jobId)}/diff-changes`, {
        leaseId,
        page,
        changes,
        tables,
      }),
    )
  }

  /** The project's schedules; undefined when they are still those of `version` (304). */
  async schedules(version?: string): Promise<AgentSchedules | undefined> {
    const body = await this.#call('GET', 'agent/schedules', undefined, timeout(), {
      ...(version === undefined ? {} : { 'if-none-match': `"${version}"` }),
    })
    return body === undefined ? undefined : AgentSchedulesSchema.parse(body)
  }

  /** Asks for the job of a schedule's tick (made once whichever agent asks first). */
  async scheduleRun(scheduleId: string, scheduledAt: Date) {
    return JobOutcomeSchema.parse(
      await this.#post(
        `agent/schedules/${encodeURIComponent(scheduleId)}/runs`,
        { scheduledAt: scheduledAt.toISOString() },
        timeout(),
      ),
    )
  }

  /** Records a job this agent ran on its own while the control plane was away. */
  async localJob(report: LocalJobReport) {
    return JobOutcomeSchema.parse(await this.#post('agent/jobs/local', report, timeout()))
  }

  /** The depth of the agent's project's queue (for autoscaling). */
  async queue(): Promise<AgentQueue> {
    return AgentQueueSchema.parse(await this.#call('GET', 'agent/queue', undefined, timeout()))
  }

  /** Hands over the presigned GET URL of an export written to S3. */
  async exportLink(
    jobId: string,
    leaseId: string,
    link: { url: string; expiresAt: string; bytes: number },
  ): Promise<void> {
    await this.#post(`agent/jobs/${encodeURIComponent(jobId)}/export-link`, { leaseId, ...link })
  }

  /** Streams an export file of a local repository to the control plane (which serves it once). */
  async uploadExport(jobId: string, leaseId: string, file: Blob, signal?: AbortSignal) {
    await this.#call('PUT', `agent/jobs/${encodeURIComponent(jobId)}/export-file`, file, signal, {
      'content-type': 'application/octet-stream',
      'dbsnap-lease-id': leaseId,
    })
  }

  /** POSTs JSON; the parsed answer, undefined for 204, a ControlPlaneCallError otherwise. */
  async #post(path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
    return this.#call('POST', path, body, signal)
  }

  /** Calls the API (a Blob body goes as it is, anything else as JSON); the parsed answer, undefined for 204 and 304, a ControlPlaneCallError otherwise. */
  async #call(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    body: unknown,
    signal?: AbortSignal,
    headers: Record<string, string> = {},
  ): Promise<unknown> {
    let res: Response
    try {
      res = await fetch(new URL(path, this.#base), {
        method,
        headers: {
          ...headers,
          ...(body === undefined || body instanceof Blob
            ? {}
            : { 'content-type': 'application/json' }),
          ...(this.#credential === undefined
            ? {}
            : { authorization: `Bearer ${this.#credential}` }),
        },
        ...(body === undefined ? {} : { body: body instanceof Blob ? body : JSON.stringify(body) }),
        ...(signal === undefined ? {} : { signal }),
      })
    } catch (err) {
      // Stopped by the caller; a call that timed out is one that could not reach the control plane.
      if (signal?.aborted === true && !isTimeout(signal.reason)) throw err
      throw new ControlPlaneCallError(
        undefined,
        'UNREACHABLE',
        `cannot reach the control plane at ${new URL(this.#base).origin}: ${(err as Error).message}`,
        { cause: err },
      )
    }
    if (res.status === 204 || res.status === 304) return undefined
    const text = await res.text()
    if (res.ok) return JSON.parse(text) as unknown
    let error = { code: 'UNKNOWN', message: text.slice(0, 200) }
    try {
      error = (JSON.parse(text) as { error: typeof error }).error
    } catch {
      // Not the API's error shape (a proxy's page): keep the start of the text.
    }
    throw new ControlPlaneCallError(res.status, error.code, `control plane: ${error.message}`)
  }
}

/** How long a schedule or outbox call may take before it counts as unreachable. */
const CALL_TIMEOUT_MS = 30_000

const timeout = (): AbortSignal => AbortSignal.timeout(CALL_TIMEOUT_MS)

function isTimeout(reason: unknown): boolean {
  return reason instanceof Error && reason.name === 'TimeoutError'
}
