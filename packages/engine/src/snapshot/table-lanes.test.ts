import { setTimeout as delay } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import type { TableReader } from '../adapters/source-adapter.js'
import type { CanonicalRow } from '../canonical/value-encoding.js'
import type { TableSchema } from '../schema/schema.js'
import { TablesFinishing, inLanes, readingOrder } from './table-lanes.js'

/** Readers that read nothing; only their identity matters here. */
function readers(count: number): TableReader[] {
  const nothing: AsyncIterable<CanonicalRow[]> = {
    [Symbol.asyncIterator]: () => ({
      next: () => Promise.resolve({ done: true as const, value: undefined }),
    }),
  }
  return Array.from({ length: count }, () => ({ readTable: () => nothing }))
}

describe('inLanes', () => {
  it('runs every index once, each reader one at a time, in order of taking', async () => {
    const lanes = readers(3)
    const seen: [number, number][] = []
    const busy = new Set<TableReader>()
    await inLanes(lanes, [5, 3, 1, 0, 2, 4], {
      signal: undefined,
      claim: () => Promise.resolve(true),
      work: async (reader, index) => {
        expect(busy.has(reader)).toBe(false)
        busy.add(reader)
        seen.push([lanes.indexOf(reader), index])
        await delay(1 + index)
        busy.delete(reader)
      },
    })
    expect(seen.map(([, index]) => index)).toEqual([5, 3, 1, 0, 2, 4])
    expect(new Set(seen.map(([lane]) => lane))).toEqual(new Set([0, 1, 2]))
  })

  it('leaves a table an extra reader cannot claim to the view, which waits for such tables', async () => {
    const lanes = readers(2)
    const readBy = new Map<number, number>()
    await inLanes(lanes, [0, 1, 2], {
      signal: undefined,
      // The extra reader refuses table 2 only, and only after a while: the view must wait.
      claim: async (_reader, index) => {
        await delay(20)
        return index !== 2
      },
      work: async (reader, index) => {
        readBy.set(index, lanes.indexOf(reader))
        await delay(index === 0 ? 1 : 5)
      },
    })
    expect([...readBy.keys()].sort()).toEqual([0, 1, 2])
    expect(readBy.get(2)).toBe(0)
  })

  it('aborts the other lanes on the first failure and throws it once all have stopped', async () => {
    const lanes = readers(3)
    let running = 0
    const failure = new Error('boom')
    const pending = inLanes(lanes, [0, 1, 2, 3, 4, 5], {
      signal: undefined,
      claim: () => Promise.resolve(true),
      work: async (_reader, index, signal) => {
        running++
        try {
          if (index === 1) throw failure
          await delay(1000, undefined, { signal })
        } finally {
          running--
        }
      },
    })
    await expect(pending).rejects.toBe(failure)
    expect(running).toBe(0)
  })
})

describe('readingOrder', () => {
  const table = (estimatedBytes: number | null): TableSchema =>
    ({ estimatedBytes, estimatedRows: null }) as TableSchema
  const tables = [table(10), table(null), table(30), table(10), table(20)]

  it('keeps the listed order on one reader', () => {
    expect(readingOrder(tables, 1)).toEqual([0, 1, 2, 3, 4])
  })

  it('puts the largest first on several, ties in listed order', () => {
    expect(readingOrder(tables, 4)).toEqual([2, 4, 0, 3, 1])
  })
})

describe('TablesFinishing', () => {
  it('gives results by index, whatever the order they were added in', async () => {
    const finishing = new TablesFinishing<string>(2)
    await finishing.add(
      2,
      delay(5).then(() => 'c'),
    )
    await finishing.add(0, Promise.resolve('a'))
    await finishing.add(
      1,
      delay(1).then(() => 'b'),
    )
    expect(await finishing.results()).toEqual(['a', 'b', 'c'])
  })
})
