// Worker-thread entry of `runSnapshot`: opens the repository and runs `createSnapshot`, relaying
// progress, the result or the error to the parent as plain messages.

import { parentPort, workerData } from 'node:worker_threads'
import { DbsnapError, isDbsnapError } from '../errors.js'
import { createLogger, withTraceId } from '../logger.js'
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

async function run(): Promise<void> {
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
