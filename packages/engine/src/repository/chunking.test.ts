import { describe, expect, it } from 'vitest'
import { DEFAULT_CHUNKING, chunkBitsFor, isBoundary, keyHash } from './chunking.js'

describe('keyHash', () => {
  // The values are part of the on-storage format: changing them moves every chunk boundary.
  it.each([
    ['', 0xab3e7c0b],
    ['[1]', 0xe7a1f7be],
    ['["a",2]', 0xe6a55de6],
  ])('is stable for %j', (key, expected) => {
    expect(keyHash(key)).toBe(expected)
  })

  it('hashes the UTF-8 bytes of the key', () => {
    const fnvUtf8 = (text: string): number => {
      let h = 0x811c9dc5
      for (const byte of Buffer.from(text, 'utf8')) h = Math.imul(h ^ byte, 0x01000193)
      h ^= h >>> 16
      h = Math.imul(h, 0x85ebca6b)
      h ^= h >>> 13
      h = Math.imul(h, 0xc2b2ae35)
      h ^= h >>> 16
      return h >>> 0
    }
    for (const key of ['[1]', '["é"]', '["日本"]', '["😀"]', '["a\\u0000"]', '["\ud800"]']) {
      expect(keyHash(key)).toBe(fnvUtf8(key))
    }
  })

  it('spreads sequential keys evenly over the low bits', () => {
    const bits = 6
    let cuts = 0
    for (let i = 0; i < 64_000; i++) if ((keyHash(`[${i}]`) & ((1 << bits) - 1)) === 0) cuts++
    expect(cuts).toBeGreaterThan(800)
    expect(cuts).toBeLessThan(1200)
  })
})

describe('chunk boundaries', () => {
  it('respects the size guards', () => {
    expect(isBoundary(0, DEFAULT_CHUNKING.minBytes - 1, 4, DEFAULT_CHUNKING)).toBe(false)
    expect(isBoundary(0, DEFAULT_CHUNKING.minBytes, 4, DEFAULT_CHUNKING)).toBe(true)
    expect(isBoundary(1, DEFAULT_CHUNKING.minBytes, 4, DEFAULT_CHUNKING)).toBe(false)
    expect(isBoundary(1, DEFAULT_CHUNKING.maxBytes, 4, DEFAULT_CHUNKING)).toBe(true)
  })

  it('aims at the target size', () => {
    // 100-byte rows: (1 MiB - 256 KiB) / 100 ≈ 7864 rows ≈ 2^13 after the minimum.
    expect(chunkBitsFor(100, DEFAULT_CHUNKING)).toBe(13)
    expect(chunkBitsFor(10 * 1024 * 1024, DEFAULT_CHUNKING)).toBe(0)
  })
})
