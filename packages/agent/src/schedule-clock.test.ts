import { describe, expect, it } from 'vitest'
import { dueTick } from './schedule-clock.js'

const at = (iso: string) => new Date(iso)

describe('dueTick', () => {
  it('is undefined until the next tick comes', () => {
    expect(
      dueTick('0 3 * * *', 'UTC', at('2026-12-03T03:00:00Z'), at('2026-12-04T02:59:59Z')),
    ).toBeUndefined()
  })

  it('gives the tick that came, with nothing skipped', () => {
    expect(
      dueTick('0 3 * * *', 'UTC', at('2026-12-03T03:00:00Z'), at('2026-12-04T03:00:00.500Z')),
    ).toEqual({ at: at('2026-12-04T03:00:00Z'), skipped: 0 })
  })

  it('folds the ticks missed while the agent was down into one run, the latest', () => {
    expect(
      dueTick('0 3 * * *', 'UTC', at('2026-12-01T03:00:00Z'), at('2026-12-05T12:00:00Z')),
    ).toEqual({ at: at('2026-12-05T03:00:00Z'), skipped: 3 })
  })

  it('reads the expression in the schedule’s time zone, across a DST change', () => {
    // 03:00 in Paris is 02:00 UTC in winter and 01:00 UTC in summer.
    expect(
      dueTick('0 3 * * *', 'Europe/Paris', at('2026-12-03T02:00:00Z'), at('2026-12-04T02:00:00Z')),
    ).toEqual({ at: at('2026-12-04T02:00:00Z'), skipped: 0 })
    expect(
      dueTick('0 3 * * *', 'Europe/Paris', at('2026-03-28T02:00:00Z'), at('2026-03-29T12:00:00Z')),
    ).toEqual({ at: at('2026-03-29T01:00:00Z'), skipped: 0 })
  })

  it('takes seconds, and stays quick after a long outage of a per-second schedule', () => {
    const started = Date.now()
    const due = dueTick(
      '* * * * * *',
      'UTC',
      at('2026-01-01T00:00:00Z'),
      at('2026-12-03T10:00:00Z'),
    )
    expect(due?.at).toEqual(at('2026-12-03T10:00:00Z'))
    expect(Date.now() - started).toBeLessThan(5_000)
  })
})
