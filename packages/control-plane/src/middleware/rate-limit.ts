// Rate limits: a named limit (N hits per window) counted per key in the database
// (data/rate-limits.ts), raising RATE_LIMITED with the seconds until the window ends. The
// limits on signing in count each hit in the database at once (exact across replicas: they stop
// password guessing); the per-user limit of every other request counts in memory and adds its
// counts to the database every FLUSH_MS (a write per API request was its slowest part).

import type { Logger } from '@dbsnap/engine/core'
import type { Kysely } from 'kysely'
import { hitRateLimit, sweepRateLimits, windowStartOf } from '../data/rate-limits.js'
import type { Database } from '../db/schema.js'
import { ControlPlaneError } from '../errors.js'

export interface Limit {
  hits: number
  windowSeconds: number
}

/** The limits the API applies; `createApp` takes overrides (tests use small ones). */
export interface RateLimits {
  /** Per client IP on register, login and refresh. */
  authPerIp: Limit
  /** Per account (email) on login, whichever IP the attempts come from. */
  loginPerAccount: Limit
  /** Per user on every authenticated route. */
  perUser: Limit
}

export const DEFAULT_RATE_LIMITS: RateLimits = {
  authPerIp: { hits: 30, windowSeconds: 60 },
  loginPerAccount: { hits: 10, windowSeconds: 300 },
  perUser: { hits: 600, windowSeconds: 60 },
}

/** One in this many hits also deletes counters older than a day (no timer to run). */
const SWEEP_EVERY = 1000
const DAY_MS = 24 * 60 * 60 * 1000
/**
 * How often the per-user counts are added to the database. Replicas see each other's hits this
 * late: with R replicas a user gets at most R × (its rate × FLUSH_MS) more than the limit.
 */
export const FLUSH_MS = 1000

/** The limits counted in memory between flushes. */
const BATCHED: ReadonlySet<keyof RateLimits> = new Set(['perUser'])

/** A batched counter: the database's total at the last flush, and the hits since. */
interface Counter {
  name: keyof RateLimits
  key: string
  windowStart: number
  stored: number
  pending: number
}

export class RateLimiter {
  readonly #db: Kysely<Database>
  readonly #limits: RateLimits
  readonly #logger: Logger | undefined
  readonly #now: () => number
  readonly #counters = new Map<string, Counter>()
  #flushTimer: NodeJS.Timeout | undefined
  #flushing: Promise<void> = Promise.resolve()

  /** `now` is the clock the windows are counted in (ms since the epoch; tests pin it). */
  constructor(
    db: Kysely<Database>,
    limits: RateLimits,
    { logger, now = Date.now }: { logger?: Logger; now?: () => number } = {},
  ) {
    this.#db = db
    this.#limits = limits
    this.#logger = logger
    this.#now = now
  }

  /**
   * Counts a hit of `key` against the limit `name`; RATE_LIMITED (with `retryAfterSeconds`)
   * when it is over. Keys are namespaced by the limit's name.
   */
  async hit(name: keyof RateLimits, key: string): Promise<void> {
    const limit = this.#limits[name]
    const now = this.#now()
    const windowMs = limit.windowSeconds * 1000
    if (BATCHED.has(name)) {
      const hits = this.#countInMemory(name, key, windowStartOf(now, windowMs))
      this.#check(hits, limit, windowStartOf(now, windowMs) + windowMs, now)
      return
    }
    const { hits, resetAt } = await hitRateLimit(this.#db, `${name}:${key}`, windowMs, now)
    if (Math.random() * SWEEP_EVERY < 1) await sweepRateLimits(this.#db, new Date(now - DAY_MS))
    this.#check(hits, limit, resetAt, now)
  }

  /** Adds the hits counted in memory to the database (also what the timer does). */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(() => this.#write())
    return this.#flushing
  }

  #check(hits: number, limit: Limit, resetAt: number, now: number): void {
    if (hits <= limit.hits) return
    const retryAfterSeconds = Math.max(1, Math.ceil((resetAt - now) / 1000))
    throw new ControlPlaneError(
      'RATE_LIMITED',
      `too many requests; try again in ${retryAfterSeconds} s`,
      { retryable: true, details: { retryAfterSeconds } },
    )
  }

  /** This hit and all known before it in the window: the database's at the last flush, and ours. */
  #countInMemory(name: keyof RateLimits, key: string, windowStart: number): number {
    const id = `${name}:${key}`
    let counter = this.#counters.get(id)
    if (counter?.windowStart !== windowStart) {
      // A new window: the last one's unwritten hits no longer matter to anyone.
      counter = { name, key, windowStart, stored: 0, pending: 0 }
      this.#counters.set(id, counter)
    }
    counter.pending += 1
    if (this.#flushTimer === undefined) {
      this.#flushTimer = setTimeout(() => {
        this.#flushTimer = undefined
        void this.flush()
      }, FLUSH_MS).unref()
    }
    return counter.stored + counter.pending
  }

  async #write(): Promise<void> {
    const now = this.#now()
    for (const [id, counter] of this.#counters) {
      const windowMs = this.#limits[counter.name].windowSeconds * 1000
      if (counter.windowStart + windowMs <= now) {
        // Its window is over: its hits no longer matter, and writing them would reset a row
        // another replica has moved on to the next window.
        this.#counters.delete(id)
        continue
      }
      if (counter.pending === 0) continue
      const count = counter.pending
      counter.pending = 0
      try {
        const { hits } = await hitRateLimit(this.#db, id, windowMs, counter.windowStart, count)
        // Other replicas' hits come back with ours; a newer window started meanwhile keeps its own.
        if (this.#counters.get(id) === counter) counter.stored = hits
      } catch (err) {
        counter.pending += count
        this.#logger?.warn({ err }, 'rate limit counts not written; trying again')
        return
      }
    }
  }
}
