// The columnar layout of a data chunk's payload: the same canonical rows, stored column by
// column so that similar values sit together and compress 15–20% better (decision 0007). The
// chunk's content, and so its id, is still the canonical row lines.

import { DbsnapError } from '../errors.js'
import { MAX_OBJECT_BYTES } from './object-format.js'

/**
 * The canonical row lines a columnar payload stands for: the chunk's content, what its id
 * hashes. Built byte by byte from the payload, without a string per value or per row: every
 * read of a columnar chunk pays this for the hash check (decision 0015). Written into `into`
 * when it fits (the result is then a view of it), so a reader that only hashes the content can
 * reuse one buffer chunk after chunk.
 */
export function decodeColumnar(
  payload: Uint8Array,
  what: string,
  key = what,
  into?: Buffer,
): Buffer {
  const { buf, rows, starts, ends, corrupt } = columnTable(payload, what, key)
  const count = starts.length
  // Where each column's next value starts. A section ends with a newline (`columnTable` checks),
  // so each value's scan below stops inside its own section without a bounds check.
  const cursor = starts
  // Each value trades its newline for a comma or the closing bracket; each row adds `[` and `\n`.
  const length = buf.byteLength - 8 - 4 * count + (count === 0 ? 3 : 2) * rows
  if (length > MAX_OBJECT_BYTES) throw corrupt(`${rows} rows in a payload of ${buf.byteLength}`)
  const out =
    into !== undefined && into.byteLength >= length
      ? into.subarray(0, length)
      : Buffer.allocUnsafe(length)
  let o = 0
  for (let r = 0; r < rows; r++) {
    out[o++] = OPEN
    for (let j = 0; j < count; j++) {
      let at = cursor[j]!
      if (at >= ends[j]!) throw corrupt(`column ${j} holds fewer values than ${rows} rows`)
      // Copied while scanned: one pass over each byte.
      let c: number
      while ((c = buf[at++]!) !== NEWLINE) out[o++] = c
      out[o++] = COMMA
      cursor[j] = at
    }
    if (count > 0) o--
    out[o++] = CLOSE
    out[o++] = NEWLINE
  }
  for (let j = 0; j < count; j++) {
    if (cursor[j] !== ends[j]) throw corrupt(`column ${j} holds more values than ${rows} rows`)
  }
  return out
}

/**
 * The header and column table of a columnar payload, checked: its row count, where each
 * column's section starts and ends (the sections fill the payload exactly), and the error a
 * reader throws for anything else it finds wrong in it.
 */
function columnTable(
  payload: Uint8Array,
  what: string,
  key: string,
): {
  buf: Buffer
  rows: number
  starts: number[]
  ends: number[]
  corrupt: (why: string) => DbsnapError
} {
  const buf = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)
  const corrupt = (why: string): DbsnapError =>
    new DbsnapError('DATA_CORRUPT', `${what} is corrupt: ${why}`, { details: { object: key } })
  if (buf.byteLength < 8) throw corrupt('truncated columnar payload')
  const rows = buf.readUInt32LE(0)
  const count = buf.readUInt32LE(4)
  if (8 + 4 * count > buf.byteLength) throw corrupt('truncated column table')
  const starts = new Array<number>(count)
  const ends = new Array<number>(count)
  let offset = 8 + 4 * count
  for (let j = 0; j < count; j++) {
    const length = buf.readUInt32LE(8 + 4 * j)
    if (offset + length > buf.byteLength) throw corrupt(`column ${j} runs past the payload`)
    starts[j] = offset
    offset += length
    ends[j] = offset
    if (length > 0 && buf[offset - 1] !== NEWLINE) throw corrupt(`column ${j} is cut short`)
  }
  if (offset !== buf.byteLength) throw corrupt('bytes after the last column')
  return { buf, rows, starts, ends, corrupt }
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COMMA = 0x2c
const OPEN = 0x5b
const CLOSE = 0x5d
const NEWLINE = 0x0a
/** Bytes of a string scanned in a loop before the columnar split searches natively. */
const SHORT_STRING = 16

/**
 * The columnar payload of a chunk's canonical content (`rows` lines, each a JSON array of
 * `columns` primitive values). Works on the bytes directly: values are split at the commas
 * outside strings, so no row is parsed into JavaScript values. The payload is written into
 * `into` when it fits (it never needs more than `columnarCapacity(content.length, columns)`),
 * so a caller can reuse one buffer for chunk after chunk.
 */
export function rowsToColumnar(
  content: Buffer,
  rows: number,
  columns: number,
  into?: Buffer,
): Buffer {
  const bounds = boundsFor(rows * columns * 2)
  const sizes = new Array<number>(columns).fill(0)
  let at = 0
  let b = 0
  const malformed = (): never => {
    throw new DbsnapError('INTERNAL', `a canonical row is not an array of ${columns} values`)
  }
  for (let r = 0; r < rows; r++) {
    if (content[at] !== OPEN) malformed()
    at++
    if (columns === 0) {
      if (content[at] !== CLOSE) malformed()
    }
    for (let j = 0; j < columns; j++) {
      const start = at
      if (content[at] === QUOTE) {
        // To the closing quote. Most strings are short: a loop over their first bytes, stepping
        // over each escape (`\` and the byte after it), costs less than a call of `indexOf`.
        // Past those, one native search finds the next quote, which ends a long text. A quote
        // after an odd run of backslashes is escaped: the string holds quotes (JSON in a text
        // or jsonb column has dozens), and a search per quote would cost a call each, so the
        // loop takes the rest of it.
        at++
        const loopEnd = Math.min(at + SHORT_STRING, content.length)
        let c = content[at]
        while (at < loopEnd && c !== QUOTE) {
          at += c === BACKSLASH ? 2 : 1
          c = content[at]
        }
        if (c !== QUOTE) {
          const quote = content.indexOf(QUOTE, at)
          if (quote < 0) malformed()
          let slashes = 0
          while (content[quote - 1 - slashes] === BACKSLASH) slashes++
          at = quote
          if (slashes % 2 === 1) {
            // The escape ends at the quote: the loop starts after it, on a character.
            at++
            c = content[at]
            while (c !== QUOTE) {
              if (at >= content.length) malformed()
              at += c === BACKSLASH ? 2 : 1
              c = content[at]
            }
          }
        }
        at++
      } else {
        while (at < content.length && content[at] !== COMMA && content[at] !== CLOSE) at++
      }
      bounds[b++] = start
      bounds[b++] = at
      sizes[j]! += at - start + 1
      const separator = content[at]
      if (separator !== (j === columns - 1 ? CLOSE : COMMA)) malformed()
      at++
    }
    if (columns === 0) at++
    if (content[at] !== NEWLINE) malformed()
    at++
  }
  const head = 8 + 4 * columns
  const length = head + sizes.reduce((a, x) => a + x, 0)
  const out =
    into !== undefined && into.byteLength >= length
      ? into.subarray(0, length)
      : Buffer.allocUnsafe(length)
  out.writeUInt32LE(rows, 0)
  out.writeUInt32LE(columns, 4)
  const cursor = new Array<number>(columns)
  let offset = head
  for (let j = 0; j < columns; j++) {
    out.writeUInt32LE(sizes[j]!, 8 + 4 * j)
    cursor[j] = offset
    offset += sizes[j]!
  }
  b = 0
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < columns; j++) {
      const start = bounds[b++]!
      const end = bounds[b++]!
      let pos = cursor[j]!
      if (end - start > 32) {
        // `set` of a view: Buffer#copy makes the same view after checks of its own, which cost
        // more than the copy for values of a few dozen bytes.
        out.set(content.subarray(start, end), pos)
        pos += end - start
      } else {
        for (let k = start; k < end; k++) out[pos++] = content[k]!
      }
      out[pos++] = NEWLINE
      cursor[j] = pos
    }
  }
  return out
}

/** Value bounds of the last chunk, reused: the conversion is synchronous, so one is enough. */
let scratch = new Int32Array(0)
/** Scratch arrays up to this many entries (4 MiB) are kept; larger ones are one-offs. */
const SCRATCH_MAX = 1 << 20

function boundsFor(entries: number): Int32Array {
  if (entries > SCRATCH_MAX) return new Int32Array(entries)
  if (scratch.length < entries) scratch = new Int32Array(Math.min(SCRATCH_MAX, entries * 2))
  return scratch
}

/**
 * Bytes enough for the columnar payload of `contentBytes` of canonical rows: each value trades
 * its separator for a newline and each row loses its brackets, so only the column table is added.
 */
export function columnarCapacity(contentBytes: number, columns: number): number {
  return contentBytes + 8 + 4 * columns
}
