import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { assertValidKey, assertValidPrefix, assertValidRange, isValidKey } from './keys.js'

const SEGMENT_CHARS = 'abcXYZ019._-'.split('')

/** Segments the grammar allows: non-empty, of allowed characters, not `.` or `..`. */
const segment = fc
  .array(fc.constantFrom(...SEGMENT_CHARS), { minLength: 1, maxLength: 12 })
  .map((chars) => chars.join(''))
  .filter((s) => s !== '.' && s !== '..')

const validKey = fc
  .array(segment, { minLength: 1, maxLength: 6 })
  .filter((segments) => segments[0] !== 'tmp')
  .map((segments) => segments.join('/'))

describe('assertValidKey', () => {
  it.each([
    'config',
    'chunks/ab/abcdef0123',
    'snapshots/2024-01-01T00.00.00_x',
    '.hidden',
    'a/.b/..c',
    'tmpfoo/x',
    'x/tmp',
    'a'.repeat(255),
  ])('accepts %j', (key) => {
    expect(() => assertValidKey(key)).not.toThrow()
    expect(isValidKey(key)).toBe(true)
  })

  it.each([
    ['', /empty/],
    ['/abs', /starts with "\/"/],
    ['a//b', /empty segment/],
    ['a/', /empty segment/],
    ['.', /"\." segment/],
    ['a/../b', /"\.\." segment/],
    ['a b', /characters outside/],
    ['a\\b', /characters outside/],
    ['é', /characters outside/],
    ['tmp', /reserved/],
    ['tmp/x', /reserved/],
    ['a'.repeat(256), /segment is longer than 255/],
    [`${'a/'.repeat(600)}a`, /longer than 1024/],
  ])('rejects %j with INVALID_ARGUMENT saying why', (key, why) => {
    expect(isValidKey(key)).toBe(false)
    expect(() => assertValidKey(key)).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(why) as string,
      }) as Error,
    )
  })

  it('accepts every key of the grammar, and every prefix of one as a list prefix', () => {
    fc.assert(
      fc.property(validKey, fc.nat(), (key, cut) => {
        assertValidKey(key)
        assertValidPrefix(key.slice(0, cut % (key.length + 1)))
      }),
    )
  })

  it('rejects any key with a character outside the grammar', () => {
    fc.assert(
      fc.property(
        validKey,
        fc.string({ minLength: 1, maxLength: 1 }).filter((c) => !/[A-Za-z0-9._/-]/.test(c)),
        fc.nat(),
        (key, bad, at) => {
          const i = at % (key.length + 1)
          expect(isValidKey(key.slice(0, i) + bad + key.slice(i))).toBe(false)
        },
      ),
    )
  })
})

describe('assertValidPrefix', () => {
  it.each(['', 'chunks/', 'chunks/a', 'snap', 'a/b/', 'tmp/', 'a/.'])('accepts %j', (prefix) => {
    expect(() => assertValidPrefix(prefix)).not.toThrow()
  })

  it.each(['/a', 'a//', '../', 'a/../b', 'a b', 'x\\'])('rejects %j', (prefix) => {
    expect(() => assertValidPrefix(prefix)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }) as Error,
    )
  })
})

describe('assertValidRange', () => {
  it.each([
    [0, 0],
    [10, 5],
    [Number.MAX_SAFE_INTEGER, 1],
  ])('accepts offset %d, length %d', (offset, length) => {
    expect(() => assertValidRange({ offset, length })).not.toThrow()
  })

  it.each([
    [-1, 1],
    [0, -1],
    [0.5, 1],
    [Number.NaN, 1],
    [0, Number.POSITIVE_INFINITY],
  ])('rejects offset %d, length %d', (offset, length) => {
    expect(() => assertValidRange({ offset, length })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }) as Error,
    )
  })
})
