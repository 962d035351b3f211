// When a schedule runs, given when it last did: the latest tick of its cron expression (in its
// time zone) that has come, if a tick came since. An agent that was down for many ticks gets
// the latest one only: one catch-up run, not a burst. Pure, with the clock passed in.

import { Cron } from 'croner'

const DAY_MS = 86_400_000
/** How far back the latest missed tick is looked for among many (a per-second cron, days down). */
const LOOKBACK_MS = 8 * DAY_MS
/** Most ticks walked to find the latest. */
const MAX_STEPS = 100_000

export interface DueTick {
  /** The scheduled time to run for. */
  at: Date
  /** Ticks that came since `last` and are folded into this one run. */
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
  let skipped = 0
  // Long gaps: start the walk within the look-back window, counting what is before it roughly.
  if (now.getTime() - first.getTime() > LOOKBACK_MS) {
    const recent = job.nextRun(new Date(now.getTime() - LOOKBACK_MS))
    if (recent !== null && recent <= now) {
      at = recent
      skipped = 1
    }
  }
  for (let step = 0; step < MAX_STEPS; step++) {
    const next = job.nextRun(at)
    if (next === null || next > now) break
    at = next
    skipped++
  }
  return { at, skipped }
}
