// Rate limits: a named limit (N hits per window) counted per key in the database
// (data/rate-limits.ts), raising RATE_LIMITED with the seconds until the window ends.

import type { Kysely } from 'kysely'
import { hitRateLimit, sweepRateLimits } from '../data/rate-limits.js'
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

export class RateLimiter {
  readonly #db: Kysely<Database>
  readonly #limits: RateLimits

  constructor(db: Kysely<Database>, limits: RateLimits) {
    this.#db = db
    this.#limits = limits
  }

  /**
   * Counts a hit of `key` against the limit `name`; RATE_LIMITED (with `retryAfterSeconds`)
   * when it is over. Keys are namespaced by the limit's name.
   */
  async hit(name: keyof RateLimits, key: string): Promise<void> {
    const limit = this.#limits[name]
    const now = Date.now()
    const { hits, resetAt } = await hitRateLimit(
      this.#db,
      `${name}:${key}`,
      limit.windowSeconds * 1000,
      now,
    )
    if (Math.random() * SWEEP_EVERY < 1) await sweepRateLimits(this.#db, new Date(now - DAY_MS))
    if (hits > limit.hits) {
      const retryAfterSeconds = Math.max(1, Math.ceil((resetAt - now) / 1000))
      throw new ControlPlaneError(
        'RATE_LIMITED',
        `too many requests; try again in ${retryAfterSeconds} s`,
        { retryable: true, details: { retryAfterSeconds } },
      )
    }
  }
}
