// Rate-limit counters: one row per key holding the hits of its current fixed window. A hit is
// one upsert, atomic on both dialects, so replicas sharing the database share the counts.

import type { Kysely } from 'kysely'
import { timestamp } from '../db/clock.js'
import type { Database } from '../db/schema.js'

export interface HitResult {
  /** Hits in the current window, this one included. */
  hits: number
  /** When the current window ends (ms since the epoch). */
  resetAt: number
}

/**
 * Counts `count` hits on `key` in the window of `windowMs` that `nowMs` falls in (windows are
 * aligned to multiples of `windowMs`, so every replica agrees on them).
 */
export async function hitRateLimit(
  db: Kysely<Database>,
  key: string,
  windowMs: number,
  nowMs: number = Date.now(),
  count = 1,
): Promise<HitResult> {
  const start = windowStartOf(nowMs, windowMs)
  const windowStart = timestamp(new Date(start))
  const row = await db
    .insertInto('rateLimits')
    .values({ key, windowStart, hits: count })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet((eb) => ({
        hits: eb
          .case()
          .when('rateLimits.windowStart', '=', eb.ref('excluded.windowStart'))
          .then(eb('rateLimits.hits', '+', count))
          .else(count)
          .end(),
        windowStart: eb.ref('excluded.windowStart'),
      })),
    )
    .returning('hits')
    .executeTakeFirstOrThrow()
  return { hits: Number(row.hits), resetAt: start + windowMs }
}

/** Deletes counters whose window began before `before`: keys of clients that went away. */
export async function sweepRateLimits(db: Kysely<Database>, before: Date): Promise<number> {
  const { numDeletedRows } = await db
    .deleteFrom('rateLimits')
    .where('windowStart', '<', timestamp(before))
    .executeTakeFirst()
  return Number(numDeletedRows)
}

/** The start (ms since the epoch) of the window of `windowMs` that `nowMs` falls in. */
export function windowStartOf(nowMs: number, windowMs: number): number {
  return nowMs - (nowMs % windowMs)
}
