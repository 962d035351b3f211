#!/usr/bin/env node
// Entry point of the `dbsnap` command. Each invocation is one traced operation: every log line
// carries the same trace id (DBSNAP_TRACE_ID when a caller such as CI passes one).
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
