// Compression codecs of chunk objects: zstd (default), gzip, deflate or none, each with a level.
// All run on Node's own zlib, synchronously on the calling thread: decision 0008 says why.

import zlib from 'node:zlib'
import { DbsnapError } from '../errors.js'

export type CodecName = 'none' | 'zstd' | 'gzip' | 'deflate'

export interface CodecSpec {
  name: CodecName
  /** zstd 1–19 (22 with ultra), gzip/deflate 1–9; 0 for `none`. */
  level: number
}

/** Numeric codec ids in chunk headers: part of the on-storage format, never renumbered. */
export const CODEC_IDS: Readonly<Record<CodecName, number>> = {
  none: 0,
  zstd: 1,
  gzip: 2,
  deflate: 3,
}

const LEVELS: Readonly<Record<CodecName, { min: number; max: number; default: number }>> = {
  none: { min: 0, max: 0, default: 0 },
  zstd: { min: 1, max: 19, default: 3 },
  gzip: { min: 1, max: 9, default: 6 },
  deflate: { min: 1, max: 9, default: 6 },
}

/** The default codec; docs/compression.md gives the measurements behind it. */
export const DEFAULT_CODEC: CodecSpec = { name: 'zstd', level: 3 }

/**
 * Parses `zstd`, `zstd:3`, `gzip:9`, `deflate`, `none`.
 *
 * @example parseCodec('zstd:7') // { name: 'zstd', level: 7 }
 */
export function parseCodec(text: string): CodecSpec {
  const [rawName = '', rawLevel, ...rest] = text.trim().toLowerCase().split(':')
  const name = rawName as CodecName
  const range = Object.hasOwn(LEVELS, name) ? LEVELS[name] : undefined
  if (range === undefined || rest.length > 0) {
    throw new DbsnapError(
      'INVALID_ARGUMENT',
      `expected a compression of zstd, gzip, deflate or none with an optional :level, got "${text}"`,
    )
  }
  if (rawLevel === undefined) return { name, level: range.default }
  const level = Number(rawLevel)
  if (!Number.isInteger(level) || level < range.min || level > range.max) {
    throw new DbsnapError(
      'INVALID_ARGUMENT',
      `expected a ${name} level from ${range.min} to ${range.max}, got "${rawLevel}"`,
    )
  }
  return { name, level }
}

export function formatCodec(spec: CodecSpec): string {
  return spec.name === 'none' ? 'none' : `${spec.name}:${spec.level}`
}

export function codecById(id: number): CodecName {
  const found = (Object.keys(CODEC_IDS) as CodecName[]).find((name) => CODEC_IDS[name] === id)
  if (found === undefined) throw new DbsnapError('DATA_CORRUPT', `unknown codec id ${id}`)
  return found
}

/**
 * The largest output piece of a compression. Output is produced in pieces and joined; a piece is
 * allocated whole for every call, so it is sized to what the input can compress to (the codecs'
 * bound) up to this: a 13 KiB chunk compressed into a 256 KiB piece cost ten times the
 * compression itself (allocation and the garbage it leaves), and most snapshots' chunks are small.
 * It covers the largest default chunk (4 MiB, and its columnar payload) because zstd compresses
 * straight into the output only when one piece can hold the bound; with less room it first copies
 * the input through a window buffer of its own, new for every chunk: 1 MiB pieces made the chunks
 * over 1 MiB of the shapes bench's issue and text tables compress at 155–232 MB/s instead of
 * 187–329.
 * Only the bytes written are touched, so a large piece costs address space, not memory.
 */
const MAX_COMPRESS_PIECE = 16 * 1024 * 1024

/** The smallest output piece node:zlib accepts. */
const CHUNK_SIZE_MIN = 64

export function compress(spec: CodecSpec, raw: Uint8Array): Uint8Array {
  // Above every codec's worst case (zstd: n + n/256 + a header; deflate less), so the output is
  // one piece unless the cap applies.
  const chunkSize = Math.min(
    Math.max(CHUNK_SIZE_MIN, raw.length + (raw.length >>> 8) + 1024),
    MAX_COMPRESS_PIECE,
  )
  switch (spec.name) {
    case 'none':
      return raw
    case 'zstd':
      return zlib.zstdCompressSync(raw, {
        chunkSize,
        // The size is known: zstd sizes its window and tables to it, instead of allocating and
        // clearing level 3's (several MiB) for a few kilobytes.
        pledgedSrcSize: raw.length,
        params: {
          [zlib.constants.ZSTD_c_compressionLevel]: spec.level,
          [zlib.constants.ZSTD_c_contentSizeFlag]: 1,
          // An xxhash64 of the content in the frame: decompression then names a damaged frame
          // as such, at no measurable cost. It proves nothing about which content the frame
          // holds, so readers still check the SHA-256 against the id (decision 0015).
          [zlib.constants.ZSTD_c_checksumFlag]: 1,
        },
      })
    case 'gzip':
      return zlib.gzipSync(raw, { level: spec.level, chunkSize })
    case 'deflate':
      return zlib.deflateRawSync(raw, { level: spec.level, chunkSize })
  }
}

/**
 * Output of a decompression goes into one buffer of the promised length plus one byte (a full
 * buffer would make node:zlib allocate another), so that it needs no join, up to this size.
 */
const MAX_OUTPUT_PIECE = 16 * 1024 * 1024

/**
 * Decompresses, refusing to produce more than `maxBytes` (the length the header promises), so a
 * hostile object cannot exhaust memory.
 */
export function decompress(name: CodecName, stored: Uint8Array, maxBytes: number): Uint8Array {
  const options = {
    maxOutputLength: Math.max(1, maxBytes),
    chunkSize: Math.min(Math.max(CHUNK_SIZE_MIN, maxBytes + 1), MAX_OUTPUT_PIECE),
  }
  try {
    switch (name) {
      case 'none':
        return stored
      case 'zstd':
        return zlib.zstdDecompressSync(stored, options)
      case 'gzip':
        return zlib.gunzipSync(stored, options)
      case 'deflate':
        return zlib.inflateRawSync(stored, options)
    }
  } catch (err) {
    throw new DbsnapError('DATA_CORRUPT', `${name} data does not decompress`, { cause: err })
  }
}
