// Worker-thread entry of `runSnapshot`: turns on V8's compile cache in this thread when the
// parent has it, then loads the snapshot worker, whose modules then compile from the cache.

import { enableCompileCache } from 'node:module'
import { workerData } from 'node:worker_threads'
import type { SnapshotRequest } from './run-snapshot.js'

// A worker thread does not inherit the parent's compile cache: without this it compiles every
// module of the engine again, on each snapshot (~100 ms). Static imports would be compiled
// before this line ran, hence the dynamic import below.
if ((workerData as SnapshotRequest).compileCache) enableCompileCache()
await import('./snapshot-worker.js')
