// The one definition of a valid storage key, list prefix and read range, so that every Storage
// accepts and refuses exactly the same arguments, before any I/O.

import { DbsnapError } from '../errors.js'

/** Longest key accepted: S3's limit is 1024 bytes, and keys are ASCII. */
const MAX_KEY_LENGTH = 1024

/** Longest segment accepted: most filesystems refuse longer file names. */
export const MAX_SEGMENT_LENGTH = 255

/**
 * The top-level name that holds the temporary files of unfinished puts (fs storage). Reserved
 * in every storage so that a repository layout valid on one storage is valid on all.
 */
export const RESERVED_TOP_LEVEL = 'tmp'

const SEGMENT = /^[A-Za-z0-9._-]+$/

/** Why `key` is not a valid key, or undefined when it is. */
function keyProblem(key: string): string | undefined {
  if (key === '') return 'it is empty'
  if (key.length > MAX_KEY_LENGTH) return `it is longer than ${MAX_KEY_LENGTH} characters`
  if (key.startsWith('/')) return 'it starts with "/"'
  const segments = key.split('/')
  for (const segment of segments) {
    const problem = segmentProblem(segment)
    if (problem !== undefined) return problem
  }
  if (segments[0] === RESERVED_TOP_LEVEL) {
    return `the top-level name "${RESERVED_TOP_LEVEL}" is reserved for temporary files`
  }
  return undefined
}

function segmentProblem(segment: string): string | undefined {
  if (segment === '') return 'it has an empty segment ("//" or a trailing "/")'
  if (segment === '.' || segment === '..') return `it has a "${segment}" segment`
  if (segment.length > MAX_SEGMENT_LENGTH) {
    return `a segment is longer than ${MAX_SEGMENT_LENGTH} characters`
  }
  if (!SEGMENT.test(segment)) return 'it has characters outside [A-Za-z0-9._-/]'
  return undefined
}

/** True when `key` is a valid storage key (see `assertValidKey`). */
export function isValidKey(key: string): boolean {
  return keyProblem(key) === undefined
}

/**
 * Throws `INVALID_ARGUMENT` unless `key` is a valid storage key: relative, `/`-separated,
 * segments of `[A-Za-z0-9._-]` that are neither `.` nor `..`, at most 1024 characters, and not
 * starting with the reserved top-level name `tmp`.
 *
 * @example
 * assertValidKey('chunks/ab/abcdef') // ok
 * assertValidKey('../etc/passwd') // throws INVALID_ARGUMENT
 */
export function assertValidKey(key: string): void {
  const problem = keyProblem(key)
  if (problem !== undefined) {
    throw new DbsnapError(
      'INVALID_ARGUMENT',
      `expected a storage key like "chunks/ab/abcd", got ${quote(key)}: ${problem}`,
      { details: { key: key.slice(0, 200) } },
    )
  }
}

/**
 * Throws `INVALID_ARGUMENT` unless `prefix` is a valid list prefix: `''`, or the start of a
 * valid key, where every segment but the last is complete (`chunks/`, `chunks/ab`, `snap`).
 */
export function assertValidPrefix(prefix: string): void {
  let problem: string | undefined
  if (prefix === '') problem = undefined
  else if (prefix.length > MAX_KEY_LENGTH)
    problem = `it is longer than ${MAX_KEY_LENGTH} characters`
  else if (prefix.startsWith('/')) problem = 'it starts with "/"'
  else {
    const segments = prefix.split('/')
    const last = segments.pop() ?? ''
    problem = segments.map(segmentProblem).find((p) => p !== undefined)
    if (problem === undefined && last !== '' && !SEGMENT.test(last)) {
      problem = 'it has characters outside [A-Za-z0-9._-/]'
    }
  }
  if (problem !== undefined) {
    throw new DbsnapError(
      'INVALID_ARGUMENT',
      `expected a storage key prefix like "chunks/" or "", got ${quote(prefix)}: ${problem}`,
      { details: { prefix: prefix.slice(0, 200) } },
    )
  }
}

/** Throws `INVALID_ARGUMENT` unless `offset` and `length` are non-negative safe integers. */
export function assertValidRange(range: { offset: number; length: number }): void {
  const { offset, length } = range
  if (!isCount(offset) || !isCount(length)) {
    throw new DbsnapError(
      'INVALID_ARGUMENT',
      `expected a range of non-negative integers, got offset ${String(offset)} and length ${String(length)}`,
    )
  }
}

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0
}

/** A key for a message: quoted, escaped, and cut short when long. */
function quote(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)
}
