// Human durations on the command line and in config: `500ms`, `10s`, `5m`, `12h`, `30d`, `2w`.

import { DbsnapError } from '../errors.js'

const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
}

/**
 * Parses a duration into milliseconds. A bare number means seconds.
 *
 * @example
 * parseDuration('1m30s') // 90000
 */
export function parseDuration(text: string, what = 'duration'): number {
  const trimmed = text.trim()
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000)
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy
  let total = 0
  let consumed = 0
  for (const match of trimmed.matchAll(part)) {
    total += Number(match[1]) * (UNIT_MS[match[2] ?? ''] ?? Number.NaN)
    consumed += match[0].length
  }
  if (trimmed === '' || consumed !== trimmed.length || !Number.isFinite(total)) {
    throw new DbsnapError(
      'INVALID_ARGUMENT',
      `${what} must look like 500ms, 10s, 5m, 12h, 30d or 2w (or a number of seconds); got ${JSON.stringify(text)}`,
    )
  }
  return Math.round(total)
}
