// The job worker (loaded by job-thread.ts in a worker thread of `runJob`): runs the job with the
// garbage governor held and relays its events, its result or its error as messages.

import { parentPort, workerData } from 'node:worker_threads'
import { DbsnapError } from '../errors.js'
import { createLogger } from '../logger.js'
import { withTraceId } from '../trace.js'
import { holdGarbageGovernor } from '../util/bounded-memory.js'
import { executeJob } from './execute.js'
import { asDbsnapError, type JobRequest, type WorkerMessage } from './run-job.js'

const port = parentPort
if (port === null) throw new Error('job-worker.js runs only as a worker thread')

const request = workerData as JobRequest
const controller = new AbortController()
port.on('message', (message: { type: 'abort'; message: string }) => {
  if (message.type === 'abort') controller.abort(new DbsnapError('ABORTED', message.message))
})
const send = (message: WorkerMessage): void => port.postMessage(message)

async function run(): Promise<void> {
  const result = await executeJob(request.spec, {
    signal: controller.signal,
    logger: createLogger({ name: 'dbsnap', level: request.logLevel, format: request.logFormat }),
    onEvent: (event) => send({ type: 'event', event }),
  })
  send({ type: 'result', result })
}

const release = holdGarbageGovernor()
try {
  await (request.traceId === undefined ? run() : withTraceId(request.traceId, run))
} catch (err) {
  send({ type: 'error', error: asDbsnapError(err).toJSON() })
} finally {
  release()
  // The abort listener would keep the worker alive after its work is done.
  port.close()
}
