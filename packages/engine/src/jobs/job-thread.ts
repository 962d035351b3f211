// Worker-thread entry of `runJob`: turns on V8's compile cache in this thread when the parent has
// it, then loads the job worker, whose modules then compile from the cache.

import { enableCompileCache } from 'node:module'
import { dirname } from 'node:path'
import { workerData } from 'node:worker_threads'
import type { JobRequest } from './run-job.js'

// A worker thread does not inherit the parent's compile cache: without this it compiles every
// module of the engine again, on each job (~100 ms). Static imports would be compiled before
// this line ran, hence the dynamic import below. The parent's directory ends in the directory
// Node adds per version; the worker is given the one above it, as the parent was (the `dbsnap`
// binary's is in the user's cache directory, not Node's default in the temporary directory).
const { compileCache } = workerData as JobRequest
if (compileCache !== undefined) enableCompileCache(dirname(compileCache))
await import('./job-worker.js')
