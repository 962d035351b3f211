// Worker-thread entry of `runJob`: turns on V8's compile cache in this thread when the parent has
// it, then loads the job worker, whose modules then compile from the cache.

import { enableCompileCache } from 'node:module'
import { workerData } from 'node:worker_threads'
import type { JobRequest } from './run-job.js'

// A worker thread does not inherit the parent's compile cache: without this it compiles every
// module of the engine again, on each job (~100 ms). Static imports would be compiled before
// this line ran, hence the dynamic import below.
if ((workerData as JobRequest).compileCache) enableCompileCache()
await import('./job-worker.js')
