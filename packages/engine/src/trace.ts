// Trace ids: one per operation, following it through the engine across awaits (and later agent
// <-> control plane). Its own module, free of dependencies, so a program can set one up first.

import { AsyncLocalStorage } from 'node:async_hooks'
import { randomBytes } from 'node:crypto'

const traceStore = new AsyncLocalStorage<string>()

/** A new random trace id: 32 lowercase hex digits, the W3C trace-context format. */
export function newTraceId(): string {
  return randomBytes(16).toString('hex')
}

/** The trace id of the operation the caller runs in, if any. */
export function currentTraceId(): string | undefined {
  return traceStore.getStore()
}

/**
 * Runs `fn` with `traceId` attached: every log line written inside it, however deep in the
 * engine and across awaits, carries `traceId`.
 *
 * @example
 * await withTraceId(req.header('x-trace-id') ?? newTraceId(), () => snapshot(...))
 */
export function withTraceId<T>(traceId: string, fn: () => T): T {
  return traceStore.run(traceId, fn)
}
