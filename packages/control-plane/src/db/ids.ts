// Ids of the control plane's rows: UUIDv7 (RFC 9562) as lower-case text. Time-ordered, so new
// rows land at the end of B-tree indexes on both dialects, and unguessable (74 random bits).

import { randomFillSync } from 'node:crypto'

let lastMs = -1
let lastSeq = 0

/**
 * A new UUIDv7: 48 bits of Unix milliseconds, then version and a 12-bit counter (RFC 9562
 * method 1, so ids made in the same millisecond by this process still sort in creation order),
 * then variant and 62 random bits.
 */
export function newId(now: number = Date.now()): string {
  const bytes = new Uint8Array(16)
  randomFillSync(bytes, 6)
  let ms = Math.max(now, lastMs)
  if (ms === lastMs) {
    lastSeq += 1
    if (lastSeq > 0xfff) {
      // The counter ran out within one millisecond: borrow the next one (still monotonic).
      ms += 1
      lastSeq = bytes[6]! & 0x3f
    }
  } else {
    // Start the counter low with random bits, leaving room to count up within the millisecond.
    lastSeq = ((bytes[6]! & 0x07) << 8) | bytes[7]!
  }
  lastMs = ms
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256
    ms = Math.floor(ms / 256)
  }
  bytes[6] = 0x70 | (lastSeq >> 8)
  bytes[7] = lastSeq & 0xff
  bytes[8] = 0x80 | (bytes[8]! & 0x3f)
  const hex = Buffer.from(bytes).toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}
