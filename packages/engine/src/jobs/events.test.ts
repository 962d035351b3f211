import { describe, expect, it } from 'vitest'
import { JobProgress, TableSums, type JobEvent } from './events.js'

function progress(intervalMs = 100): {
  p: JobProgress
  events: JobEvent[]
  at: (t: number) => void
} {
  let now = 0
  const events: JobEvent[] = []
  const p = new JobProgress('snapshot', 'rows', (e) => events.push(e), {
    now: () => now,
    intervalMs,
  })
  return { p, events, at: (t) => (now = t) }
}

describe('JobProgress', () => {
  it('emits phase and table changes at once, updates at most once an interval', () => {
    const { p, events, at } = progress()
    p.phase('reading', { total: 100 })
    p.table('public.a')
    for (let t = 1; t <= 50; t++) {
      at(t * 10)
      p.update(t)
    }
    // 500 ms of updates every 10 ms: one per 100 ms.
    expect(events.filter((e) => e.phase === 'reading' && e.table === 'public.a').length).toBe(6)
    p.finish()
    expect(events.at(-1)).toMatchObject({ phase: 'done', table: null, done: 50, total: 100 })
    expect(events.at(-1)!.elapsedMs).toBe(500)
  })

  it('is cumulative: counters set or added, each event a copy', () => {
    const { p, events } = progress(0)
    p.update(3, { bytes: 10 })
    p.add(2, { bytes: 5, chunks: 1 })
    expect(events.map((e) => [e.done, e.counters])).toEqual([
      [3, { bytes: 10 }],
      [5, { bytes: 15, chunks: 1 }],
    ])
  })

  it('a phase with another unit starts counting again', () => {
    const { p, events } = progress(0)
    p.update(7)
    p.phase('deleting', { unit: 'objects', total: 3 })
    expect(events.at(-1)).toMatchObject({ phase: 'deleting', unit: 'objects', done: 0, total: 3 })
  })

  it('emits nothing without a listener', () => {
    expect(() => new JobProgress('prune', 'objects', undefined).finish()).not.toThrow()
  })
})

describe('TableSums', () => {
  it('sums the latest cumulative figures of each table', () => {
    const sums = new TableSums()
    sums.set('a', { rows: 10, bytes: 100 })
    sums.set('b', { rows: 5, bytes: 50 })
    expect(sums.set('a', { rows: 30, bytes: 300 })).toEqual({ rows: 35, bytes: 350 })
    expect(sums.set('b', { rows: 5, bytes: 50, done: 1 })).toEqual({
      rows: 35,
      bytes: 350,
      done: 1,
    })
  })
})
