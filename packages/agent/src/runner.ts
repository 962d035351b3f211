// Runs a project's jobs: each of `concurrency` slots long-polls the control plane for a job,
// runs it with the engine under an AbortSignal, heartbeats its progress while it runs (a
// heartbeat that says "cancel" or "lease lost" aborts it), and reports the result or the failure.
// `stop()` stops taking jobs, lets running ones finish within the drain time, then aborts them
// and reports them as retryable failures, which hands them back to the queue at once.
// Slots can be added and retired while it runs (autoscaler.ts): a retired slot finishes its job
// and its current long-poll first. An observer (metrics.ts) is told when jobs start and end.

import { isDbsnapError, type Logger } from '@dbsnap/engine/core'
import type { DiffJobResult, JobEvent, JobSpec, RunJobOptions } from '@dbsnap/engine'
import {
  ControlPlaneCallError,
  type ControlPlaneClient,
  type JobFailure,
  type LeasedJob,
} from './control-plane-client.js'
import { DiffUpload } from './diff-upload.js'
import { engineSpec } from './engine-spec.js'
import { prepareJob } from './export-upload.js'
import type { Outbox, OutboxEntry } from './outbox.js'
import type { RunnerObserver } from './metrics.js'

export type RunJob = (
  spec: JobSpec,
  options: {
    signal: AbortSignal
    onEvent: (event: JobEvent) => void
    renderDiff?: RunJobOptions['renderDiff']
  },
) => Promise<unknown>

export interface RunnerOptions {
  client: ControlPlaneClient
  runJob: RunJob
  logger: Logger
  /** The repository of this agent's jobs. */
  repository: string | undefined
  concurrency: number
  /** How long one lease request waits for a job (default 20 s). */
  waitSeconds?: number
  /** A job that reports no progress for this long is stopped and reported retryable (default 10 min). */
  watchdogMs?: number
  /** How long the presigned URL of an export on S3 works (default 24 h). */
  exportLinkSeconds?: number
  /** Where reports wait while the control plane cannot take them (on disk); none: retried a minute. */
  outbox?: Outbox
  /** Told when each job starts and ends (the agent's metrics). */
  observer?: RunnerObserver
}

/** A result bigger than this goes as a summary: the control plane takes bodies of 64 KiB. */
const MAX_RESULT_BYTES = 48 * 1024
/** After the control plane could not be reached, wait this long before asking again. */
const RETRY_MS = 5_000
/**
 * A repository locked by another job (a prune holds it exclusively for a few seconds) is waited
 * for within the lease, this long at most, rather than handed back to the queue's backoff.
 */
const LOCK_WAIT_MS = 60_000

class ShuttingDown extends Error {
  override readonly name = 'ShuttingDown'
}

class Stalled extends Error {
  override readonly name = 'Stalled'
}

export class Runner {
  readonly #options: RunnerOptions
  readonly #stopping = new AbortController()
  readonly #running = new Map<string, AbortController>()
  readonly #slots = new Set<Promise<void>>()
  /** Slots asked to stop after their current job: the first this many to look stop. */
  #retiring = 0
  #lastContactAt: number | undefined
  #fatal: Error | undefined

  constructor(options: RunnerOptions) {
    this.#options = options
  }

  /** When the control plane last answered (ms since the epoch), for the readiness probe. */
  get lastContactAt(): number | undefined {
    return this.#lastContactAt
  }

  get stopping(): boolean {
    return this.#stopping.signal.aborted
  }

  /** Jobs running now. */
  get running(): number {
    return this.#running.size
  }

  /** Slots taking jobs, not counting those retiring. */
  get slots(): number {
    return this.#slots.size - this.#retiring
  }

  /** Runs until `stop()`; rejects when the control plane refuses the agent (revoked). */
  async run(): Promise<void> {
    for (let i = 0; i < this.#options.concurrency; i++) this.addSlot()
    while (this.#slots.size > 0) await Promise.all([...this.#slots])
    if (this.#fatal !== undefined) throw this.#fatal
  }

  /** One more slot taking jobs (while running; none once stopping). */
  addSlot(): void {
    if (this.stopping) return
    if (this.#retiring > 0) {
      this.#retiring--
      return
    }
    const slot: Promise<void> = this.#slot().finally(() => this.#slots.delete(slot))
    this.#slots.add(slot)
  }

  /** One slot fewer, never the last: the first slot to look stops once its job is done. */
  retireSlot(): void {
    if (this.slots > 1) this.#retiring++
  }

  /** Stops taking jobs; running ones get `drainMs` to finish, then are aborted and handed back. */
  async stop(drainMs: number): Promise<void> {
    this.#stopping.abort()
    const deadline = Date.now() + drainMs
    while (this.#running.size > 0 && Date.now() < deadline) await sleep(100)
    for (const abort of this.#running.values())
      abort.abort(new ShuttingDown('the agent is stopping'))
    while (this.#running.size > 0) await sleep(50)
  }

  async #slot(): Promise<void> {
    const { client, logger } = this.#options
    const signal = this.#stopping.signal
    while (!signal.aborted) {
      if (this.#retiring > 0) {
        this.#retiring--
        return
      }
      let leased: LeasedJob | undefined
      try {
        leased = await client.lease(this.#options.waitSeconds ?? 20, signal)
        this.#lastContactAt = Date.now()
      } catch (err) {
        if (signal.aborted) break
        if (err instanceof ControlPlaneCallError && !err.retryable) {
          // Revoked or unknown: nothing this agent can do will change that.
          this.#fatal = err
          this.#stopping.abort()
          break
        }
        logger.warn({ err: (err as Error).message }, 'cannot lease a job; trying again shortly')
        await sleep(RETRY_MS, signal)
        continue
      }
      if (leased !== undefined) await this.#runOne(leased)
    }
  }

  async #runOne(leased: LeasedJob): Promise<void> {
    const { client, logger } = this.#options
    const { id, leaseId, kind } = leased.job
    const log = logger.child({ jobId: id, kind, attempt: leased.job.attempt })
    const abort = new AbortController()
    this.#running.set(id, abort)
    const startedMs = Date.now()
    this.#options.observer?.onJobStarted(leased)
    let lastEvent: JobEvent | undefined
    let lastProgressAt = Date.now()
    let leaseLost = false
    let beating = true
    const watchdogMs = this.#options.watchdogMs ?? 10 * 60_000
    const heartbeat = async (): Promise<void> => {
      while (beating) {
        await sleep(leased.job.heartbeatSeconds * 1000, abort.signal)
        if (!beating || abort.signal.aborted) return
        if (Date.now() - lastProgressAt > watchdogMs) {
          log.warn({ watchdogMs }, 'the job made no progress: stopping it')
          abort.abort(
            new Stalled(`the job made no progress for ${Math.round(watchdogMs / 1000)} s`),
          )
          return
        }
        try {
          const answer = await client.heartbeat(id, leaseId, lastEvent)
          this.#lastContactAt = Date.now()
          if (answer.cancelRequested) {
            log.info('the job was cancelled: stopping it')
            abort.abort(new Error('cancelled'))
          }
        } catch (err) {
          if (err instanceof ControlPlaneCallError && err.code === 'LEASE_LOST') {
            log.warn('the lease of the job was lost: stopping it without reporting')
            leaseLost = true
            abort.abort(err)
          } else {
            log.warn({ err: (err as Error).message }, 'heartbeat failed')
          }
        }
      }
    }
    const beats = heartbeat()
    const startedAt = new Date().toISOString()
    log.info('job started')
    try {
      const spec = await engineSpec(leased, { repository: this.#options.repository })
      const prepared = await prepareJob(leased, spec, {
        client,
        ...(this.#options.exportLinkSeconds === undefined
          ? {}
          : { linkSeconds: this.#options.exportLinkSeconds }),
      })
      const lockDeadline = Date.now() + LOCK_WAIT_MS
      const attempt = async (): Promise<unknown> => {
        // A diff's changes go up in pages as they are produced (diff-upload.ts).
        const upload = kind === 'diff' ? new DiffUpload(client, id, leaseId) : undefined
        try {
          const ran = await this.#options.runJob(prepared.spec, {
            signal: abort.signal,
            onEvent: (event) => {
              lastEvent = event
              lastProgressAt = Date.now()
            },
            ...(upload === undefined ? {} : { renderDiff: upload.render }),
          })
          return upload === undefined ? ran : upload.result(ran as DiffJobResult)
        } catch (err) {
          if (!isDbsnapError(err) || err.code !== 'REPOSITORY_LOCKED') throw err
          if (abort.signal.aborted || Date.now() > lockDeadline) throw err
          log.info({ reason: err.message }, 'the repository is locked: waiting for it')
          await sleep(1_000 + Math.random() * 2_000, abort.signal)
          return attempt()
        }
      }
      let result: unknown
      try {
        result = await prepared.finish(await attempt())
      } finally {
        await prepared.cleanup()
      }
      beating = false
      const summary = compact(result)
      if (!leaseLost) {
        await this.#report(() => client.result(id, leaseId, summary), log, {
          type: 'result',
          jobId: id,
          leaseId,
          kind,
          connectionId: leased.connection?.id ?? null,
          spec: leased.job.spec,
          startedAt,
          finishedAt: new Date().toISOString(),
          result: summary,
        })
      }
      this.#options.observer?.onJobFinished(leased, {
        outcome: leaseLost ? 'lease-lost' : 'succeeded',
        durationMs: Date.now() - startedMs,
        result,
      })
      log.info('job succeeded')
    } catch (err) {
      beating = false
      const failure = failureOf(err, abort.signal.reason)
      if (!leaseLost) {
        await this.#report(() => client.failure(id, leaseId, failure), log, {
          type: 'failure',
          jobId: id,
          leaseId,
          error: failure,
        })
      }
      this.#options.observer?.onJobFinished(leased, {
        outcome: leaseLost ? 'lease-lost' : failure.retryable ? 'retryable' : 'failed',
        durationMs: Date.now() - startedMs,
        code: failure.code,
      })
      log.warn({ code: failure.code, retryable: failure.retryable }, failure.message)
    } finally {
      beating = false
      abort.abort()
      await beats
      this.#running.delete(id)
    }
  }

  /**
   * Sends a report: through the outbox when there is one (kept on disk until delivered), else
   * trying again while the control plane cannot be reached (a minute at most).
   */
  async #report(send: () => Promise<unknown>, log: Logger, entry: OutboxEntry): Promise<void> {
    const outbox = this.#options.outbox
    if (outbox !== undefined) {
      // On disk before the slot moves on; delivered in the background, in order.
      await outbox.append(entry)
      void outbox.flush().catch((err: unknown) => {
        log.warn({ err: (err as Error).message }, 'cannot deliver the outbox')
      })
      return
    }
    for (let attempt = 1; ; attempt++) {
      try {
        await send()
        this.#lastContactAt = Date.now()
        return
      } catch (err) {
        const retry = err instanceof ControlPlaneCallError && err.retryable && attempt < 12
        log.warn({ err: (err as Error).message, attempt }, 'cannot report the job')
        if (!retry) return
        await sleep(RETRY_MS)
      }
    }
  }
}

/** What the control plane is told of a failure. */
export function failureOf(err: unknown, abortReason: unknown): JobFailure {
  if (abortReason instanceof ShuttingDown) {
    return {
      code: 'ABORTED',
      message: 'the agent stopped before the job finished',
      retryable: true,
    }
  }
  if (abortReason instanceof Stalled) {
    return { code: 'JOB_STALLED', message: abortReason.message, retryable: true }
  }
  if (isDbsnapError(err)) return { code: err.code, message: err.message, retryable: err.retryable }
  const error = err instanceof Error ? err : new Error(String(err))
  return {
    code: 'INTERNAL',
    message: error.message,
    retryable: false,
    ...(error.stack === undefined ? {} : { stack: error.stack }),
  }
}

/** The result, or a summary of it when it is too big to send (the per-table list dropped). */
export function compact(result: unknown): unknown {
  const json = JSON.stringify(result ?? null)
  if (
    Buffer.byteLength(json) <= MAX_RESULT_BYTES ||
    typeof result !== 'object' ||
    result === null
  ) {
    return result ?? null
  }
  const summary: Record<string, unknown> = { truncated: true }
  for (const [key, value] of Object.entries(result)) {
    if (Array.isArray(value)) summary[`${key}Count`] = value.length
    else if (JSON.stringify(value ?? null).length <= 4096) summary[key] = value
  }
  return summary
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve()
    const timer = setTimeout(done, ms)
    function done(): void {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}
