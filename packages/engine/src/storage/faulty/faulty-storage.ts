// A Storage wrapper that injects planned failures (after kopia's blobtesting/faulty.go), so tests
// can prove retries, atomicity and cancellation, with a check that every planned fault fired.

import { setTimeout as sleep } from 'node:timers/promises'
import { DbsnapError, abortError, throwIfAborted } from '../../errors.js'
import { assertValidKey, assertValidPrefix } from '../keys.js'
import type {
  ByteSource,
  GetOptions,
  ObjectInfo,
  PutOptions,
  Storage,
  StorageCallOptions,
} from '../storage.js'

export type FaultMethod = 'get' | 'put' | 'stat' | 'list' | 'delete'

/** What a fault does to the call it fires on. */
export type FaultEffect =
  /** Fail without reaching the inner storage, after `delayMs` (a slow failure, a timeout). */
  | { type: 'error'; error?: DbsnapError; delayMs?: number }
  /** Perform the call on the inner storage, then fail as if its reply was lost. */
  | { type: 'lost-reply'; error?: DbsnapError }
  /** Never settle until the call's signal aborts, then reject with `ABORTED`. */
  | { type: 'hang' }
  /**
   * `put` only: hand the inner storage a source that yields the first `bytes` bytes (default
   * half) and then throws `error`, as a connection dying mid-upload would: the inner put must
   * reject and leave the key as it was.
   */
  | { type: 'partial-put'; bytes?: number; error?: DbsnapError }

export interface Fault {
  method: FaultMethod
  /** Only calls whose key (`list`: prefix) starts with this string or matches this RegExp. */
  key?: string | RegExp
  /** Matching calls let through before the fault fires. Default 0. */
  after?: number
  /** Matching calls the fault fires on, once it starts. Default 1; `Infinity` for all. */
  times?: number
  /** Default: `{ type: 'error' }`, a retryable `STORAGE_UNAVAILABLE`. */
  effect?: FaultEffect
}

interface PlannedFault {
  fault: Fault
  seen: number
  fired: number
}

/**
 * Forwards every call to `inner`, except the calls the plan picks. Each call is checked against
 * the faults in plan order: every fault it matches counts it (for `after`), and the first fault
 * that is due fires. Keys are validated and aborted signals honoured before any fault, as a real
 * storage does before any I/O.
 *
 * @example
 * const storage = new FaultyStorage(new MemoryStorage(), [
 *   { method: 'put', key: 'snapshots/', times: 2 },
 * ])
 * // …run the code under test, which must retry…
 * storage.assertAllFired()
 */
export class FaultyStorage implements Storage {
  readonly location: string
  readonly #inner: Storage
  readonly #faults: PlannedFault[] = []

  constructor(inner: Storage, plan: readonly Fault[] = []) {
    this.#inner = inner
    this.location = inner.location
    for (const fault of plan) this.addFault(fault)
  }

  /** Adds a fault to the end of the plan. */
  addFault(fault: Fault): void {
    if (fault.effect?.type === 'partial-put' && fault.method !== 'put') {
      throw new DbsnapError(
        'INVALID_ARGUMENT',
        `expected a partial-put fault on put, got one on ${fault.method}`,
      )
    }
    this.#faults.push({ fault, seen: 0, fired: 0 })
  }

  /**
   * Throws `INTERNAL` naming every planned fault that fired fewer times than planned (at least
   * once for `times: Infinity`), so a test cannot pass because its faults never happened.
   */
  assertAllFired(): void {
    const unfired = this.#faults.filter(
      ({ fault, fired }) => fired < (fault.times === Infinity ? 1 : (fault.times ?? 1)),
    )
    if (unfired.length > 0) {
      throw new DbsnapError(
        'INTERNAL',
        `expected every planned storage fault to fire, got ${unfired
          .map(
            ({ fault, fired, seen }) =>
              `${describe(fault)} fired ${fired} of ${fault.times ?? 1} (${seen} matching calls)`,
          )
          .join('; ')}`,
      )
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<Uint8Array> {
    assertValidKey(key)
    throwIfAborted(options.signal)
    const effect = this.#due('get', key)
    if (effect === undefined) return this.#inner.get(key, options)
    return this.#inject(effect, 'get', key, options.signal, () => this.#inner.get(key, options))
  }

  async put(key: string, source: ByteSource, options: PutOptions = {}): Promise<void> {
    assertValidKey(key)
    throwIfAborted(options.signal)
    const effect = this.#due('put', key)
    if (effect === undefined) return this.#inner.put(key, source, options)
    if (effect.type === 'partial-put') {
      const error = effect.error ?? injected('put', key)
      await this.#inner.put(key, partialSource(source, effect.bytes, error), options)
      throw new DbsnapError(
        'INTERNAL',
        `expected ${this.location} to refuse a put whose source failed, got success for "${key}"`,
      )
    }
    return this.#inject(effect, 'put', key, options.signal, () =>
      this.#inner.put(key, source, options),
    )
  }

  async stat(key: string, options: StorageCallOptions = {}): Promise<ObjectInfo | null> {
    assertValidKey(key)
    throwIfAborted(options.signal)
    const effect = this.#due('stat', key)
    if (effect === undefined) return this.#inner.stat(key, options)
    return this.#inject(effect, 'stat', key, options.signal, () => this.#inner.stat(key, options))
  }

  async *list(prefix: string, options: StorageCallOptions = {}): AsyncGenerator<ObjectInfo> {
    assertValidPrefix(prefix)
    throwIfAborted(options.signal)
    const effect = this.#due('list', prefix)
    if (effect === undefined) {
      yield* this.#inner.list(prefix, options)
      return
    }
    await this.#inject(effect, 'list', prefix, options.signal, async () => {
      for await (const _ of this.#inner.list(prefix, options));
    })
  }

  async delete(key: string, options: StorageCallOptions = {}): Promise<void> {
    assertValidKey(key)
    throwIfAborted(options.signal)
    const effect = this.#due('delete', key)
    if (effect === undefined) return this.#inner.delete(key, options)
    return this.#inject(effect, 'delete', key, options.signal, () =>
      this.#inner.delete(key, options),
    )
  }

  close(): Promise<void> {
    return this.#inner.close()
  }

  /** The effect of the first fault due for this call, counting the call on every match. */
  #due(method: FaultMethod, subject: string): FaultEffect | undefined {
    let due: FaultEffect | undefined
    for (const planned of this.#faults) {
      const { fault } = planned
      if (fault.method !== method || !matches(fault.key, subject)) continue
      planned.seen += 1
      if (
        due === undefined &&
        planned.seen > (fault.after ?? 0) &&
        planned.fired < (fault.times ?? 1)
      ) {
        planned.fired += 1
        due = fault.effect ?? { type: 'error' }
      }
    }
    return due
  }

  /** Applies a fault effect other than partial-put: never resolves. */
  async #inject(
    effect: FaultEffect,
    method: FaultMethod,
    subject: string,
    signal: AbortSignal | undefined,
    call: () => Promise<unknown>,
  ): Promise<never> {
    switch (effect.type) {
      case 'error':
        if (effect.delayMs !== undefined) {
          await sleep(effect.delayMs, undefined, { signal }).catch(() => {
            throw abortError(signal as AbortSignal)
          })
        }
        throw effect.error ?? injected(method, subject)
      case 'lost-reply':
        await call()
        throw effect.error ?? injected(method, subject)
      case 'hang':
        return new Promise<never>((_, reject) => {
          signal?.addEventListener('abort', () => reject(abortError(signal)), { once: true })
        })
      case 'partial-put':
        throw new DbsnapError('INTERNAL', 'a partial-put fault reached a call other than put')
    }
  }
}

/** A source of the same size that yields only `bytes` bytes of `source`, then throws `error`. */
function partialSource(source: ByteSource, bytes: number | undefined, error: Error): ByteSource {
  const limit = bytes ?? Math.floor(source.size / 2)
  return {
    size: source.size,
    async *open() {
      let sent = 0
      for await (const piece of source.open()) {
        if (sent >= limit) break
        const cut = piece.subarray(0, limit - sent)
        sent += cut.byteLength
        yield cut
      }
      throw error
    },
  }
}

function matches(pattern: string | RegExp | undefined, subject: string): boolean {
  if (pattern === undefined) return true
  return typeof pattern === 'string' ? subject.startsWith(pattern) : pattern.test(subject)
}

function injected(method: FaultMethod, subject: string): DbsnapError {
  return new DbsnapError('STORAGE_UNAVAILABLE', `injected fault: ${method} "${subject}" failed`, {
    retryable: true,
    details: { injected: true, method, key: subject },
  })
}

function describe(fault: Fault): string {
  const key = fault.key === undefined ? '' : ` ${String(fault.key)}`
  return `${fault.method}${key} ${fault.effect?.type ?? 'error'} after ${fault.after ?? 0}`
}
