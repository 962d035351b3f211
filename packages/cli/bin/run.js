#!/usr/bin/env node
// Entry point of the `dbsnap` command. Each invocation is one traced operation: every log line
// carries the same trace id (DBSNAP_TRACE_ID when a caller such as CI passes one).
import { execute } from '@oclif/core'
import { newTraceId, withTraceId } from '@dbsnap/engine'

const traceId = /^[0-9a-f]{32}$/.test(process.env.DBSNAP_TRACE_ID ?? '')
  ? process.env.DBSNAP_TRACE_ID
  : newTraceId()

await withTraceId(traceId, () => execute({ dir: import.meta.url }))
