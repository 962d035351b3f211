import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { compress, decompress, parseCodec } from './codec.js'

// Output pieces are sized from the input: incompressible data (output larger than the input),
// inputs over 1 MiB, around the 16 MiB cap, and empty ones must still come back whole.
const sizes = [0, 1, 100, 64 * 1024, 1024 * 1024 - 100, 3 * 1024 * 1024, 16 * 1024 * 1024 + 100]

describe('compress', () => {
  it.each(['zstd:3', 'gzip:6', 'deflate:1'])(
    'round-trips random and repetitive data with %s',
    (text) => {
      const spec = parseCodec(text)
      for (const size of sizes) {
        for (const raw of [randomBytes(size), Buffer.alloc(size, 'ab')]) {
          const stored = compress(spec, raw)
          expect(Buffer.from(decompress(spec.name, stored, size)).equals(raw)).toBe(true)
        }
      }
    },
  )
})
