import { describe, expect, it } from 'vitest'
import { rowLine, type CanonicalRow } from '../canonical/value-encoding.js'
import { DEFAULT_CHUNKING, chunkBitsFor, type ChunkingParams } from '../repository/chunking.js'
import { DEFAULT_CODEC } from '../repository/codec.js'
import { Repository } from '../repository/repository.js'
import { MemoryStorage } from '../storage/memory/memory-storage.js'
import { ChunkBuffers, TableWriter } from './table-writer.js'

/** Small enough for a test's tables to cross, the proportions of the default. */
const CHUNKING: ChunkingParams = { targetBytes: 16 * 1024, minBytes: 4 * 1024, maxBytes: 64 * 1024 }

function rows(count: number, from = 0): CanonicalRow[] {
  return Array.from({ length: count }, (_, i) => [from + i, `row ${from + i}`, (from + i) % 7])
}

async function writer(
  options: { chunkBits?: number | null; buffers?: ChunkBuffers; chunking?: ChunkingParams } = {},
): Promise<TableWriter> {
  const repository = await Repository.open(new MemoryStorage(), { create: true })
  const chunking = options.chunking ?? CHUNKING
  return new TableWriter({
    repository,
    codec: DEFAULT_CODEC,
    chunking,
    chunkBits: options.chunkBits ?? null,
    columnCount: 3,
    keyColumns: [0],
    previous: [],
    concurrency: 2,
    buffers: options.buffers ?? new ChunkBuffers(chunking),
  })
}

/** The bytes of the first rows up to the one that brings their lines to `minBytes`, and their count. */
function firstRows(all: CanonicalRow[], minBytes: number): { bytes: number; count: number } {
  let bytes = 0
  let count = 0
  for (const row of all) {
    if (bytes >= minBytes) break
    bytes += Buffer.byteLength(rowLine(row), 'utf8') + 1
    count++
  }
  return { bytes, count }
}

describe('TableWriter', () => {
  it('chooses the chunk bits from the rows up to minBytes, however the rows are batched', async () => {
    const all = rows(2000)
    const { bytes, count } = firstRows(all, CHUNKING.minBytes)
    expect(count).toBeLessThan(all.length)
    const expected = chunkBitsFor(bytes / count, CHUNKING)
    const chunkLists: string[][] = []
    for (const size of [1, 7, 500, 2000]) {
      const w = await writer()
      for (let i = 0; i < all.length; i += size) await w.add(all.slice(i, i + size))
      const chunks = await w.finish()
      expect(w.chunkBits).toBe(expected)
      chunkLists.push(chunks.map((c) => c.id))
    }
    expect(chunkLists[0]!.length).toBeGreaterThan(1)
    for (const list of chunkLists) expect(list).toEqual(chunkLists[0])
  })

  it('chooses from all its rows a table that ends before minBytes, and 0 for an empty one', async () => {
    const few = rows(20)
    const { bytes, count } = firstRows(few, CHUNKING.minBytes)
    expect(bytes).toBeLessThan(CHUNKING.minBytes)
    const small = await writer()
    await small.add(few)
    expect(await small.finish()).toHaveLength(1)
    expect(small.chunkBits).toBe(chunkBitsFor(bytes / count, CHUNKING))

    const empty = await writer()
    expect(await empty.finish()).toEqual([])
    expect(empty.chunkBits).toBe(0)
  })

  it('keeps the chunk bits it is given', async () => {
    const given = await writer({ chunkBits: 3 })
    await given.add(rows(2000))
    await given.finish()
    expect(given.chunkBits).toBe(3)
  })

  it('gives back every content buffer it takes, so tables in turn reuse the same ones', async () => {
    const buffers = new ChunkBuffers(DEFAULT_CHUNKING)
    let taken = 0
    let given = 0
    const pool = buffers.content
    const take = pool.take.bind(pool)
    const give = pool.give.bind(pool)
    pool.take = (bytes?: number) => {
      taken++
      return take(bytes)
    }
    pool.give = (buffer) => {
      if (buffer !== null) given++
      give(buffer)
    }
    for (let table = 0; table < 10; table++) {
      const w = await writer({ buffers, chunking: DEFAULT_CHUNKING })
      // Tables of 0 to 9 small batches: an empty one takes none.
      for (let batch = 0; batch < table; batch++) await w.add(rows(50, batch * 50))
      await w.finish()
    }
    expect(taken).toBe(9)
    expect(given).toBe(taken)
  })
})
