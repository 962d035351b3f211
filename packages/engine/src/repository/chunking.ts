// Where a table's rows are cut into chunks: after a row whose hashed key has its low `bits` bits
// all zero, within size guards. Boundaries depend on keys only, so an update, insert or delete
// moves no boundary but the one around it, and unchanged key ranges keep their chunk ids.

/** Chunking parameters of a repository (in its `config`). */
export interface ChunkingParams {
  /** Average chunk size aimed at, uncompressed canonical bytes. */
  targetBytes: number
  /** No cut before a chunk holds this many bytes. */
  minBytes: number
  /** A cut is forced once a chunk holds this many bytes. */
  maxBytes: number
}

export const DEFAULT_CHUNKING: ChunkingParams = {
  targetBytes: 1024 * 1024,
  minBytes: 256 * 1024,
  maxBytes: 4 * 1024 * 1024,
}

/**
 * The key hash of the boundary rule: 32-bit FNV-1a over the UTF-8 bytes of the key's canonical
 * JSON, then MurmurHash3's fmix32 so that the low bits mix well for sequential keys.
 */
export function keyHash(key: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    let c = key.charCodeAt(i)
    if (c < 0x80) {
      h = Math.imul(h ^ c, 0x01000193)
      continue
    }
    if (c >= 0xd800 && c <= 0xdfff) {
      const low = c <= 0xdbff && i + 1 < key.length ? key.charCodeAt(i + 1) : 0
      if (low >= 0xdc00 && low <= 0xdfff) {
        c = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00)
        i++
      } else {
        c = 0xfffd // a lone surrogate is written as U+FFFD in UTF-8
      }
    }
    if (c < 0x800) {
      h = Math.imul(h ^ (0xc0 | (c >> 6)), 0x01000193)
    } else if (c < 0x10000) {
      h = Math.imul(h ^ (0xe0 | (c >> 12)), 0x01000193)
      h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), 0x01000193)
    } else {
      h = Math.imul(h ^ (0xf0 | (c >> 18)), 0x01000193)
      h = Math.imul(h ^ (0x80 | ((c >> 12) & 0x3f)), 0x01000193)
      h = Math.imul(h ^ (0x80 | ((c >> 6) & 0x3f)), 0x01000193)
    }
    h = Math.imul(h ^ (0x80 | (c & 0x3f)), 0x01000193)
  }
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/**
 * How many low hash bits must be zero for a cut, so that chunks average about
 * `params.targetBytes` for rows of `averageRowBytes`. Chosen once per table and then kept from
 * snapshot to snapshot (a changed rule would move every boundary). `averageRowBytes` is
 * measured on the table's own first rows (snapshot.ts), never taken from planner statistics: the
 * same rows then get the same boundaries in any database.
 */
export function chunkBitsFor(averageRowBytes: number, params: ChunkingParams): number {
  const rowBytes = Math.max(1, averageRowBytes)
  const rowsAfterMin = Math.max(1, (params.targetBytes - params.minBytes) / rowBytes)
  return Math.min(30, Math.max(0, Math.round(Math.log2(rowsAfterMin))))
}

/** Whether a chunk of `bytes` bytes ends after a row whose key hashes to `hash`. */
export function isBoundary(
  hash: number,
  bytes: number,
  bits: number,
  params: ChunkingParams,
): boolean {
  if (bytes >= params.maxBytes) return true
  if (bytes < params.minBytes) return false
  return bits === 0 || (hash & ((1 << bits) - 1)) === 0
}
