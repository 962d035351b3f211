#!/usr/bin/env -S node --max-semi-space-size=8
// Entry point of the `dbsnap` command. Each invocation is one traced operation: every log line
// carries the same trace id (DBSNAP_TRACE_ID when a caller such as CI passes one).
// The small young generation keeps memory flat whatever the size of the data, in this thread,
// without the cost of a worker thread (decision 0017); tests and benches read the flags here.
import { enableCompileCache } from 'node:module'

// V8 keeps the compiled code of the modules a command loads (in the OS temp directory), so a
// short command such as `diff` of two snapshots does not spend most of its time compiling.
// Enabled before anything else is imported; NODE_DISABLE_COMPILE_CACHE=1 turns it off.
enableCompileCache?.()

const { execute } = await import('@oclif/core/execute')
const { newTraceId, withTraceId } = await import('@dbsnap/engine/trace')

const traceId = /^[0-9a-f]{32}$/.test(process.env.DBSNAP_TRACE_ID ?? '')
  ? process.env.DBSNAP_TRACE_ID
  : newTraceId()

await withTraceId(traceId, () => execute({ dir: import.meta.url }))
