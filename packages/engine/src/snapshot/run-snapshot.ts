// `runSnapshot`: `createSnapshot` in a worker thread with a small young generation. Rows are
// short-lived garbage; in the main thread V8 lets its nursery grow to ~100 MiB, in a worker it
// stays at the limit set here, so peak memory is bounded by design (bench/memory.ts).

import { getCompileCacheDir } from 'node:module'
import { Worker } from 'node:worker_threads'
import { DbsnapError, type ErrorCode } from '../errors.js'
import { defaultLogFormat, type LOG_LEVELS, type LogFormat } from '../logger.js'
import { currentTraceId } from '../trace.js'
import type { SnapshotOptions, SnapshotProgress, SnapshotResult } from './snapshot.js'

/** What crosses into the worker: everything but live objects. */
export interface WorkerRequest {
  repository: string
  create: boolean
  logLevel: (typeof LOG_LEVELS)[number]
  logFormat: LogFormat
  /** The caller's trace id, so the worker's log lines carry it too. */
  traceId: string | undefined
  /** Whether the caller has V8's compile cache on: the worker then turns it on too. */
  compileCache: boolean
  options: Omit<SnapshotOptions, 'repository' | 'signal' | 'onProgress' | 'logger'> & {
    source: string
  }
}

export type WorkerMessage =
  | { type: 'progress'; event: SnapshotProgress }
  | { type: 'result'; result: SnapshotResult }
  | {
      type: 'error'
      error: {
        code: ErrorCode
        message: string
        retryable: boolean
        details: Record<string, unknown>
      }
    }

/** Young generation of the worker, MiB: small enough to keep RSS flat, large enough not to thrash. */
const YOUNG_GENERATION_MB = 24

export interface RunSnapshotOptions extends Omit<WorkerRequest['options'], never> {
  /** Repository location: a directory or `s3://bucket/prefix`. */
  repository: string
  /** Create the repository when there is none. */
  create?: boolean
  logLevel?: WorkerRequest['logLevel']
  logFormat?: LogFormat
  signal?: AbortSignal
  onProgress?: (event: SnapshotProgress) => void
}

/**
 * Takes a snapshot like `createSnapshot`, isolated in a worker thread. Same guarantees: the
 * result once the manifest is committed, or a `DbsnapError` and nothing visible. Aborting the
 * signal aborts the snapshot; the worker ends with it. Needs the built package (dist/).
 */
export function runSnapshot(options: RunSnapshotOptions): Promise<SnapshotResult> {
  const { repository, create, logLevel, logFormat, signal, onProgress, ...snapshot } = options
  const request: WorkerRequest = {
    repository,
    create: create === true,
    logLevel: logLevel ?? 'warn',
    logFormat: logFormat ?? defaultLogFormat(2),
    traceId: currentTraceId(),
    compileCache: getCompileCacheDir() !== undefined,
    options: snapshot,
  }
  return new Promise<SnapshotResult>((resolve, reject) => {
    const worker = new Worker(new URL('./snapshot-thread.js', import.meta.url), {
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
      if (message.type === 'progress') onProgress?.(message.event)
      else if (message.type === 'result') settle(() => resolve(message.result))
      else {
        const { code, message: text, retryable, details } = message.error
        settle(() => reject(new DbsnapError(code, text, { retryable, details })))
      }
    })
    worker.on('error', (err: Error) =>
      settle(() =>
        reject(
          new DbsnapError('INTERNAL', `the snapshot worker failed: ${err.message}`, { cause: err }),
        ),
      ),
    )
    worker.on('exit', (code) =>
      settle(() =>
        reject(
          new DbsnapError('INTERNAL', `the snapshot worker exited (code ${code}) without a result`),
        ),
      ),
    )
  })
}
