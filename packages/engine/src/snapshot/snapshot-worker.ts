// The snapshot worker (loaded by snapshot-thread.ts in a worker thread of `runSnapshot`): opens
// the repository, runs `createSnapshot`, relays progress, the result or the error as messages.

import v8 from 'node:v8'
import vm from 'node:vm'
import { parentPort, workerData } from 'node:worker_threads'
import { DbsnapError, isDbsnapError } from '../errors.js'
import { createLogger } from '../logger.js'
import { withTraceId } from '../trace.js'
import { Repository } from '../repository/repository.js'
import { openStorage } from '../storage/open-storage.js'
import { createSnapshot } from './snapshot.js'
import type { WorkerRequest, WorkerMessage } from './run-snapshot.js'

const port = parentPort
if (port === null) throw new Error('snapshot-worker.js runs only as a worker thread')

const request = workerData as WorkerRequest
const controller = new AbortController()
port.on('message', (message: { type: 'abort'; message: string }) => {
  if (message.type === 'abort') controller.abort(new DbsnapError('ABORTED', message.message))
})
const send = (message: WorkerMessage): void => port.postMessage(message)

/**
 * Big buffers (socket reads, chunks, compressed objects) are freed only by a full GC, and V8
 * starts one only once 64 MiB of them have piled up since the last, later still when the machine
 * is busy and its marking threads lag. This worker's heap is small, so a full GC costs a few
 * milliseconds: the worker runs one itself whenever buffers outgrow what was live after the last
 * one by `GARBAGE_BUDGET`, and peak memory stays flat whatever the table size (bench/memory.ts).
 */
const GARBAGE_BUDGET = 24 * 1024 * 1024
/** Buffers below this never trigger a GC: the chunk pools of a table writer alone hold ~20 MiB. */
const MIN_THRESHOLD = 40 * 1024 * 1024
/** How often the worker looks at its buffers; a snapshot reads ~10 MiB in this time. */
const GOVERNOR_INTERVAL_MS = 50
const fullGc = exposeGc()
let gcThreshold = MIN_THRESHOLD

function keepGarbageInBudget(): void {
  if (fullGc === null || process.memoryUsage().arrayBuffers < gcThreshold) return
  fullGc()
  gcThreshold = Math.max(MIN_THRESHOLD, process.memoryUsage().arrayBuffers + GARBAGE_BUDGET)
}

/** V8's `gc()` for this isolate (the flag, set at run time, applies to new contexts), or null. */
function exposeGc(): (() => void) | null {
  try {
    v8.setFlagsFromString('--expose-gc')
    const gc = vm.runInNewContext('gc') as unknown
    return typeof gc === 'function' ? () => void (gc as () => unknown)() : null
  } catch {
    return null
  }
}

async function run(): Promise<void> {
  // Checked on a clock, not per chunk: buffers also pile up while chunks wait on storage.
  const governor = setInterval(keepGarbageInBudget, GOVERNOR_INTERVAL_MS)
  governor.unref()
  const storage = await openStorage(request.repository, { create: request.create })
  try {
    const repository = await Repository.open(storage, {
      create: request.create,
      compression: request.options.compression,
      signal: controller.signal,
    })
    const result = await createSnapshot({
      ...request.options,
      repository,
      signal: controller.signal,
      logger: createLogger({ name: 'dbsnap', level: request.logLevel, format: request.logFormat }),
      onProgress: (event) => send({ type: 'progress', event }),
    })
    send({ type: 'result', result })
  } finally {
    clearInterval(governor)
    await storage.close()
  }
}

try {
  await (request.traceId === undefined ? run() : withTraceId(request.traceId, run))
} catch (err) {
  const error = isDbsnapError(err)
    ? err
    : new DbsnapError(
        'INTERNAL',
        `unexpected error: ${err instanceof Error ? err.message : String(err)}`,
      )
  send({ type: 'error', error: error.toJSON() })
} finally {
  // The abort listener would keep the worker alive after its work is done.
  port.close()
}
