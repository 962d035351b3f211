// `runSnapshot`: `createSnapshot` where memory stays bounded by design (bench/memory.ts). Rows are
// short-lived garbage; with V8's defaults the nursery grows to ~100 MiB. A process started with a
// small young generation (the `dbsnap` binary) runs it in this thread; any other caller gets a
// worker thread with that limit (decision 0017).

import { getCompileCacheDir } from 'node:module'
import { Worker } from 'node:worker_threads'
import { DbsnapError, isDbsnapError, type ErrorCode } from '../errors.js'
import { defaultLogFormat, type LOG_LEVELS, type LogFormat } from '../logger.js'
import { currentTraceId } from '../trace.js'
import { YOUNG_GENERATION_MB, youngGenerationBounded } from '../util/bounded-memory.js'
import type { SnapshotOptions, SnapshotProgress, SnapshotResult } from './snapshot.js'

/** A snapshot as plain data, everything but live objects: what crosses into the worker. */
export interface SnapshotRequest {
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

export interface RunSnapshotOptions extends Omit<SnapshotRequest['options'], never> {
  /** Repository location: a directory or `s3://bucket/prefix`. */
  repository: string
  /** Create the repository when there is none. */
  create?: boolean
  logLevel?: SnapshotRequest['logLevel']
  logFormat?: LogFormat
  signal?: AbortSignal
  onProgress?: (event: SnapshotProgress) => void
}

/**
 * Takes a snapshot like `createSnapshot`, with memory bounded: in this thread when its young
 * generation is (`youngGenerationBounded`), else isolated in a worker thread. Same guarantees:
 * the result once the manifest is committed, or a `DbsnapError` and nothing visible. Aborting
 * the signal aborts the snapshot. Needs the built package (dist/).
 */
export async function runSnapshot(options: RunSnapshotOptions): Promise<SnapshotResult> {
  const { repository, create, logLevel, logFormat, signal, onProgress, ...snapshot } = options
  const request: SnapshotRequest = {
    repository,
    create: create === true,
    logLevel: logLevel ?? 'warn',
    logFormat: logFormat ?? defaultLogFormat(2),
    traceId: currentTraceId(),
    compileCache: getCompileCacheDir() !== undefined,
    options: snapshot,
  }
  if (!youngGenerationBounded()) return inWorker(request, signal, onProgress)
  // Loaded only here: a caller that gets a worker does not load the engine twice.
  const { snapshotAt } = await import('./snapshot-at.js')
  try {
    return await snapshotAt(request, signal ?? new AbortController().signal, (event) =>
      onProgress?.(event),
    )
  } catch (err) {
    if (isDbsnapError(err)) throw err
    const message = err instanceof Error ? err.message : String(err)
    throw new DbsnapError('INTERNAL', `unexpected error: ${message}`, { cause: err })
  }
}

function inWorker(
  request: SnapshotRequest,
  signal: AbortSignal | undefined,
  onProgress: ((event: SnapshotProgress) => void) | undefined,
): Promise<SnapshotResult> {
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
