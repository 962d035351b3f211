// The snapshot worker (loaded by snapshot-thread.ts in a worker thread of `runSnapshot`): takes
// the snapshot and relays progress, the result or the error as messages.

import { parentPort, workerData } from 'node:worker_threads'
import { DbsnapError, isDbsnapError } from '../errors.js'
import { withTraceId } from '../trace.js'
import type { SnapshotRequest, WorkerMessage } from './run-snapshot.js'
import { snapshotAt } from './snapshot-at.js'

const port = parentPort
if (port === null) throw new Error('snapshot-worker.js runs only as a worker thread')

const request = workerData as SnapshotRequest
const controller = new AbortController()
port.on('message', (message: { type: 'abort'; message: string }) => {
  if (message.type === 'abort') controller.abort(new DbsnapError('ABORTED', message.message))
})
const send = (message: WorkerMessage): void => port.postMessage(message)

async function run(): Promise<void> {
  const result = await snapshotAt(request, controller.signal, (event) =>
    send({ type: 'progress', event }),
  )
  send({ type: 'result', result })
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
