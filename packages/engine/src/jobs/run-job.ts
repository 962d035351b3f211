// `runJob`: the one entry point to every engine operation. A job is a plain-JSON spec; its
// progress comes as `JobEvent`s and its result is JSON. Rows are short-lived garbage: a process
// started with a small young generation (the `dbsnap` binary) runs the job in this thread, any
// other caller (agent, control plane, a library user) gets a worker thread with that limit, so
// memory stays bounded either way (decisions 0009 and 0017).

import { getCompileCacheDir } from 'node:module'
import { Worker } from 'node:worker_threads'
import type { Logger } from 'pino'
import { DbsnapError, isDbsnapError, type ErrorCode } from '../errors.js'
import { createLogger, defaultLogFormat, type LOG_LEVELS, type LogFormat } from '../logger.js'
import { currentTraceId } from '../trace.js'
import {
  YOUNG_GENERATION_MB,
  holdGarbageGovernor,
  youngGenerationBounded,
} from '../util/bounded-memory.js'
import type { JobSinks } from './context.js'
import type { JobEvent } from './events.js'
import type { JobResults } from './execute.js'
import { parseJobSpec, type JobKind, type JobSpec, type JobSpecOf } from './spec.js'

export interface RunJobOptions extends JobSinks {
  /** Aborts the job: it stops at the next safe point and rejects with `ABORTED`. */
  signal?: AbortSignal
  /** Progress, cumulative, at most a few a second (`EVENT_INTERVAL_MS`), the last with phase `done`. */
  onEvent?: (event: JobEvent) => void
  /** Where a job run in this thread logs; default a logger at `logLevel`. */
  logger?: Logger
  /** The level of the logger a job gets in a worker thread (or here without `logger`); default warn. */
  logLevel?: (typeof LOG_LEVELS)[number]
  logFormat?: LogFormat
}

/** What crosses into the worker: everything but live objects. */
export interface JobRequest {
  spec: JobSpec
  logLevel: (typeof LOG_LEVELS)[number]
  logFormat: LogFormat
  /** The caller's trace id, so the worker's log lines carry it too. */
  traceId: string | undefined
  /**
   * The caller's V8 compile cache directory (`getCompileCacheDir()`, which ends in a directory
   * per Node version), when it has the cache on: the worker then uses the same one.
   */
  compileCache: string | undefined
}

export type WorkerMessage =
  | { type: 'event'; event: JobEvent }
  | { type: 'result'; result: unknown }
  | {
      type: 'error'
      error: {
        code: ErrorCode
        message: string
        retryable: boolean
        details: Record<string, unknown>
      }
    }

/**
 * Runs a job: checks `spec` (INVALID_ARGUMENT naming each bad field), runs it, and resolves with
 * its result once it is complete, or rejects with a `DbsnapError` (its `code` stable, `retryable`
 * set for what may succeed later). Jobs that write commit last: an error, an abort or a crash
 * leaves nothing visible. Needs the built package (dist/) when it runs in a worker.
 *
 * @example
 * const result = await runJob(
 *   { kind: 'snapshot', repository: '/backups/shop', create: true, source: 'postgres://backup@db/shop' },
 *   { onEvent: (e) => console.log(e.phase, e.done, e.total, e.unit) },
 * )
 */
export async function runJob<K extends JobKind>(
  spec: JobSpecOf<K>,
  options: RunJobOptions = {},
): Promise<JobResults[K]> {
  const checked = parseJobSpec(spec) as JobSpecOf<K>
  const request: JobRequest = {
    spec: checked,
    logLevel: options.logLevel ?? 'warn',
    logFormat: options.logFormat ?? defaultLogFormat(2),
    traceId: currentTraceId(),
    compileCache: getCompileCacheDir(),
  }
  // A renderer or a stream cannot cross into a worker: a job handed one runs here.
  const here =
    youngGenerationBounded() || options.renderDiff !== undefined || options.output !== undefined
  if (!here) return (await inWorker(request, options.signal, options.onEvent)) as JobResults[K]
  const release = holdGarbageGovernor()
  try {
    // Loaded only here: a caller that gets a worker does not load the operations twice.
    const { executeJob } = await import('./execute.js')
    return await executeJob(checked, {
      signal: options.signal ?? new AbortController().signal,
      logger:
        options.logger ??
        createLogger({ name: 'dbsnap', level: request.logLevel, format: request.logFormat }),
      onEvent: options.onEvent,
      renderDiff: options.renderDiff,
      output: options.output,
    })
  } catch (err) {
    throw asDbsnapError(err)
  } finally {
    release()
  }
}

/** Anything thrown, as a DbsnapError: an unexpected one is INTERNAL. */
export function asDbsnapError(err: unknown): DbsnapError {
  if (isDbsnapError(err)) return err
  const message = err instanceof Error ? err.message : String(err)
  return new DbsnapError('INTERNAL', `unexpected error: ${message}`, { cause: err })
}

function inWorker(
  request: JobRequest,
  signal: AbortSignal | undefined,
  onEvent: ((event: JobEvent) => void) | undefined,
): Promise<unknown> {
  return new Promise<unknown>((resolve, reject) => {
    const worker = new Worker(new URL('./job-thread.js', import.meta.url), {
      workerData: request,
      resourceLimits: { maxYoungGenerationSizeMb: YOUNG_GENERATION_MB },
    })
    let settled = false
    const settle = (fn: () => void): void => {
      if (settled) return
      settled = true
      signal?.removeEventListener('abort', onAbort)
      fn()
    }
    const onAbort = (): void => {
      const reason: unknown = signal?.reason
      worker.postMessage({
        type: 'abort',
        message: reason instanceof Error ? reason.message : 'operation aborted',
      })
    }
    if (signal?.aborted === true) onAbort()
    else signal?.addEventListener('abort', onAbort, { once: true })
    worker.on('message', (message: WorkerMessage) => {
      if (message.type === 'event') onEvent?.(message.event)
      else if (message.type === 'result') settle(() => resolve(message.result))
      else {
        const { code, message: text, retryable, details } = message.error
        settle(() => reject(new DbsnapError(code, text, { retryable, details })))
      }
    })
    worker.on('error', (err: Error) =>
      settle(() =>
        reject(
          new DbsnapError('INTERNAL', `the job's worker failed: ${err.message}`, { cause: err }),
        ),
      ),
    )
    worker.on('exit', (code) =>
      settle(() =>
        reject(
          new DbsnapError('INTERNAL', `the job's worker exited (code ${code}) without a result`),
        ),
      ),
    )
  })
}
