// Parser for PostgreSQL's COPY TEXT format (the output of `COPY … TO STDOUT`), fed Buffer chunks
// as they come off the socket. It decides the speed of a snapshot, so it works on whole strings.

import { DbsnapError } from '../../errors.js'

/** One row of COPY TEXT output: each column's text, `null` for SQL NULL (`\N`). */
export type CopyTextRow = (string | null)[]

const LF = 0x0a
const BACKSLASH = 92
/** Char code of `N`: `\N` is how COPY writes NULL. */
const CHAR_N = 78

/**
 * Fatal, so that bytes made by octal/hex escapes that are not UTF-8 fail instead of turning into
 * U+FFFD; `ignoreBOM`, so that a field starting with U+FEFF keeps it (a decoder drops a leading
 * byte order mark by default).
 */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * Incremental parser of COPY TEXT format (PostgreSQL manual, COPY, "Text Format"): rows end with
 * LF, columns are separated by a tab, `\N` is NULL, and backslash escapes `\b \f \n \r \t \v \\`,
 * octal `\7`…`\377` and hex `\xH`/`\xHH` stand for bytes; any other backslashed character stands
 * for itself (so `\` + tab is a data tab and `\` + LF a data newline, which `COPY TO` never writes
 * but the format allows). The input must be UTF-8 (`client_encoding` is pinned to UTF8) with LF
 * line ends, as `COPY TO` writes them.
 *
 * Chunks may split rows and multi-byte characters anywhere. Each chunk is decoded to a string once
 * and cut with `indexOf`; a field without a backslash is a plain slice, only fields with escapes
 * take the character-by-character path.
 *
 * @example
 * const parser = new CopyTextParser({ fieldCount: 2 })
 * parser.push(Buffer.from('1\ta\\tb\n2\t\\N\n')) // [['1', 'a\tb'], ['2', null]]
 * parser.end()
 */
export class CopyTextParser {
  readonly #fieldCount: number | undefined
  /** Bytes of the row still incomplete at the end of the last chunk. */
  #carry: Buffer[] = []
  #rowsParsed = 0

  /**
   * @param options.fieldCount - columns each row must have; a row with another number of fields
   *   is an `INTERNAL` error (it means the stream is not what the query asked for). With `0`,
   *   an empty line is a row of no columns (`COPY (SELECT FROM t)`).
   */
  constructor(options: { fieldCount?: number } = {}) {
    this.#fieldCount = options.fieldCount
  }

  /** Rows completed so far, over all chunks. */
  get rowsParsed(): number {
    return this.#rowsParsed
  }

  /** Parses one more chunk and returns the rows it completes (often none for a tiny chunk). */
  push(chunk: Uint8Array): CopyTextRow[] {
    const buf = Buffer.isBuffer(chunk)
      ? chunk
      : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    const rows: CopyTextRow[] = []
    // LF (0x0a) never occurs inside a multi-byte UTF-8 sequence, so cutting after one leaves only
    // whole characters on each side.
    const lastLf = buf.lastIndexOf(LF)
    if (lastLf === -1) {
      if (buf.length > 0) this.#carry.push(Buffer.from(buf))
      return rows
    }
    let from = 0
    if (this.#carry.length > 0) {
      // Finish the carried row on its own so that the rest of the chunk needs no copy.
      const firstLf = buf.indexOf(LF)
      this.#carry.push(buf.subarray(0, firstLf + 1))
      const head = Buffer.concat(this.#carry)
      this.#carry = []
      const rest = this.#parseText(head.toString('utf8'), rows)
      if (rest !== undefined) {
        // The LF was escaped (`\` + LF): the row goes on in the rest of this chunk.
        this.#carry.push(Buffer.from(rest, 'utf8'), buf.subarray(firstLf + 1))
        const all = Buffer.concat(this.#carry)
        this.#carry = []
        for (const row of this.push(all)) rows.push(row)
        return rows
      }
      from = firstLf + 1
    }
    if (from <= lastLf) {
      const rest = this.#parseText(buf.toString('utf8', from, lastLf + 1), rows)
      if (rest !== undefined) this.#carry.push(Buffer.from(rest, 'utf8'))
    }
    if (lastLf + 1 < buf.length) this.#carry.push(Buffer.from(buf.subarray(lastLf + 1)))
    return rows
  }

  /** Declares the input complete; throws `INTERNAL` when it ended inside a row. */
  end(): void {
    const left = this.#carry.reduce((n, b) => n + b.length, 0)
    this.#carry = []
    if (left > 0) {
      throw new DbsnapError(
        'INTERNAL',
        `COPY output ended inside a row (${left} bytes after row ${this.#rowsParsed})`,
      )
    }
  }

  /**
   * Parses complete lines (`s` ends with LF) into `rows`. Returns the text of a trailing row that
   * is not complete after all (its last LF was escaped), or undefined.
   */
  #parseText(s: string, rows: CopyTextRow[]): string | undefined {
    const n = s.length
    const fieldCount = this.#fieldCount
    // Next tab and next backslash at or after the current position, found once and reused while
    // still ahead: a narrow table's tab may be many lines away, and rescanning for it per field
    // would be quadratic.
    let tab = -1
    let bs = -1
    let pos = 0
    while (pos < n) {
      const lf = s.indexOf('\n', pos)
      if (lf === pos && fieldCount === 0) {
        rows.push([])
        this.#rowsParsed++
        pos = lf + 1
        continue
      }
      const row: CopyTextRow = []
      let start = pos
      let next: number
      for (;;) {
        if (tab < start) {
          tab = s.indexOf('\t', start)
          if (tab === -1) tab = n
        }
        if (bs < start) {
          bs = s.indexOf('\\', start)
          if (bs === -1) bs = n
        }
        const end = tab < lf ? tab : lf
        if (bs < end) {
          // Escapes can hide a tab or LF, so the rest of the row is read character by character.
          next = this.#parseEscaped(s, start, row)
          break
        }
        row.push(s.slice(start, end))
        if (end === lf) {
          next = lf + 1
          break
        }
        start = end + 1
      }
      if (next === -1) return s.slice(pos)
      if (fieldCount !== undefined && row.length !== fieldCount) {
        throw new DbsnapError(
          'INTERNAL',
          `COPY row ${this.#rowsParsed + 1} has ${row.length} fields, expected ${fieldCount}`,
        )
      }
      rows.push(row)
      this.#rowsParsed++
      pos = next
    }
    return undefined
  }

  /**
   * Reads the fields of a row from `start` (a field start) to its unescaped LF, appending them to
   * `row`. Returns the position after the LF, or -1 when `s` ends before the row does.
   */
  #parseEscaped(s: string, start: number, row: CopyTextRow): number {
    const n = s.length
    let i = start
    while (i < n) {
      const fieldStart = i
      let out = ''
      // Set once an octal or hex escape made a raw byte: the field is then assembled as bytes and
      // decoded at its end, since several such bytes may form one character.
      let bytes: Buffer[] | null = null
      let run = i
      let c = 0
      for (; i < n; i++) {
        c = s.charCodeAt(i)
        if (c === 9 || c === LF) break
        if (c !== BACKSLASH) continue
        if (i + 1 >= n) return -1
        const literal = s.slice(run, i)
        if (bytes === null) out += literal
        else if (literal !== '') bytes.push(Buffer.from(literal, 'utf8'))
        const e = s.charCodeAt(i + 1)
        i += 1
        let byte = -1
        let text: string
        switch (e) {
          case 98: // b
            text = '\b'
            break
          case 102: // f
            text = '\f'
            break
          case 110: // n
            text = '\n'
            break
          case 114: // r
            text = '\r'
            break
          case 116: // t
            text = '\t'
            break
          case 118: // v
            text = '\v'
            break
          case 120: {
            // x: one or two hex digits make a byte; `\x` without one is a plain `x`.
            const h1 = hexValue(s.charCodeAt(i + 1))
            if (h1 === -1) {
              text = 'x'
              break
            }
            i += 1
            byte = h1
            const h2 = hexValue(s.charCodeAt(i + 1))
            if (h2 !== -1) {
              i += 1
              byte = (byte << 4) | h2
            }
            text = ''
            break
          }
          default:
            if (e >= 48 && e <= 55) {
              // Octal: up to three digits, the value taken modulo 256 as PostgreSQL does.
              byte = e - 48
              for (let k = 0; k < 2; k++) {
                const d = s.charCodeAt(i + 1)
                if (!(d >= 48 && d <= 55)) break
                i += 1
                byte = (byte << 3) | (d - 48)
              }
              byte &= 0xff
              text = ''
            } else if (e >= 0xd800 && e <= 0xdbff) {
              // A character outside the BMP is two UTF-16 units; keep the pair together.
              text = s.slice(i, i + 2)
              i += 1
            } else {
              text = s[i] ?? ''
            }
        }
        if (byte !== -1) {
          if (bytes === null) bytes = out === '' ? [] : [Buffer.from(out, 'utf8')]
          bytes.push(Buffer.of(byte))
        } else if (bytes === null) out += text
        else bytes.push(Buffer.from(text, 'utf8'))
        run = i + 1
      }
      if (i >= n) return -1
      if (i - fieldStart === 2 && s.charCodeAt(fieldStart) === BACKSLASH) {
        if (s.charCodeAt(fieldStart + 1) === CHAR_N) {
          row.push(null)
          if (c === LF) return i + 1
          i++
          continue
        }
      }
      const literal = s.slice(run, i)
      if (bytes === null) row.push(out + literal)
      else {
        if (literal !== '') bytes.push(Buffer.from(literal, 'utf8'))
        row.push(decodeBytes(Buffer.concat(bytes), this.#rowsParsed + 1))
      }
      if (c === LF) return i + 1
      i++
    }
    return -1
  }
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  if (c >= 97 && c <= 102) return c - 87
  if (c >= 65 && c <= 70) return c - 55
  return -1
}

function decodeBytes(bytes: Buffer, row: number): string {
  try {
    return utf8.decode(bytes)
  } catch (cause) {
    throw new DbsnapError(
      'DATA_CORRUPT',
      `COPY row ${row} has octal or hex escapes whose ${bytes.length} bytes are not UTF-8`,
      { cause },
    )
  }
}

/**
 * Parses a whole COPY TEXT stream, yielding the rows each chunk completes (a batch per chunk,
 * possibly empty chunks skipped) so that the per-row cost stays out of the async machinery.
 */
export async function* parseCopyText(
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: { fieldCount?: number } = {},
): AsyncGenerator<CopyTextRow[], void, undefined> {
  const parser = new CopyTextParser(options)
  for await (const chunk of chunks) {
    const rows = parser.push(chunk)
    if (rows.length > 0) yield rows
  }
  parser.end()
}

/**
 * The COPY TEXT form of one field: what `COPY TO` writes for the value (`\N` for null; backslash,
 * and the control characters it has letters for, escaped). For tests and for writing COPY input.
 */
export function copyTextField(value: string | null): string {
  if (value === null) return '\\N'
  return value.replace(/[\\\b\f\n\r\t\v]/g, (ch) => COPY_ESCAPES[ch] ?? ch)
}

const COPY_ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
  '\v': '\\v',
}

/** One row as a COPY TEXT line, LF included. */
export function copyTextLine(row: readonly (string | null)[]): string {
  return `${row.map(copyTextField).join('\t')}\n`
}
