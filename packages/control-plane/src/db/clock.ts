// Times as the data layer stores them (schema.ts): ISO-8601 UTC with milliseconds.

import type { Timestamp } from './schema.js'

/** `date` (default: now) as a stored time. */
export function timestamp(date: Date = new Date()): Timestamp {
  return date.toISOString()
}

/** The UTC day (`YYYY-MM-DD`) of a stored time. */
export function dayOf(time: Timestamp): string {
  return time.slice(0, 10)
}
