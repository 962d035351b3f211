// The checks a repository makes of every object it reads before trusting it: sizes bounded by
// what the index entry allows, content hashing to the id, delta chains no longer than written.

import { decodeColumnar } from './columnar.js'
import { MAX_DELTA_DEPTH, type AppliedDelta, type DeltaOp } from './delta.js'
import { DbsnapError } from '../errors.js'
import { objectKey } from './layout.js'
import { contentId, decodeHeader, decodeObject } from './object-format.js'

/** The buffer `columnarContentId` rebuilds content in; one up to `HASH_SCRATCH_MAX` is kept. */
let hashScratch: Buffer = Buffer.alloc(0)
const HASH_SCRATCH_MAX = 16 * 1024 * 1024

/**
 * The id of a columnar payload's content, rebuilt in a buffer reused chunk after chunk: a reader
 * of columns only hashes the content, and a fresh megabyte per chunk keeps the GC busy. The
 * rebuild and the hash are synchronous, so one buffer serves every read.
 */
export function columnarContentId(payload: Uint8Array, what: string, key: string): string {
  const content = decodeColumnar(payload, what, key, hashScratch)
  const id = contentId(content)
  // A content that did not fit was built in a buffer of its own: the next one reuses it.
  if (content.byteLength > hashScratch.byteLength && content.byteLength <= HASH_SCRATCH_MAX) {
    hashScratch = content
  }
  return id
}

/**
 * `decodeObject` of a data chunk whose content should be `options.bytes` long, refusing first a
 * header that declares more payload than such a chunk can have: a row-layout payload is the
 * content; a columnar one drops 2 bytes a row and adds 8 + 4 a column (a column takes at least
 * 2 bytes of a row), so at most 3 × content + 8; an edit script is at most half its chunk
 * (snapshots write no larger one), so at most the content.
 */
export function decodeChunk(
  stored: Uint8Array,
  id: string,
  what: string,
  options: { bytes?: number; table?: string },
): ReturnType<typeof decodeObject> {
  if (options.bytes !== undefined) {
    const header = decodeHeader(stored, what, objectKey(id))
    const limit = header.columnar ? 3 * options.bytes + 8 : options.bytes
    if (header.payloadBytes > limit) {
      throw new DbsnapError(
        'DATA_CORRUPT',
        `${what} is corrupt: its header declares a payload of ${header.payloadBytes} bytes, its index entry allows at most ${limit}`,
        { details: corruptDetails(id, options.table) },
      )
    }
  }
  return decodeObject(stored, what, objectKey(id))
}

/** A payload's bytes as text, without copying them first. */
export function utf8(payload: Uint8Array): string {
  return Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8')
}

/** Whether an edit script's op is complete for a diff: a dropping op carries the rows it drops. */
export function carriesLines(op: DeltaOp): op is AppliedDelta['ops'][number] {
  return op.op !== '-' || op.lines !== undefined
}

/** What messages call a chunk: `chunk <id> of <table>`, or `object <id>` when no table is known. */
export function chunkWhat(id: string, table: string | undefined): string {
  return table === undefined ? `object ${id}` : `chunk ${id} of ${table}`
}

/** The details of a `DATA_CORRUPT` error about a chunk: its key, and its table when known. */
export function corruptDetails(id: string, table: string | undefined): Record<string, string> {
  return table === undefined ? { object: objectKey(id) } : { object: objectKey(id), table }
}

/**
 * `DATA_CORRUPT` for a delta `chain` deltas above the object asked for, when that makes a chain
 * longer than snapshots write: a delta stored under its own base's id would loop forever.
 */
export function checkChain(id: string, chain: number, what: string, table?: string): void {
  if (chain >= MAX_DELTA_DEPTH) {
    throw new DbsnapError(
      'DATA_CORRUPT',
      `${what} is corrupt: its delta chain is longer than ${MAX_DELTA_DEPTH}`,
      { details: corruptDetails(id, table) },
    )
  }
}

/** `DATA_CORRUPT` unless content that hashes to `actual` is the object `id` names. */
export function checkId(id: string, actual: string, what: string, table?: string): void {
  if (actual !== id) {
    throw new DbsnapError(
      'DATA_CORRUPT',
      `${what} is corrupt: its content does not hash to its id`,
      {
        details: corruptDetails(id, table),
      },
    )
  }
}
