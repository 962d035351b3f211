import { describe, expect, it } from 'vitest'
import type { SnapshotManifest } from '../repository/manifest.js'
import type { StoredSnapshot } from '../repository/repository.js'
import { applyPolicy } from './forget.js'

const snap = (id: string, name: string, startedAt: string): StoredSnapshot => ({
  id: id.padEnd(64, '0'),
  manifest: { name, startedAt } as SnapshotManifest,
})

// Two snapshots a day for ten days, newest last.
const daily = Array.from({ length: 20 }, (_, i) =>
  snap(
    i.toString(16).padStart(2, '0'),
    'shop',
    new Date(Date.UTC(2026, 10, 1 + Math.floor(i / 2), 6 + 12 * (i % 2))).toISOString(),
  ),
)
const kept = (decisions: ReturnType<typeof applyPolicy>): string[] =>
  decisions.filter((d) => d.keep).map((d) => d.id.slice(0, 2))

describe('applyPolicy', () => {
  it('keep-last', () => {
    expect(kept(applyPolicy(daily, { keepLast: 3 }))).toEqual(['13', '12', '11'])
  })

  it('keep-daily keeps the latest of each day', () => {
    expect(kept(applyPolicy(daily, { keepDaily: 3 }))).toEqual(['13', '11', '0f'])
  })

  it('keep-within is measured from the newest snapshot', () => {
    expect(kept(applyPolicy(daily, { keepWithinMs: 24 * 3600 * 1000 }))).toEqual(['13', '12', '11'])
  })

  it('rules add up, and names are decided separately', () => {
    const other = [snap('aa', 'crm', '2026-01-01T00:00:00.000Z')]
    const decisions = applyPolicy([...daily, ...other], { keepLast: 1, keepMonthly: 2 })
    expect(decisions.find((d) => d.id.startsWith('aa'))?.reasons).toEqual(['last', 'monthly'])
    expect(kept(decisions.filter((d) => d.name === 'shop'))).toEqual(['13'])
  })

  it('refuses an empty policy', () => {
    expect(() => applyPolicy(daily, {})).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    )
  })
})
