// When a schedule runs, given when it last did: the latest tick of its cron expression (in its
// time zone) that has come, if a tick came since. An agent that was down for many ticks gets
// the latest one only: one catch-up run, not a burst. Pure, with the clock passed in.

import { Cron } from 'croner'

/** Ticks counted one by one at most; past that the latest is found by a backward search. */
const MAX_WALK = 1_000

export interface DueTick {
  /** The scheduled time to run for. */
  at: Date
  /** Ticks that came since `last` and are folded into this one run (counted up to 1,000). */
  skipped: number
}

/**
 * The tick to run now for `cron` in `timezone`, the last one handled being `last`; undefined
 * when no tick has come since `last`.
 *
 * @example
 * dueTick('0 3 * * *', 'Europe/Paris', new Date('2026-12-01T02:00:00Z'), new Date('2026-12-03T12:00:00Z'))
 * // → { at: 2026-12-03T02:00:00Z, skipped: 1 }: the 2nd's and 3rd's runs folded into one
 */
export function dueTick(
  cron: string,
  timezone: string,
  last: Date,
  now: Date,
): DueTick | undefined {
  const job = new Cron(cron, { timezone, paused: true })
  const first = job.nextRun(last)
  if (first === null || first > now) return undefined
  let at = first
  for (let skipped = 0; skipped < MAX_WALK; skipped++) {
    const next = job.nextRun(at)
    if (next === null || next > now) return { at, skipped }
    at = next
  }
  return { at: latestTick(job, at, now), skipped: MAX_WALK }
}

/**
 * The latest tick in (`after`, `now`], found by looking back from `now` over windows that double
 * until one holds a tick, then walking forward the few ticks left in it.
 */
function latestTick(job: Cron, after: Date, now: Date): Date {
  let latest = after
  for (let windowMs = 1_000; now.getTime() - windowMs > after.getTime(); windowMs *= 2) {
    const candidate = job.nextRun(new Date(now.getTime() - windowMs))
    if (candidate !== null && candidate <= now) {
      latest = candidate
      break
    }
  }
  for (let step = 0; step < MAX_WALK; step++) {
    const next = job.nextRun(latest)
    if (next === null || next > now) break
    latest = next
  }
  return latest
}
