// Delta objects: a chunk stored as an edit script over an earlier chunk of the same key range, so
// that updating 1% of a table's rows costs about 1% of its bytes even though every 1 MiB chunk
// was touched. The chunk's id is still the hash of its full content.

import { splitLines } from '../canonical/value-encoding.js'
import { DbsnapError } from '../errors.js'

/** One line of a chunk and the canonical key it is matched on. */
export interface KeyedLine {
  line: string
  key: string
}

/**
 * An edit script turning `base` into `next` (both in key order), or null when it would not be
 * smaller than `limitBytes`. Ops, one per line: `=n` copy n base rows, `-n` drop n base rows,
 * `+n` followed by n new row lines.
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
    if (op === '+') {
      for (const line of pending) out.push(line)
      pending = []
    }
    count = 0
  }
  const emit = (kind: '=' | '-' | '+', n: number, line?: string): void => {
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
      if (match > cursor) emit('-', match - cursor)
      if (base[match]!.line === row.line) {
        emit('=', 1)
      } else {
        emit('-', 1)
        emit('+', 1, row.line)
      }
      cursor = match + 1
    }
    if (size > limitBytes) return null
  }
  if (cursor < base.length) emit('-', base.length - cursor)
  flush()
  if (size > limitBytes) return null
  return out.length === 0 ? '' : `${out.join('\n')}\n`
}

/** Applies an edit script to the lines of a base chunk; the result is the new chunk's content. */
export function applyDelta(baseContent: string, script: string, what: string, key = what): string {
  const base = splitLines(baseContent)
  const lines = splitLines(script)
  const out: string[] = []
  let cursor = 0
  const corrupt = (why: string): DbsnapError =>
    new DbsnapError('DATA_CORRUPT', `${what} is corrupt: ${why}`, { details: { object: key } })
  for (let i = 0; i < lines.length; i++) {
    const op = lines[i]!
    const n = Number(op.slice(1))
    if (!Number.isSafeInteger(n) || n <= 0) throw corrupt(`bad delta op "${op.slice(0, 20)}"`)
    switch (op[0]) {
      case '=':
        if (cursor + n > base.length) throw corrupt('delta copies past the end of its base')
        for (let k = 0; k < n; k++) out.push(base[cursor + k]!)
        cursor += n
        break
      case '-':
        if (cursor + n > base.length) throw corrupt('delta drops past the end of its base')
        cursor += n
        break
      case '+':
        if (i + n > lines.length - 1) throw corrupt('delta ends inside inserted rows')
        for (let k = 1; k <= n; k++) out.push(lines[i + k]!)
        i += n
        break
      default:
        throw corrupt(`bad delta op "${op.slice(0, 20)}"`)
    }
  }
  if (cursor !== base.length) throw corrupt('delta leaves base rows unaccounted for')
  return out.length === 0 ? '' : `${out.join('\n')}\n`
}
