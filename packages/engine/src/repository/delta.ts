// Delta objects: a chunk stored as an edit script over an earlier chunk of the same key range, so
// that updating 1% of a table's rows costs about 1% of its bytes even though every 1 MiB chunk
// was touched. The chunk's id is still the hash of its full content.

import { splitLines } from '../canonical/value-encoding.js'
import { DbsnapError } from '../errors.js'

/**
 * A delta chain never gets deeper than this: the next change of the range is stored in full, and
 * readers refuse a longer chain.
 */
export const MAX_DELTA_DEPTH = 4

/** One line of a chunk and the canonical key it is matched on. */
export interface KeyedLine {
  line: string
  key: string
}

/**
 * An edit script turning `base` into `next` (both in key order), or null when it would not be
 * smaller than `limitBytes`. Ops, one per line: `=n` copy n base rows, `~n` followed by the n
 * base rows it drops, `+n` followed by n new row lines. Carrying the dropped rows makes a script
 * a diff of its own: the diff of a chunk against its base compares only the rows the script
 * touches (decision 0011).
 */
export function makeDelta(base: KeyedLine[], next: KeyedLine[], limitBytes: number): string | null {
  const positions = new Map<string, number[]>()
  for (let i = 0; i < base.length; i++) {
    const key = base[i]!.key
    const list = positions.get(key)
    if (list === undefined) positions.set(key, [i])
    else list.push(i)
  }
  const out: string[] = []
  let size = 0
  let op = ''
  let count = 0
  let pending: string[] = []
  const flush = (): void => {
    if (count === 0) return
    out.push(`${op}${count}`)
    size += op.length + String(count).length + 1
    for (const line of pending) out.push(line)
    pending = []
    count = 0
  }
  const emit = (kind: '=' | '~' | '+', n: number, line?: string): void => {
    if (op !== kind) {
      flush()
      op = kind
    }
    count += n
    if (line !== undefined) {
      pending.push(line)
      size += line.length + 1
    }
  }
  const drop = (from: number, to: number): void => {
    for (let i = from; i < to; i++) emit('~', 1, base[i]!.line)
  }
  let cursor = 0
  for (const row of next) {
    const list = positions.get(row.key)
    let match = -1
    if (list !== undefined) {
      while (list.length > 0 && list[0]! < cursor) list.shift()
      if (list.length > 0) match = list.shift()!
    }
    if (match < 0) {
      emit('+', 1, row.line)
    } else {
      drop(cursor, match)
      if (base[match]!.line === row.line) {
        emit('=', 1)
      } else {
        drop(match, match + 1)
        emit('+', 1, row.line)
      }
      cursor = match + 1
    }
    if (size > limitBytes) return null
  }
  drop(cursor, base.length)
  flush()
  if (size > limitBytes) return null
  return out.length === 0 ? '' : `${out.join('\n')}\n`
}

/**
 * One step of an edit script: copy `n` base rows; drop `n` base rows (`lines`: the rows dropped,
 * as the script carries them; absent for the older `-n` op, which does not); insert new rows.
 */
export type DeltaOp =
  { op: '='; n: number } | { op: '-'; n: number; lines?: string[] } | { op: '+'; lines: string[] }

/**
 * The steps of an edit script over a base of `baseRows` rows, checked: every base row is copied
 * or dropped exactly once. `DATA_CORRUPT` naming the object otherwise.
 */
export function parseDelta(script: string, baseRows: number, what: string, key = what): DeltaOp[] {
  const lines = splitLines(script)
  const ops: DeltaOp[] = []
  let cursor = 0
  const corrupt = (why: string): DbsnapError =>
    new DbsnapError('DATA_CORRUPT', `${what} is corrupt: ${why}`, { details: { object: key } })
  for (let i = 0; i < lines.length; i++) {
    const op = lines[i]!
    const n = Number(op.slice(1))
    if (!Number.isSafeInteger(n) || n <= 0) throw corrupt(`bad delta op "${op.slice(0, 20)}"`)
    switch (op[0]) {
      case '=':
      case '-':
      case '~':
        if (cursor + n > baseRows) throw corrupt('delta reaches past the end of its base')
        if (op[0] === '~') {
          if (i + n > lines.length - 1) throw corrupt('delta ends inside dropped rows')
          ops.push({ op: '-', n, lines: lines.slice(i + 1, i + 1 + n) })
          i += n
        } else ops.push(op[0] === '=' ? { op: '=', n } : { op: '-', n })
        cursor += n
        break
      case '+':
        if (i + n > lines.length - 1) throw corrupt('delta ends inside inserted rows')
        ops.push({ op: '+', lines: lines.slice(i + 1, i + 1 + n) })
        i += n
        break
      default:
        throw corrupt(`bad delta op "${op.slice(0, 20)}"`)
    }
  }
  if (cursor !== baseRows) throw corrupt('delta leaves base rows unaccounted for')
  return ops
}

/** An edit script applied (`applyDelta`): every `-` op carries the base rows it drops. */
export interface AppliedDelta {
  /**
   * The new chunk's content in pieces: ranges of the base and the script's new rows, in order.
   * What its id is checked against; joined only by a reader that keeps the content.
   */
  pieces: Buffer[]
  /** How many rows the base holds. */
  baseRows: number
  ops: (
    { op: '='; n: number } | { op: '-'; n: number; lines: string[] } | { op: '+'; lines: string[] }
  )[]
}

/**
 * Applies an edit script to the content of its base chunk. The new content is built from byte
 * ranges of the base, so no base row is decoded but the ones dropped; those must be the rows the
 * script says it drops (`DATA_CORRUPT` naming `what` otherwise), and they come back in `ops`,
 * also for the older `-n` op, so that a diff of the pair needs nothing else.
 */
export function applyDelta(base: Buffer, script: string, what: string, key = what): AppliedDelta {
  const corrupt = (why: string): DbsnapError =>
    new DbsnapError('DATA_CORRUPT', `${what} is corrupt: ${why}`, { details: { object: key } })
  if (base.byteLength > 0 && base[base.byteLength - 1] !== NEWLINE) {
    throw corrupt('its base does not end in a newline')
  }
  // Where each base row starts; the last entry is the end of the base.
  const starts: number[] = [0]
  for (let at = base.indexOf(NEWLINE); at >= 0; at = base.indexOf(NEWLINE, at + 1)) {
    starts.push(at + 1)
  }
  const baseRows = starts.length - 1
  const pieces: Buffer[] = []
  const ops: AppliedDelta['ops'] = []
  let cursor = 0
  for (const step of parseDelta(script, baseRows, what, key)) {
    if (step.op === '+') {
      pieces.push(Buffer.from(`${step.lines.join('\n')}\n`, 'utf8'))
      ops.push(step)
      continue
    }
    const from = starts[cursor]!
    const to = starts[cursor + step.n]!
    if (step.op === '=') {
      pieces.push(base.subarray(from, to))
      ops.push(step)
    } else {
      const dropped = base.toString('utf8', from, to - 1).split('\n')
      if (step.lines?.some((line, k) => line !== dropped[k]) === true) {
        throw corrupt('it drops rows its base does not hold')
      }
      ops.push({ op: '-', n: step.n, lines: dropped })
    }
    cursor += step.n
  }
  return { pieces, baseRows, ops }
}

const NEWLINE = 0x0a
